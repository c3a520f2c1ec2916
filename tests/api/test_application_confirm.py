"""The clerk's side of an application, through the service the pages call: settle values, confirm,
print. The application itself arrives over real HTTP from the sandbox-backed API."""

from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pymupdf
import pytest

from matcher.api import create_app
from matcher.applications.service import ApplicationService
from matcher.errors import ApplicationNotFound, ConflictError, InputError
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.wiring import build_services
from tests.api.conftest import Sandbox, applicant
from tests.extract.corpus import make_samples


@contextmanager
def _serve(
    sandbox: Sandbox, database: str, tmp_path: Path, **registry: Any
) -> Iterator[tuple[httpx.Client, ApplicationService]]:
    """The API over real HTTP, and the application service its pages would call."""
    settings = Settings(
        trust_store=sandbox.trust_store,
        database_url=database,
        state_dir=tmp_path,
        registries=[
            RegistryConfig(
                name="zs-elicence", adapter="elicence", base_url=sandbox.url, **registry
            ),
            RegistryConfig(
                name="zs-datacert", adapter="datacert", base_url=sandbox.url, **registry
            ),
        ],
    )
    services = build_services(settings)
    try:
        with (
            ServerThread(create_app(settings, services)) as server,
            httpx.Client(base_url=server.url, timeout=30) as client,
        ):
            yield client, services.applications
    finally:
        services.records.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def served(
    request: pytest.FixtureRequest, sandbox: Sandbox, tmp_path: Path
) -> Iterator[tuple[httpx.Client, ApplicationService]]:
    database = (
        f"sqlite:///{tmp_path / 'matcher.db'}"
        if request.param == "sqlite"
        else request.getfixturevalue("postgres_url")
    )
    with _serve(sandbox, database, tmp_path) as both:
        yield both


def _submit(
    client: httpx.Client, holders: dict[str, Any], app_id: str, **extra: Any
) -> dict[str, Any]:
    body = {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": app_id,
        **extra,
    }
    r = client.post("/v1/applications", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def test_confirm_records_who_the_final_values_and_the_changes(
    served: tuple[httpx.Client, ApplicationService], holders: dict[str, Any]
) -> None:
    client, service = served
    app = _submit(client, holders, "CONFIRM-1")
    key = app["id"]
    with pytest.raises(InputError, match="移动电话：必填"):
        service.confirm(key, clerk="clerk-li")
    with pytest.raises(InputError, match="不是有效的电话号码") as bad:
        service.set_value(key, "lr_mobile", "1380013", clerk="clerk-li")
    assert bad.value.field == "lr_mobile"
    service.set_value(key, "lr_mobile", "138 0013 8000", clerk="clerk-li")
    service.set_value(
        key, "address", "浙江省舟山市定海区解放西路１２８号３幢５０２室", clerk="clerk-li"
    )
    service.set_value(key, "company_name", "舟山港伟海运服务有限公司", clerk="clerk-wang")
    done = service.confirm(key, clerk="clerk-wang")
    assert done.status == "confirmed" and done.confirmation is not None
    assert done.confirmation.by == "clerk-wang"
    values = done.confirmation.values
    assert values["company_name"] == "舟山港伟海运服务有限公司"
    assert values["lr_name"] == "张伟"
    changes = {c.key: c for c in done.confirmation.changes}
    # The address typed in full-width digits is the pre-filled value: kept, not a change.
    assert set(changes) == {"lr_mobile", "company_name"}
    assert (changes["company_name"].prefilled, changes["company_name"].how) == (
        "舟山港伟船舶服务有限公司",
        "typed",
    )
    assert done.edits["address"].how == "prefilled"
    # Durable: a fresh read over HTTP shows the same, and nothing can change it any more.
    kept = client.get("/v1/applications/CONFIRM-1").json()
    assert kept["status"] == "confirmed"
    assert kept["confirmation"]["values"]["lr_mobile"] == "138 0013 8000"
    assert kept["confirmation"]["by"] == "clerk-wang"
    with pytest.raises(ConflictError):
        service.set_value(key, "lr_mobile", "13900139000", clerk="clerk-li")
    with pytest.raises(ConflictError):
        service.confirm(key, clerk="clerk-li")
    pdf = client.get("/v1/applications/CONFIRM-1/form.pdf", params={"flatten": "true"})
    text = "".join(p.get_text() for p in pymupdf.open(stream=pdf.content, filetype="pdf"))
    assert "舟山港伟海运服务有限公司" in text and "138 0013 8000" in text
    assert "舟山港伟船舶服务有限公司" not in text


def test_a_conflict_must_be_settled_before_confirming(
    served: tuple[httpx.Client, ApplicationService], holders: dict[str, Any]
) -> None:
    client, service = served
    other = make_samples("id_card_front", 3)[2]  # somebody else's card, uploaded by mistake
    r = client.post(
        "/v1/files", files={"file": ("card.pdf", io.BytesIO(other.pdf_bytes), "application/pdf")}
    )
    assert r.status_code == 201, r.text
    upload = {"material_code": "legal-rep-id", "file_id": r.json()["file_id"]}
    app = _submit(client, holders, "CONFIRM-2", uploads=[upload])
    key = app["id"]
    service.set_value(key, "lr_mobile", "13800138000", clerk="clerk-li")
    with pytest.raises(InputError, match="姓名：来源之间不一致"):
        service.confirm(key, clerk="clerk-li")
    # The clerk checks the person at the window and keeps the registry's value; where the upload
    # was right, choosing its value keeps the upload as the source.
    service.set_value(key, "lr_name", "张伟", clerk="clerk-li")
    kept = service.set_value(
        key, "lr_household_address", "浙江省舟山市定海区解放西路128号3幢502室", clerk="clerk-li"
    )
    assert kept.edits["lr_household_address"].how == "prefilled"
    chosen = service.set_value(key, "lr_id_number", other.truth["id_number"], clerk="clerk-li")
    assert chosen.edits["lr_id_number"].how == "candidate"
    source = chosen.edits["lr_id_number"].source
    assert source is not None and source.kind == "upload"
    assert source.record_id == upload["file_id"]
    done = service.confirm(key, clerk="clerk-li")
    assert done.confirmation is not None
    assert [c.key for c in done.confirmation.changes] == ["lr_id_number", "lr_mobile"]
    with pytest.raises(ApplicationNotFound):
        service.set_value("no-such-id", "lr_mobile", "13800138000", clerk="c")


def test_a_registry_outage_leaves_fields_empty_and_a_resend_fills_them(
    faulty_sandbox: Sandbox, holders: dict[str, Any], tmp_path: Path
) -> None:
    database = f"sqlite:///{tmp_path / 'matcher.db'}"
    # A breaker that never opens: the outage ends when the test says so.
    with _serve(faulty_sandbox, database, tmp_path, timeout_s=0.6, breaker_failures=1000) as (
        client,
        _,
    ):
        _outage_and_recovery(faulty_sandbox, client, holders)


def _outage_and_recovery(
    faulty_sandbox: Sandbox, client: httpx.Client, holders: dict[str, Any]
) -> None:
    faulty_sandbox.faults(fault_rate=1.0, fault_mode="5xx")
    first = _submit(client, holders, "OUTAGE-1")
    assert first["check"]["summary"]["waived"] == 0
    fields = {f["key"]: f for f in first["form"]["fields"]}
    # Nothing unverified fills a field: only the request and what derives from it remain.
    assert fields["company_name"]["value"] is None
    assert {f["source"]["kind"] for f in first["form"]["fields"] if f["source"]} <= {
        "request",
        "derived",
    }
    faulty_sandbox.faults(fault_rate=0.0)
    second = _submit(client, holders, "OUTAGE-1")
    assert second["id"] == first["id"]
    assert second["check"]["check_id"] != first["check"]["check_id"]
    assert second["form"]["fill_rate"] >= 0.9
    assert _submit(client, holders, "OUTAGE-1")["check"]["check_id"] == second["check"]["check_id"]
