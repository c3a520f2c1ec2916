"""Filing data problems with the checks that met them, inside their group commit.

One report per key (``INSERT … ON CONFLICT (problem_key) DO UPDATE`` on SQLite and PostgreSQL
alike); each sighting is a row of data_problem_occurrences. :meth:`Records.save_checks` runs this
in a savepoint of its own, so that a failure here never fails the batch's checks.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import Connection, insert
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from matcher.records import DataProblem, data_problem_occurrences, data_problems

__all__ = ["upsert_problems"]


def _clip(value: str | None, size: int) -> str | None:
    return value if value is None or len(value) <= size else value[:size]


def upsert_problems(conn: Connection, seen: Sequence[tuple[str, dt.datetime, DataProblem]]) -> None:
    """File each (check id, when, problem): INSERT … ON CONFLICT (problem_key) DO UPDATE, on
    SQLite and PostgreSQL alike.

    Repeats within the batch are folded first (PostgreSQL refuses to touch a row twice in one
    statement) and keys go in sorted order, so concurrent batches lock rows alike, never in a
    cycle. Values are clipped to their columns: a long registry id must not fail the insert."""
    rows: dict[str, dict[str, Any]] = {}
    occurrences: list[dict[str, Any]] = []
    for check_id, when, p in seen:
        key = p.report_key()
        # In UTC: SQLite keeps a timestamp's wall time without its offset.
        at = when.astimezone(dt.UTC)
        occurrences.append({"problem_key": key, "check_id": check_id, "seen_at": at})
        row = rows.get(key)
        if row is not None:
            row["occurrences"] += 1
            if at >= row["last_seen"]:
                row.update(last_seen=at, last_check_id=check_id)
            continue
        rows[key] = {
            "problem_key": key,
            "registry": _clip(p.registry, 64),
            "problem": _clip(p.problem, 64),
            "department": _clip(p.department, 64),
            "subject": _clip(p.subject, 16),
            "evidence_id": _clip(p.evidence_id, 256),
            "evidence_type": _clip(p.evidence_type, 64),
            "issuer_code": _clip(p.issuer_code, 64),
            "holder_masked": _clip(p.holder_masked, 64),
            "holder_hash": _clip(p.holder_hash, 64),
            "evidence_json": p.evidence_json,
            "status": "open",
            "occurrences": 1,
            "first_seen": at,
            "last_seen": at,
            "first_check_id": check_id,
            "last_check_id": check_id,
            "status_changed_at": at,
        }
    stmt: Any = (
        postgresql_insert(data_problems)
        if conn.dialect.name == "postgresql"
        else sqlite_insert(data_problems)
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[data_problems.c.problem_key],
        set_={
            "occurrences": data_problems.c.occurrences + stmt.excluded.occurrences,
            "last_seen": stmt.excluded.last_seen,
            "last_check_id": stmt.excluded.last_check_id,
            "evidence_json": stmt.excluded.evidence_json,
        },
    )
    conn.execute(stmt, [rows[k] for k in sorted(rows)])
    conn.execute(insert(data_problem_occurrences), occurrences)
