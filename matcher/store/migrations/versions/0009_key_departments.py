"""A caller key may belong to a department: its reads of data problems are that department's.

Adds ``api_keys.department`` (a department directory code; null for keys made before, which keep
reading every department's reports, and for keys of systems that are no department's).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("department", sa.String(64)))


def downgrade() -> None:
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("department")
