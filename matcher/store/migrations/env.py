"""Alembic's environment: migrations run on the connection matcher.store.migrations hands in."""

from __future__ import annotations

from alembic import context

from matcher.store.schema import target_metadata

config = context.config
connection = config.attributes.get("connection")
if connection is None:  # pragma: no cover - the alembic command line is not how we run
    raise RuntimeError("run migrations with `matcher db upgrade`, not the alembic command")

context.configure(
    connection=connection,
    target_metadata=target_metadata(),
    # SQLite alters a table by copying it: Alembic's batch mode does that for us.
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
    # SQLite rolls DDL back too: we run inside BEGIN IMMEDIATE (matcher.store.records).
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()
