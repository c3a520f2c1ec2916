"""Kept applications (申请) with their pre-filled forms, and the clerks' edits.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("requester", sa.String(128), nullable=False),
        sa.Column("application_id", sa.String(128), nullable=False),
        sa.Column("matter_code", sa.String(64), nullable=False),
        sa.Column("form_code", sa.String(64)),
        sa.Column("holder_id_type", sa.String(16), nullable=False),
        sa.Column("holder_id", sa.String(32), nullable=False),
        sa.Column("holder_name", sa.String(100), nullable=False),
        sa.Column("request_hash", sa.String(64), nullable=False),
        sa.Column("request_json", sa.Text, nullable=False),
        sa.Column("check_id", sa.String(36), sa.ForeignKey("checks.check_id"), nullable=False),
        sa.Column("prefill_json", sa.Text),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("confirmed_by", sa.String(128)),
        sa.Column("confirmed_at", sa.DateTime(timezone=True)),
        sa.Column("final_json", sa.Text),
        sa.Column("changes_json", sa.Text),
        sa.UniqueConstraint("requester", "application_id", name="uq_applications_requester_app"),
    )
    op.create_index("ix_applications_holder", "applications", ["holder_id_type", "holder_id"])
    op.create_index("ix_applications_created", "applications", ["created_at"])
    op.create_table(
        "application_edits",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("application", sa.String(36), sa.ForeignKey("applications.id"), nullable=False),
        sa.Column("field_key", sa.String(64), nullable=False),
        sa.Column("value", sa.Text, nullable=False),
        sa.Column("how", sa.String(16), nullable=False),
        sa.Column("source_json", sa.Text),
        sa.Column("clerk", sa.String(128), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_index("ix_application_edits_application", "application_edits", ["application"])


def downgrade() -> None:
    op.drop_table("application_edits")
    op.drop_table("applications")
