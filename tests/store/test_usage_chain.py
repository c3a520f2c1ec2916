"""The usage records' hash chain on both real databases: concurrent batches extend one chain,
and an edited, deleted or moved record is found and named."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from pathlib import Path

import pytest
from sqlalchemy import text

from matcher.cli import main
from matcher.store.records import CheckRecord, Records, UsageRecord


@pytest.fixture
def records(fresh_records: Records) -> Records:
    """An empty records database of the test's own: the chain starts at #1."""
    return fresh_records


def _record(n_usage: int = 3) -> CheckRecord:
    usage = tuple(
        UsageRecord(
            "applicant",
            "citizen_id",
            "330902198103150314",
            "zs-elicence",
            "e_licence",
            f"T00{i}",
            f"LIC-{uuid.uuid4().hex[:6]}",
            "found",
            True,
            False,
        )
        for i in range(n_usage)
    )
    check_id = str(uuid.uuid4())
    return CheckRecord(
        check_id=check_id,
        requester="zs-amr-ywxt",
        application_id=None,
        matter_code="ent-establish",
        request_hash="h",
        response_json="{}",
        created_at=dt.datetime.now(dt.UTC),
        usage=usage,
        problems=(),
    )


def _fill(records: Records) -> None:
    """Single checks, batches and concurrent writers: 4 + 3×3 + 8×3 = 37 records."""
    records.save_check(_record(4))
    records.save_checks([(_record(), None) for _ in range(3)])
    threads = [threading.Thread(target=records.save_check, args=(_record(),)) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def _sql(records: Records, statement: str) -> None:
    with records.engine.begin() as conn:
        conn.execute(text(statement))


def test_concurrent_batches_extend_one_intact_chain(records: Records) -> None:
    _fill(records)
    result = records.verify_usage_chain()
    assert result.first_break is None and result.records == 37


@pytest.mark.parametrize(
    ("tamper", "seq", "problem"),
    [
        ("UPDATE usage_records SET outcome = 'none' WHERE seq = 7", 7, "edited or moved"),
        ("UPDATE usage_records SET holder_key = '" + "ab" * 32 + "' WHERE seq = 1", 1, "edited"),
        ("DELETE FROM usage_records WHERE seq = 12", 12, "deleted"),
        ("DELETE FROM usage_records WHERE seq = 37", 37, "deleted at the end"),
        ("UPDATE checks SET requester = 'someone-else'", 1, "edited or moved"),
    ],
)
def test_a_tampered_record_is_found_and_named(
    records: Records, tamper: str, seq: int, problem: str
) -> None:
    _fill(records)
    _sql(records, tamper)
    found = records.verify_usage_chain().first_break
    assert found is not None and found.seq == seq and problem in found.problem


def test_records_put_in_another_order_are_found(records: Records) -> None:
    """Records #3 and #5 trade places in the order: the first moved one is named."""
    _fill(records)
    _sql(records, "UPDATE usage_records SET seq = 1003 WHERE seq = 3")
    _sql(records, "UPDATE usage_records SET seq = 3 WHERE seq = 5")
    _sql(records, "UPDATE usage_records SET seq = 5 WHERE seq = 1003")
    found = records.verify_usage_chain().first_break
    assert found is not None and found.seq == 3 and "moved" in found.problem


def test_records_verify_command_fails_on_a_tampered_database(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'records.db'}"
    records = Records(url)
    _fill(records)
    config = tmp_path / "matcher.toml"
    config.write_text(f'database_url = "{url}"\n', encoding="utf-8")
    assert main(["records", "verify", "--config", str(config)]) == 0
    assert "37 records, the hash chain is intact" in capsys.readouterr().out
    _sql(records, "UPDATE usage_records SET verified = 0 WHERE seq = 20")
    records.close()
    assert main(["records", "verify", "--config", str(config)]) == 1
    err = capsys.readouterr().err
    assert "usage record #20" in err and "edited" in err


def test_an_audit_check_passed_off_as_a_service_check_breaks_the_chain(records: Records) -> None:
    import dataclasses

    _fill(records)
    audit = dataclasses.replace(_record(), use="audit", purpose="2026 年多收材料审计")
    records.save_check(audit)
    assert records.verify_usage_chain().first_break is None
    _sql(records, f"UPDATE checks SET use = 'service' WHERE check_id = '{audit.check_id}'")
    found = records.verify_usage_chain().first_break
    assert found is not None and found.seq == 38 and "edited" in found.problem
