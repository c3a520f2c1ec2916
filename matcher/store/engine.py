"""The records database's engine: one MetaData for every table, SQLite's pragmas, the schema lock.

May import: errors.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, MetaData, create_engine, event
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import RecordsUnavailable

__all__ = ["SCHEMA_LOCK", "make_engine", "metadata", "unavailable"]

metadata = MetaData()


def unavailable(exc: SQLAlchemyError) -> RecordsUnavailable:
    error = RecordsUnavailable(f"the records database failed: {type(exc).__name__}")
    error.__cause__ = exc
    return error


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; SQLAlchemy's documented recipe is to
    # switch it off and emit BEGIN ourselves (see _sqlite_begin).
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    # WAL with synchronous=FULL: every commit is on disk before the API answers.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=FULL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    # IMMEDIATE takes the write lock up front: two writers then queue on busy_timeout instead of
    # one failing when it upgrades a read snapshot that another has since moved past.
    conn.exec_driver_sql("BEGIN IMMEDIATE")


# pg_advisory_xact_lock key held while the schema is migrated ("matcher" in ASCII): workers
# starting together on a new database then create it once (matcher.store.migrations).
SCHEMA_LOCK = 0x6D61746368657200


def make_engine(url: str) -> Engine:
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    if url.startswith("sqlite:///"):
        path = url.removeprefix("sqlite:///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=5, max_overflow=10)
