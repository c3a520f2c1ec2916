"""Records on both real databases: SQLite (embedded default) and PostgreSQL."""

import asyncio
import dataclasses
import datetime as dt
import subprocess
import sys
import threading
import uuid

import pytest

from matcher.errors import RecordsUnavailable
from matcher.store.recorder import Recorder
from matcher.store.records import CheckRecord, DataProblem, Records, StoredCheck, UsageRecord


def _record(application_id: str | None, request_hash: str = "h1") -> CheckRecord:
    usage = UsageRecord(
        holder_role="applicant",
        holder_id_type="citizen_id",
        holder_id="330902198101011230",
        registry="zs-elicence",
        evidence_kind="e_licence",
        evidence_type="T001",
        evidence_id="LIC-1",
        outcome="found",
        verified=True,
        from_cache=False,
    )
    problem = DataProblem("zs-elicence", "LIC-2", "T001", "X", "signature_invalid")
    check_id = str(uuid.uuid4())
    return CheckRecord(
        check_id=check_id,
        requester="biz",
        application_id=application_id,
        matter_code="ent-establish",
        request_hash=request_hash,
        response_json=f'{{"check_id": "{check_id}"}}',
        created_at=dt.datetime.now(dt.UTC),
        usage=(usage,),
        problems=(problem,),
    )


def test_check_usage_and_problems_are_stored_together(records: Records) -> None:
    rec = _record(None)
    records.save_check(rec)
    usage = records.usage_for_check(rec.check_id)
    # the record keeps the holder's blind index entry, never the number
    assert [(u["holder_key"], u["evidence_id"], u["requester"]) for u in usage] == [
        (records.index.key("citizen_id", "330902198101011230"), "LIC-1", "biz")
    ]
    assert "330902198101011230" not in repr(usage)
    assert [p["problem"] for p in records.problems_for_check(rec.check_id)] == ["signature_invalid"]
    assert records.get_check(rec.check_id) == {"check_id": rec.check_id}
    by_holder = records.usage_for_holder("citizen_id", "330902198101011230")
    assert rec.check_id in {u["check_id"] for u in by_holder}
    assert all(u["matter_code"] == "ent-establish" and u["verified"] is True for u in by_holder)


def test_application_id_claims_once_and_the_first_wins(records: Records) -> None:
    app_id = f"APP-{uuid.uuid4().hex[:8]}"
    first, second = _record(app_id), _record(app_id)
    assert records.save_check(first).check_id == first.check_id
    assert records.save_check(second).check_id == first.check_id
    assert records.usage_for_check(second.check_id) == []


def test_concurrent_claims_store_one_check(records: Records) -> None:
    app_id = f"APP-{uuid.uuid4().hex[:8]}"
    recs = [_record(app_id) for _ in range(8)]
    winners: list[str] = []
    threads = [
        threading.Thread(target=lambda r=r: winners.append(records.save_check(r).check_id))
        for r in recs
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(winners)) == 1
    stored = records.find_idempotent("biz", app_id)
    assert stored is not None and stored.check_id == winners[0]


def test_rerun_replaces_the_idempotent_answer(records: Records) -> None:
    app_id = f"APP-{uuid.uuid4().hex[:8]}"
    first = _record(app_id)
    records.save_check(first)
    rerun = _record(app_id)
    records.save_check(rerun, replaces=first.check_id)
    stored = records.find_idempotent("biz", app_id)
    assert stored is not None and stored.check_id == rerun.check_id
    assert records.get_check(first.check_id) is not None  # the earlier check stays on record


def test_checks_finishing_a_loop_turn_apart_share_one_commit(
    records: Records, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Group commit: requests read from their sockets together reach the recorder a turn or two
    apart; they still share one transaction (one disk flush), and every one is stored."""
    batches: list[int] = []
    save_checks = records.save_checks

    def counted(batch: list[tuple[CheckRecord, str | None]]) -> list[StoredCheck]:
        batches.append(len(batch))
        return save_checks(batch)

    monkeypatch.setattr(records, "save_checks", counted)
    recorder = Recorder(records)

    async def finish(turns: int) -> StoredCheck:
        for _ in range(turns):
            await asyncio.sleep(0)
        return await recorder.save(_record(None))

    async def run() -> list[StoredCheck]:
        return await asyncio.gather(*(finish(i % 2) for i in range(16)))

    stored = asyncio.run(run())
    if records.is_local:
        assert batches == [16]
    else:  # PostgreSQL is written from a thread: the first check starts a batch at once
        assert sum(batches) == 16 and len(batches) <= 2
    assert all(records.usage_for_check(s.check_id) for s in stored)


def test_copies_of_one_application_in_one_batch_share_the_first_answer(records: Records) -> None:
    """A retry committed in the same group commit as its first copy is not a conflict: both get
    the first copy's answer, and the other checks of the batch are stored as usual."""
    app_id = f"APP-{uuid.uuid4().hex[:8]}"
    first, copy, other = _record(app_id), _record(app_id), _record(None)
    results = records.save_checks([(first, None), (copy, None), (other, None)])
    assert [r.check_id for r in results if isinstance(r, StoredCheck)] == [
        first.check_id,
        first.check_id,
        other.check_id,
    ]
    assert records.usage_for_check(first.check_id) and records.usage_for_check(other.check_id)
    assert records.usage_for_check(copy.check_id) == []


def test_one_failing_record_fails_only_its_own_request(records: Records) -> None:
    """A record the database refuses (here: a check id already stored) is answered with an
    error; every other check of its batch is still stored."""
    stored = _record(None)
    records.save_check(stored)
    clash = dataclasses.replace(_record(None), check_id=stored.check_id)
    before, after = _record(f"APP-{uuid.uuid4().hex[:8]}"), _record(None)
    results = records.save_checks([(before, None), (clash, None), (after, None)])
    assert isinstance(results[1], RecordsUnavailable)
    assert [r.check_id for r in (results[0], results[2]) if isinstance(r, StoredCheck)] == [
        before.check_id,
        after.check_id,
    ]
    assert records.usage_for_check(before.check_id) and records.usage_for_check(after.check_id)
    assert len(records.usage_for_check(stored.check_id)) == 1  # the clash added nothing
    with pytest.raises(RecordsUnavailable):
        records.save_check(clash)


def test_concurrent_reruns_of_one_application_agree_on_one_answer(records: Records) -> None:
    """Two re-runs replacing the same earlier answer (the registry was down then): the first to
    commit wins and the other gets its answer, not an answer of its own."""
    app_id = f"APP-{uuid.uuid4().hex[:8]}"
    first = _record(app_id)
    records.save_check(first)
    reruns = [_record(app_id) for _ in range(6)]
    winners: list[str] = []
    threads = [
        threading.Thread(
            target=lambda r=r: winners.append(
                records.save_check(r, replaces=first.check_id).check_id
            )
        )
        for r in reruns
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(winners) == 6 and len(set(winners)) == 1 and winners[0] != first.check_id
    stored = records.find_idempotent("biz", app_id)
    assert stored is not None and stored.check_id == winners[0]
    # the same in one batch
    more = [_record(app_id) for _ in range(3)]
    results = records.save_checks([(r, winners[0]) for r in more])
    assert {r.check_id for r in results if isinstance(r, StoredCheck)} == {more[0].check_id}


def test_recorder_answers_each_request_with_its_own_outcome(records: Records) -> None:
    """Through the group commit: a bad record among good ones fails only its own request."""
    stored = _record(None)
    records.save_check(stored)
    recorder = Recorder(records)
    good = [_record(None) for _ in range(5)]
    bad = dataclasses.replace(_record(None), check_id=stored.check_id)

    async def run() -> list[StoredCheck | BaseException]:
        jobs = [recorder.save(r) for r in (*good[:2], bad, *good[2:])]
        return await asyncio.gather(*jobs, return_exceptions=True)

    results = asyncio.run(run())
    assert isinstance(results[2], RecordsUnavailable)
    ok = [r for i, r in enumerate(results) if i != 2]
    assert [r.check_id for r in ok if isinstance(r, StoredCheck)] == [g.check_id for g in good]


def test_workers_starting_together_on_an_empty_database_all_start(
    fresh_postgres_url: str,
) -> None:
    """Several worker processes opening a new PostgreSQL database at once: each brings the
    schema up to date, and none fails on another's half-made catalog entry."""
    code = (
        "import sys; from matcher.store.files import FileStore; "
        "from matcher.store.records import Records; "
        "r = Records(sys.argv[1]); FileStore(r); r.close()"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, fresh_postgres_url], stderr=subprocess.PIPE, text=True
        )
        for _ in range(6)
    ]
    errors = [p.communicate(timeout=60)[1] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, "\n".join(errors)


def test_a_batch_claims_new_keys_and_answers_held_ones_with_the_stored_check(
    records: Records,
) -> None:
    held = _record("app-held")
    records.save_check(held)
    again, new, copy = _record("app-held", "h2"), _record("app-new"), _record("app-new", "h3")

    results = records.save_checks([(again, None), (new, None), (copy, None), (_record(None), None)])

    assert isinstance(results[0], StoredCheck) and results[0].check_id == held.check_id
    assert isinstance(results[1], StoredCheck) and results[1].check_id == new.check_id
    assert results[2] == results[1]  # a copy in the same batch gets the first's answer
    assert records.get_check(new.check_id) is not None
    assert records.get_check(again.check_id) is None  # not written: the key was held
    assert records.get_check(copy.check_id) is None


def test_check_ids_are_uuids_in_the_order_they_were_made() -> None:
    """Time-ordered ids (UUID version 7) keep new checks at the end of the key indexes."""
    from matcher.store.checks import new_check_id

    made = []
    for _ in range(5):
        made += [new_check_id() for _ in range(200)]
        threading.Event().wait(0.002)  # the next millisecond
    parsed = [uuid.UUID(i) for i in made]
    assert all(u.version == 7 and u.variant == uuid.RFC_4122 for u in parsed)
    assert len(set(made)) == len(made)
    millis = [u.int >> 80 for u in parsed]
    assert millis == sorted(millis)  # never earlier than the id made before it
    now = dt.datetime.now(dt.UTC).timestamp() * 1000
    assert now - 60_000 < millis[0] <= millis[-1] <= now
