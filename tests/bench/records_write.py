"""What writing a check's records costs the service: CPU per check for group-commit batches of
1, 8 and 16 checks, each with an application_id (its idempotency key) and one usage record, on
SQLite in a temp folder.

    python tests/bench/records_write.py [--checks 3000]

Baseline in the same run: the keys claimed one by one (a savepoint and an insert each), as
before the keys of a batch were claimed in one ``INSERT … ON CONFLICT DO NOTHING RETURNING``.
CPU time (``process_time``), so the disk's flush does not count: that is one per batch either way.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import matcher.store.records as store_records
from matcher.store import claims
from matcher.store.records import CheckRecord, Records, StoredCheck
from tests.store.test_records import _record


def _one_by_one(conn: Any, batch: Any, find: Any) -> list[StoredCheck]:
    claimed: dict[tuple[str, str | None], StoredCheck] = {}
    out = []
    for record, replaces in batch:
        key = (record.requester, record.application_id)
        if key not in claimed:
            claimed[key] = claims.claim(conn, record, replaces, find)
        out.append(claimed[key])
    return out


def cpu_per_check(batch: int, count: int, one_by_one: bool) -> float:
    records = Records(f"sqlite:///{tempfile.mkdtemp()}/m.db")
    store_records.claim_all = _one_by_one if one_by_one else claims.claim_all  # type: ignore[assignment]
    rows: list[CheckRecord] = [
        dataclasses.replace(_record(f"app-{uuid.uuid4().hex}"), problems=()) for _ in range(count)
    ]
    start = time.process_time()
    for i in range(0, count, batch):
        records.save_checks([(r, None) for r in rows[i : i + batch]])
    spent = time.process_time() - start
    records.close()
    return spent / count * 1e3


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--checks", type=int, default=3000)
    args = ap.parse_args()
    print("== writing checks' records, SQLite, CPU per check")
    for batch in (1, 8, 16):
        before = cpu_per_check(batch, args.checks, one_by_one=True)
        now = cpu_per_check(batch, args.checks, one_by_one=False)
        print(
            f"  batch {batch:2d}: keys in one statement {now:.3f} ms, one by one (baseline) "
            f"{before:.3f} ms; ratio {now / before:.2f}"
        )


if __name__ == "__main__":
    main()
