"""Schema migrations (Alembic), shipped inside the package.

The service's tables are created and changed only by the revisions in ``versions/``. An empty
database is brought to the newest revision when the service starts; a database at an older
revision (or made before migrations, with the tables and no ``alembic_version``) stops start-up
until an operator runs ``matcher db upgrade``, so a release never changes a city's records behind
its back.

May import: store (engine, schema, sealed), errors.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

from matcher.errors import SchemaOutdated
from matcher.store.engine import SCHEMA_LOCK
from matcher.store.schema import target_metadata
from matcher.store.sealed import Privacy

__all__ = ["SchemaState", "ensure_current", "head_revision", "schema_state", "upgrade"]


def _config(connection: Connection | None = None, privacy: Privacy | None = None) -> Config:
    config = Config()
    config.set_main_option("script_location", "matcher.store:migrations")
    if connection is not None:
        config.attributes["connection"] = connection
    # Revisions that seal what is recorded (0010) take the service's keys from here.
    config.attributes["privacy"] = privacy
    return config


@functools.cache
def _scripts() -> ScriptDirectory:
    return ScriptDirectory.from_config(_config())


def head_revision() -> str:
    head = _scripts().get_current_head()
    assert head is not None, "no migration revisions shipped"
    return head


@dataclass(frozen=True)
class SchemaState:
    """Where a database stands against the code's migrations."""

    current: tuple[str, ...]  # the database's revision(s); () when it has no alembic_version
    head: str
    tables: frozenset[str]  # the service's tables present

    @property
    def is_current(self) -> bool:
        return self.current == (self.head,)

    @property
    def is_empty(self) -> bool:
        return not self.current and not self.tables

    @property
    def is_newer(self) -> bool:
        """At a revision this code does not know: upgraded by a newer release."""
        known = {s.revision for s in _scripts().walk_revisions()}
        return any(rev not in known for rev in self.current)

    def describe(self) -> str:
        if self.is_empty:
            return "empty (no tables yet)"
        if not self.current:
            return "made before migrations (tables, no alembic_version)"
        return "revision " + ", ".join(self.current)


def schema_state(engine: Engine) -> SchemaState:
    ours = set(target_metadata().tables)
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_heads()
        tables = frozenset(set(inspect(conn).get_table_names()) & ours)
    return SchemaState(tuple(current), head_revision(), tables)


def upgrade(engine: Engine, privacy: Privacy | None = None) -> SchemaState:
    """Bring the database to the newest revision, in one transaction; returns where it stood.
    ``privacy``: the service's keys, for revisions that seal rows already recorded (a database
    with such rows is refused without them)."""
    before = schema_state(engine)
    if before.is_newer:
        raise SchemaOutdated(
            f"the database is at {before.describe()}, newer than this release "
            f"(head {before.head}): run the release that upgraded it"
        )
    with engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            # Held to the end of the transaction; a second upgrader then finds the head.
            conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": SCHEMA_LOCK})
        command.upgrade(_config(conn, privacy), "head")
    return before


def ensure_current(engine: Engine) -> None:
    """Create the schema in an empty database; refuse one at another revision."""
    state = schema_state(engine)
    if state.is_current:
        return
    if state.is_empty:
        upgrade(engine)
        return
    if state.is_newer:
        raise SchemaOutdated(
            f"the records database is at {state.describe()}, newer than this release "
            f"(head {state.head}): run the release that upgraded it"
        )
    raise SchemaOutdated(
        f"the records database is older than this release: {state.describe()}, "
        f"the code needs revision {state.head}. Back it up, then run: matcher db upgrade"
    )
