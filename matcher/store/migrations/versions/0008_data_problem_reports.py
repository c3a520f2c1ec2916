"""Data-problem reports: one row per (registry, subject, problem), their sightings and history.

The baseline kept one data_problems row per sighting. Its rows become reports keyed as the code
keys a record's problem (sha256 of registry, ``record:<evidence id>`` and problem), counted, with
one data_problem_occurrences row per former row; the old table is dropped.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

import hashlib

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def _key(registry: str, evidence_id: str, problem: str) -> str:
    return hashlib.sha256(
        "\x1f".join((registry, f"record:{evidence_id}", problem)).encode()
    ).hexdigest()


def upgrade() -> None:
    op.rename_table("data_problems", "data_problems_v0")
    op.create_table(
        "data_problems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("problem_key", sa.String(64), nullable=False, unique=True),
        sa.Column("registry", sa.String(64), nullable=False),
        sa.Column("problem", sa.String(64), nullable=False),
        sa.Column("department", sa.String(64)),
        sa.Column("subject", sa.String(16), nullable=False),
        sa.Column("evidence_id", sa.String(256)),
        sa.Column("evidence_type", sa.String(64)),
        sa.Column("issuer_code", sa.String(64)),
        sa.Column("holder_masked", sa.String(64)),
        sa.Column("holder_hash", sa.String(64)),
        sa.Column("evidence_json", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("occurrences", sa.Integer, nullable=False),
        sa.Column("first_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_seen", sa.DateTime(timezone=True), nullable=False),
        sa.Column("first_check_id", sa.String(36), nullable=False),
        sa.Column("last_check_id", sa.String(36), nullable=False),
        sa.Column("status_changed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("fixed_at", sa.DateTime(timezone=True)),
        sa.Column("resolution_note", sa.Text),
    )
    op.create_index("ix_problems_department_status", "data_problems", ["department", "status"])
    op.create_index("ix_problems_first_seen", "data_problems", ["first_seen"])
    op.create_index("ix_problems_holder", "data_problems", ["holder_hash"])
    op.create_table(
        "data_problem_occurrences",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("problem_key", sa.String(64), nullable=False),
        sa.Column("check_id", sa.String(36), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_problem_occurrences_check", "data_problem_occurrences", ["check_id"])
    op.create_index("ix_problem_occurrences_key", "data_problem_occurrences", ["problem_key"])
    op.create_table(
        "data_problem_events",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("problem_id", sa.Integer, sa.ForeignKey("data_problems.id"), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(128), nullable=False),
        sa.Column("from_status", sa.String(16)),
        sa.Column("to_status", sa.String(16), nullable=False),
        sa.Column("note", sa.Text),
    )
    op.create_index("ix_problem_events_problem", "data_problem_events", ["problem_id"])

    bind = op.get_bind()
    old = sa.table(
        "data_problems_v0",
        *(
            sa.column(c)
            for c in (
                "id",
                "check_id",
                "registry",
                "evidence_id",
                "evidence_type",
                "issuer_code",
                "problem",
            )
        ),
        sa.column("created_at", sa.DateTime(timezone=True)),
    )
    reports: dict[str, dict[str, object]] = {}
    sightings = []
    for r in bind.execute(sa.select(old).order_by(old.c.created_at, old.c.id)):
        key = _key(r.registry, r.evidence_id, r.problem)
        sightings.append({"problem_key": key, "check_id": r.check_id, "seen_at": r.created_at})
        report = reports.get(key)
        if report is None:
            reports[key] = {
                "problem_key": key,
                "registry": r.registry,
                "problem": r.problem,
                "department": None,
                "subject": "record",
                "evidence_id": r.evidence_id,
                "evidence_type": r.evidence_type,
                "issuer_code": r.issuer_code,
                "holder_masked": None,
                "holder_hash": None,
                "evidence_json": "{}",
                "status": "open",
                "occurrences": 1,
                "first_seen": r.created_at,
                "last_seen": r.created_at,
                "first_check_id": r.check_id,
                "last_check_id": r.check_id,
                "status_changed_at": r.created_at,
            }
        else:
            report["occurrences"] = int(report["occurrences"]) + 1  # type: ignore[call-overload]
            report.update(last_seen=r.created_at, last_check_id=r.check_id)
    meta = sa.MetaData()
    meta.reflect(bind, only=("data_problems", "data_problem_occurrences"))
    if reports:
        bind.execute(meta.tables["data_problems"].insert(), list(reports.values()))
        bind.execute(meta.tables["data_problem_occurrences"].insert(), sightings)
    op.drop_table("data_problems_v0")


def downgrade() -> None:
    bind = op.get_bind()
    meta = sa.MetaData()
    meta.reflect(bind, only=("data_problems", "data_problem_occurrences"))
    reports, seen = meta.tables["data_problems"], meta.tables["data_problem_occurrences"]
    rows = bind.execute(
        sa.select(
            seen.c.check_id,
            reports.c.registry,
            reports.c.evidence_id,
            reports.c.evidence_type,
            reports.c.issuer_code,
            reports.c.problem,
            seen.c.seen_at,
        ).join(reports, reports.c.problem_key == seen.c.problem_key)
    ).all()
    op.drop_table("data_problem_events")
    op.drop_table("data_problem_occurrences")
    op.drop_table("data_problems")
    old = op.create_table(
        "data_problems",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("check_id", sa.String(36), nullable=False),
        sa.Column("registry", sa.String(64), nullable=False),
        sa.Column("evidence_id", sa.String(256), nullable=False),
        sa.Column("evidence_type", sa.String(64), nullable=False),
        sa.Column("issuer_code", sa.String(64)),
        sa.Column("problem", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    # Reports with no record (a missing record, a registry's garbage) have no place there.
    keep = [
        {
            "check_id": r.check_id,
            "registry": r.registry,
            "evidence_id": r.evidence_id,
            "evidence_type": r.evidence_type or "",
            "issuer_code": r.issuer_code,
            "problem": r.problem,
            "created_at": r.seen_at,
        }
        for r in rows
        if r.evidence_id is not None
    ]
    if keep:
        bind.execute(old.insert(), keep)
