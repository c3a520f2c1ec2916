"""Filing data problems inside the checks' group commit: one report per key, repeats counted,
and a filing that fails never costs a check its record."""

from __future__ import annotations

import datetime as dt
import json
import uuid

from sqlalchemy import select, text

from matcher.store.records import (
    CheckRecord,
    DataProblem,
    Records,
    data_problem_occurrences,
    data_problems,
)


def _problem(key: str, evidence_id: str = "LIC-1", **more: object) -> DataProblem:
    return DataProblem(
        registry="zs-elicence",
        evidence_id=evidence_id,
        evidence_type="T001",
        issuer_code="113309000026088718",
        problem="signature_invalid",
        key=key,
        department="zs-nrp",
        evidence_json=json.dumps({"id": evidence_id}),
        **more,  # type: ignore[arg-type]
    )


def _check(*problems: DataProblem, at: dt.datetime | None = None) -> CheckRecord:
    check_id = str(uuid.uuid4())
    return CheckRecord(
        check_id=check_id,
        requester="biz",
        application_id=None,
        matter_code="indiv-establish",
        request_hash="",
        response_json=f'{{"check_id": "{check_id}"}}',
        created_at=at or dt.datetime.now(dt.UTC),
        usage=(),
        problems=problems,
    )


def _reports(records: Records, key: str) -> list[dict[str, object]]:
    with records.engine.connect() as conn:
        rows = conn.execute(select(data_problems).where(data_problems.c.problem_key == key))
        return [dict(r._mapping) for r in rows]


def test_repeats_in_one_batch_and_across_batches_count_on_one_report(records: Records) -> None:
    key = uuid.uuid4().hex
    t0 = dt.datetime(2026, 12, 1, 8, tzinfo=dt.UTC)
    first, second = _check(_problem(key), at=t0), _check(_problem(key), at=t0 + dt.timedelta(1))
    records.save_checks([(first, None), (second, None)])
    third = _check(_problem(key), at=t0 + dt.timedelta(2))
    records.save_check(third)
    (report,) = _reports(records, key)
    assert report["occurrences"] == 3
    assert report["first_check_id"] == first.check_id
    assert report["last_check_id"] == third.check_id
    assert report["status"] == "open"
    for check in (first, second, third):
        assert [p["problem_key"] for p in records.problems_for_check(check.check_id)] == [key]


def test_overlong_values_are_clipped_not_a_failed_batch(records: Records) -> None:
    key = uuid.uuid4().hex
    long_id = "L" * 1000
    check = _check(_problem(key, evidence_id=long_id, holder_masked="*" * 300))
    stored = records.save_check(check)
    assert stored.check_id == check.check_id
    (report,) = _reports(records, key)
    assert report["evidence_id"] == long_id[:256]


def test_a_filing_that_fails_costs_the_checks_nothing(records: Records) -> None:
    with records.engine.begin() as conn:
        conn.execute(text("DROP TABLE data_problem_occurrences"))
    try:
        checks = [_check(_problem(uuid.uuid4().hex)) for _ in range(3)]
        results = records.save_checks([(c, None) for c in checks])
        assert [r.check_id for r in results] == [c.check_id for c in checks]  # type: ignore[union-attr]
        for c in checks:
            assert records.get_check(c.check_id) == {"check_id": c.check_id}
            assert _reports(records, c.problems[0].report_key()) == []  # rolled back together
    finally:
        data_problem_occurrences.create(records.engine)  # as it was, for the other tests
