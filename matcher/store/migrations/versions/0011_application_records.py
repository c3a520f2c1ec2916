"""An application keeps the registry records its check was given, as signed, for its archive.

Adds ``applications.evidence_json`` (sealed like the rest of the application; null for
applications kept before, whose archive packages then say their records were not kept).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-07
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.add_column(sa.Column("evidence_json", sa.Text))


def downgrade() -> None:
    with op.batch_alter_table("applications") as batch:
        batch.drop_column("evidence_json")
