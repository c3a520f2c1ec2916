"""Baseline: the schema the service shipped with before migrations.

Checks, idempotency keys, usage records (用证记录), data problems and uploaded files. A database
made by that code has these tables and no ``alembic_version``: each table is created only where it
is missing, so upgrading such a database keeps every row and only records the revision.

Revision ID: 0001
Revises:
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def _missing(name: str) -> bool:
    return not sa.inspect(op.get_bind()).has_table(name)


def upgrade() -> None:
    if _missing("checks"):
        op.create_table(
            "checks",
            sa.Column("check_id", sa.String(36), primary_key=True),
            sa.Column("requester", sa.String(128), nullable=False),
            sa.Column("application_id", sa.String(128)),
            sa.Column("matter_code", sa.String(64), nullable=False),
            sa.Column("request_hash", sa.String(64), nullable=False),
            sa.Column("response_json", sa.Text, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
    if _missing("idempotency_keys"):
        op.create_table(
            "idempotency_keys",
            sa.Column("requester", sa.String(128), primary_key=True),
            sa.Column("application_id", sa.String(128), primary_key=True),
            sa.Column("request_hash", sa.String(64), nullable=False),
            sa.Column("check_id", sa.String(36), nullable=False),
        )
    if _missing("usage_records"):
        op.create_table(
            "usage_records",
            sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
            sa.Column("check_id", sa.String(36), sa.ForeignKey("checks.check_id"), nullable=False),
            sa.Column("holder_role", sa.String(32), nullable=False),
            sa.Column("holder_id_type", sa.String(16), nullable=False),
            sa.Column("holder_id", sa.String(32), nullable=False),
            sa.Column("registry", sa.String(64), nullable=False),
            sa.Column("evidence_kind", sa.String(32), nullable=False),
            sa.Column("evidence_type", sa.String(64), nullable=False),
            sa.Column("evidence_id", sa.String(256)),
            sa.Column("outcome", sa.String(32), nullable=False),
            sa.Column("verified", sa.Boolean),
            sa.Column("from_cache", sa.Boolean, nullable=False),
        )
        op.create_index("ix_usage_holder", "usage_records", ["holder_id_type", "holder_id"])
        op.create_index("ix_usage_check", "usage_records", ["check_id"])
    if _missing("data_problems"):
        op.create_table(
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
    if _missing("files"):
        op.create_table(
            "files",
            sa.Column("file_id", sa.String(40), primary_key=True),
            sa.Column("requester", sa.String(128), nullable=False),
            sa.Column("sha256", sa.String(64), nullable=False),
            sa.Column("media_type", sa.String(64), nullable=False),
            sa.Column("filename", sa.String(255)),
            sa.Column("size", sa.Integer, nullable=False),
            sa.Column("data", sa.LargeBinary, nullable=False),
            sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        )
        op.create_index("ix_files_requester", "files", ["requester"])
        op.create_index("ix_files_sha256", "files", ["sha256"])


def downgrade() -> None:
    for name in ("files", "data_problems", "usage_records", "idempotency_keys", "checks"):
        op.drop_table(name)
