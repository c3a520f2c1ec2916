"""Filing data problems with the checks that met them, inside their group commit.

One report per key (``INSERT … ON CONFLICT (problem_key) DO UPDATE`` on SQLite and PostgreSQL
alike); each sighting is a row of data_problem_occurrences. :meth:`Records.save_checks` runs this
in a savepoint of its own, so that a failure here never fails the batch's checks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Connection,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    insert,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from matcher.store.engine import metadata

__all__ = [
    "DataProblem",
    "data_problem_events",
    "data_problem_occurrences",
    "data_problems",
    "upsert_problems",
]

# One report per (registry, record or holder, problem): ``problem_key`` is a keyed hash of the
# three (never a raw ID number); a repeat adds to ``occurrences`` and moves ``last_seen``.
# The workflow (matcher.problems) moves ``status``; data_problem_events keeps who and when.
data_problems = Table(
    "data_problems",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("problem_key", String(64), nullable=False, unique=True),
    Column("registry", String(64), nullable=False),
    Column("problem", String(64), nullable=False),
    Column("department", String(64)),
    Column("subject", String(16), nullable=False),  # record | holder | registry
    Column("evidence_id", String(256)),
    Column("evidence_type", String(64)),
    Column("issuer_code", String(64)),
    Column("holder_masked", String(64)),
    Column("holder_hash", String(64)),
    Column("evidence_json", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("occurrences", Integer, nullable=False),
    Column("first_seen", DateTime(timezone=True), nullable=False),
    Column("last_seen", DateTime(timezone=True), nullable=False),
    Column("first_check_id", String(36), nullable=False),
    Column("last_check_id", String(36), nullable=False),
    Column("status_changed_at", DateTime(timezone=True), nullable=False),
    Column("fixed_at", DateTime(timezone=True)),
    Column("resolution_note", Text),
    Index("ix_problems_department_status", "department", "status"),
    Index("ix_problems_first_seen", "first_seen"),
    Index("ix_problems_holder", "holder_hash"),
)

# Each check that met a report's problem: what a check filed, and when each repeat was seen.
data_problem_occurrences = Table(
    "data_problem_occurrences",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("problem_key", String(64), nullable=False),
    Column("check_id", String(36), nullable=False),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_problem_occurrences_check", "check_id"),
    Index("ix_problem_occurrences_key", "problem_key"),
)

# Every status change of a report: who (a caller, or "system"), when, from what to what, why.
data_problem_events = Table(
    "data_problem_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("problem_id", Integer, ForeignKey("data_problems.id"), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("actor", String(128), nullable=False),
    Column("from_status", String(16)),
    Column("to_status", String(16), nullable=False),
    Column("note", Text),
    Index("ix_problem_events_problem", "problem_id"),
)


@dataclass(frozen=True)
class DataProblem:
    """One data problem met by a check (matcher.problems builds them; codes there).

    ``key`` is the report's identity: a keyed hash of (registry, subject, problem). Left out,
    it is derived from the registry, the record id and the problem."""

    registry: str
    evidence_id: str | None
    evidence_type: str | None
    issuer_code: str | None
    problem: str
    key: str | None = None
    department: str | None = None
    subject: str = "record"
    holder_masked: str | None = None
    holder_hash: str | None = None
    evidence_json: str = "{}"

    def report_key(self) -> str:
        if self.key is not None:
            return self.key
        text = "\x1f".join((self.registry, f"record:{self.evidence_id}", self.problem))
        return hashlib.sha256(text.encode()).hexdigest()


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
