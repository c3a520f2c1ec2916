"""Stage 4, record: what a check writes — its answer, one usage record (用证记录) per record
found or question left unanswered, and the data problems it met — and the sealed request the
re-check queue keeps. The recorder (matcher.store.recorder) commits it before the answer is sent."""

from __future__ import annotations

from matcher.problems.detect import Findings
from matcher.store.rechecks import recheck_context
from matcher.store.records import CheckRecord, UsageRecord
from matcher.store.sealed import Sealer, open_text, seal_text
from matcher.waiver.decide import SpecOutcome
from matcher.waiver.payloads import WaiveCheckResponse
from matcher.waiver.plan import Lookup

__all__ = ["check_record", "open_request", "seal_request"]


def check_record(
    response: WaiveCheckResponse,
    requester: str,
    req_hash: str,
    lookups: list[Lookup],
    found: dict[str, list[SpecOutcome]],
    findings: Findings,
) -> CheckRecord:
    """The check's row, its usage records and its data problems, as one record to commit."""
    usage: list[UsageRecord] = []
    verified_ids = {
        (c.evidence.registry, c.evidence.id): c.verification.verified
        for specs in found.values()
        for o in specs
        for c in o.found
    }
    for lk in lookups:
        q = lk.query
        who = (lk.role, q.holder.id_type, q.holder.id, lk.adapter.name, q.kind)
        if lk.items:
            usage += [
                UsageRecord(
                    *who,
                    e.type,
                    e.id,
                    "found",
                    verified_ids.get((e.registry, e.id)),
                    lk.from_cache,
                )
                for e in lk.items
            ]
        else:
            outcome = "none" if lk.status == "answered" else lk.status
            usage += [UsageRecord(*who, t, None, outcome, None, lk.from_cache) for t in q.types]
    return CheckRecord(
        check_id=response.check_id,
        requester=requester,
        application_id=response.application_id,
        matter_code=response.matter_code,
        request_hash=req_hash,
        response_json=response.model_dump_json(),
        created_at=response.checked_at,
        usage=tuple(usage),
        problems=tuple(findings.problems.values()),
    )


def seal_request(sealer: Sealer | None, text: str, requester: str) -> str:
    """A request as the re-check queue keeps it: sealed (it holds holders' ID numbers)."""
    return text if sealer is None else seal_text(sealer, text, recheck_context(requester))


def open_request(sealer: Sealer | None, text: str, requester: str) -> str:
    return text if sealer is None else open_text(sealer, text, recheck_context(requester))
