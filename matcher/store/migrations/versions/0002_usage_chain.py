"""Usage records form a hash chain: each record commits to the one before it.

Adds ``usage_records.seq`` and ``usage_records.row_hash`` and the one-row table ``usage_chain``
(the chain's head). Records kept before this revision are chained now, oldest first (by row id),
so ``matcher records verify`` covers them too.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-02
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from matcher.store.usage_chain import GENESIS, ChainHead

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

_USAGE_FIELDS = (
    "holder_role",
    "holder_id_type",
    "holder_id",
    "registry",
    "evidence_kind",
    "evidence_type",
    "evidence_id",
    "outcome",
    "verified",
    "from_cache",
)


def upgrade() -> None:
    op.add_column("usage_records", sa.Column("seq", sa.BigInteger))
    op.add_column("usage_records", sa.Column("row_hash", sa.String(64)))
    chain = op.create_table(
        "usage_chain",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("head_hash", sa.String(64), nullable=False),
    )
    bind = op.get_bind()
    meta = sa.MetaData()
    usage = sa.Table("usage_records", meta, autoload_with=bind)
    checks = sa.Table("checks", meta, autoload_with=bind)
    head = ChainHead(0, GENESIS)
    rows = bind.execute(
        sa.select(
            usage.c.id,
            usage.c.check_id,
            checks.c.requester,
            checks.c.matter_code,
            checks.c.application_id,
            *(usage.c[name] for name in _USAGE_FIELDS),
        )
        .select_from(usage.outerjoin(checks, usage.c.check_id == checks.c.check_id))
        .order_by(usage.c.id)
    ).all()
    for row in rows:
        row_id, *material = tuple(row)
        # Booleans as the code writes them (SQLite's reflected columns may read back 0/1).
        for i in (-2, -1):
            if material[i] is not None:
                material[i] = bool(material[i])
        ((seq, row_hash),) = head.extend([material])
        bind.execute(usage.update().where(usage.c.id == row_id).values(seq=seq, row_hash=row_hash))
    op.bulk_insert(chain, [{"id": 1, "seq": head.seq, "head_hash": head.head_hash}])
    op.create_index("ux_usage_seq", "usage_records", ["seq"], unique=True)


def downgrade() -> None:
    op.drop_index("ux_usage_seq", table_name="usage_records")
    op.drop_table("usage_chain")
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_column("row_hash")
        batch.drop_column("seq")
