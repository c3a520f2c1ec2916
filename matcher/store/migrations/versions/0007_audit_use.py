"""Checks say which use they were: a waive-check (service) or an audit, with its purpose.

Adds ``checks.use`` (``service`` for every check kept before this revision) and
``checks.purpose``. The usage records (用证记录) of a check carry both through the check.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.add_column(sa.Column("use", sa.String(16), nullable=False, server_default="service"))
        batch.add_column(sa.Column("purpose", sa.String(256)))


def downgrade() -> None:
    with op.batch_alter_table("checks") as batch:
        batch.drop_column("purpose")
        batch.drop_column("use")
