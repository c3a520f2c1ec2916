"""No holder's number in clear: blind index entries to find rows, sealed values to read them.

- ``usage_records.holder_id`` becomes ``holder_key`` (the blind index entry). A record chained
  before this revision keeps its number sealed in ``holder_sealed``, so its link (made over the
  number) can still be checked; its chain is left as it was, and so are signed checkpoints.
- ``applications.holder_id`` and ``holder_name`` are sealed to their application; ``holder_key``
  finds them.
- ``checks.response_json`` (reasons and evidence name the holder) is sealed to its check.

The rows are converted with the service's keys, which ``matcher db upgrade`` hands in; a
database with rows to convert is refused without them.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

from matcher.errors import ConfigError
from matcher.store.sealed import TEXT_PREFIX, Privacy

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

BATCH = 500


def _privacy(conn: sa.Connection) -> Privacy:
    privacy: Privacy | None = op.get_context().config.attributes.get("privacy")  # type: ignore[union-attr]
    if privacy is None:
        raise ConfigError(
            "revision 0010 seals the holders' numbers already recorded and needs the service's "
            "data and index keys: run matcher db upgrade --config with the service's config"
        )
    return privacy


def _has_rows(conn: sa.Connection, table: str) -> bool:
    return conn.execute(sa.text(f"SELECT 1 FROM {table} LIMIT 1")).first() is not None


def _convert(conn: sa.Connection, select_sql: str, update_sql: str, convert: Any) -> None:
    """Read every row (in key order), write back what ``convert`` makes of it, in batches."""
    rows = conn.execute(sa.text(select_sql)).all()
    for start in range(0, len(rows), BATCH):
        values = [convert(r) for r in rows[start : start + BATCH]]
        if values:
            conn.execute(sa.text(update_sql), values)


def upgrade() -> None:
    conn = op.get_bind()
    todo = [t for t in ("usage_records", "applications", "checks") if _has_rows(conn, t)]
    privacy = _privacy(conn) if todo else None

    # usage records: the index entry beside the number, then the number sealed, then gone
    with op.batch_alter_table("usage_records") as batch:
        batch.add_column(sa.Column("holder_key", sa.String(64)))
        batch.add_column(sa.Column("holder_sealed", sa.Text))
    if privacy is not None and "usage_records" in todo:
        p = privacy

        def usage(r: Any) -> dict[str, Any]:
            return {
                "row_id": r.id,
                "key": p.index.key(r.holder_id_type, r.holder_id),
                # Only a chained record needs its number again (to check its link).
                "sealed": p.seal(r.holder_id, f"usage:{r.id}") if r.seq is not None else None,
            }

        _convert(
            conn,
            "SELECT id, holder_id_type, holder_id, seq FROM usage_records ORDER BY id",
            "UPDATE usage_records SET holder_key = :key, holder_sealed = :sealed "
            "WHERE id = :row_id",
            usage,
        )
    with op.batch_alter_table("usage_records") as batch:
        batch.drop_index("ix_usage_holder")
        batch.drop_column("holder_id")
        batch.alter_column("holder_key", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_usage_holder_key", ["holder_key"])

    # applications: number and name sealed in place, the index entry beside them
    with op.batch_alter_table("applications") as batch:
        batch.drop_index("ix_applications_holder")
        batch.alter_column("holder_id", existing_type=sa.String(32), type_=sa.Text)
        batch.alter_column("holder_name", existing_type=sa.String(100), type_=sa.Text)
        batch.add_column(sa.Column("holder_key", sa.String(64)))
    if privacy is not None and "applications" in todo:
        p = privacy

        def application(r: Any) -> dict[str, Any]:
            context = f"applications:{r.id}"
            number = p.open(r.holder_id, context)
            name = p.open(r.holder_name, context)
            return {
                "row_id": r.id,
                "key": p.index.key(r.holder_id_type, number),
                "number": p.seal(number, context),
                "name": p.seal(name, context),
            }

        _convert(
            conn,
            "SELECT id, holder_id_type, holder_id, holder_name FROM applications ORDER BY id",
            "UPDATE applications SET holder_key = :key, holder_id = :number, "
            "holder_name = :name WHERE id = :row_id",
            application,
        )
    with op.batch_alter_table("applications") as batch:
        batch.alter_column("holder_key", existing_type=sa.String(64), nullable=False)
        batch.create_index("ix_applications_holder_key", ["holder_key"])

    # checks: each answer sealed to its check
    if privacy is not None and "checks" in todo:
        p = privacy
        _convert(
            conn,
            "SELECT check_id, response_json FROM checks "
            f"WHERE response_json NOT LIKE '{TEXT_PREFIX}%' ORDER BY check_id",
            "UPDATE checks SET response_json = :sealed WHERE check_id = :check_id",
            lambda r: {
                "check_id": r.check_id,
                "sealed": p.seal(r.response_json, f"check:{r.check_id}"),
            },
        )


def downgrade() -> None:
    raise NotImplementedError(
        "revision 0010 sealed the holders' numbers; restore the backup taken before the upgrade"
    )
