"""Stage 4, record: one usage record per record found or question left unanswered."""

from __future__ import annotations

import datetime as dt

from adapters.model import EvidenceQuery
from matcher.problems.detect import Findings
from matcher.store.sealed import Sealer
from matcher.waiver.payloads import Summary, WaiveCheckResponse
from matcher.waiver.plan import Lookup
from matcher.waiver.record import check_record, open_request, seal_request
from tests.waiver.stages import APPLICANT, CERT, LICENCE, adapter, record

NOW = dt.datetime(2026, 12, 7, 9, 0, tzinfo=dt.UTC)


def _response() -> WaiveCheckResponse:
    return WaiveCheckResponse(
        check_id="c-1",
        matter_code="m",
        matter_name="测试事项",
        application_id="A-1",
        checked_at=NOW,
        decisions=[],
        summary=Summary(waived=0, required=0, review=0),
        warnings=[],
    )


def _lookup(kind: str, types: tuple[str, ...], status: str, *items: object) -> Lookup:
    lookup = Lookup(
        adapter(f"r-{kind}", kind),
        "applicant",
        EvidenceQuery(kind=kind, holder=APPLICANT, types=types),  # type: ignore[arg-type]
        status=status,
    )
    lookup.items = list(items)  # type: ignore[arg-type]
    return lookup


def test_usage_records_say_found_none_or_unavailable() -> None:
    lookups = [
        _lookup("e_licence", (LICENCE,), "answered", record(id_="E1"), record(id_="E2")),
        _lookup("data_certificate", (CERT,), "answered"),
        _lookup("data_certificate", ("residence_record",), "unavailable"),
    ]
    rec = check_record(_response(), "sys-a", "h", lookups, {}, Findings())
    assert [(u.registry, u.evidence_type, u.evidence_id, u.outcome) for u in rec.usage] == [
        ("r-e_licence", LICENCE, "E1", "found"),
        ("r-e_licence", LICENCE, "E2", "found"),
        ("r-data_certificate", CERT, None, "none"),
        ("r-data_certificate", "residence_record", None, "unavailable"),
    ]
    assert {u.holder_id for u in rec.usage} == {APPLICANT.id}
    assert (rec.check_id, rec.requester, rec.application_id) == ("c-1", "sys-a", "A-1")
    assert rec.response_json == _response().model_dump_json()


def test_a_queued_request_is_sealed_for_its_requester_only() -> None:
    sealer = Sealer({"k1": b"\x01" * 32}, "k1")
    sealed = seal_request(sealer, '{"id": "330902198103150314"}', "sys-a")
    assert "330902198103150314" not in sealed
    assert open_request(sealer, sealed, "sys-a") == '{"id": "330902198103150314"}'
    assert seal_request(None, "plain", "sys-a") == "plain"
