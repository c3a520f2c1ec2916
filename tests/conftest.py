"""Real services for the tests: Redis and PostgreSQL are started when they are not running."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

# pytester runs the adapter contract suite against deliberately wrong adapters.
pytest_plugins = ["pytester"]

REDIS_URL = os.environ.get("MATCHER_TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
PG_ADMIN_URL = os.environ.get("MATCHER_TEST_PG_URL", "postgresql://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session", autouse=True)
def _state_dir(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The embedded defaults' state folder (SQLite, secrets, trust store) is the session's own,
    never the user's ~/.local/state: a test run neither reads nor leaves anything there."""
    old = os.environ.get("MATCHER_STATE_DIR")
    os.environ["MATCHER_STATE_DIR"] = str(tmp_path_factory.mktemp("state"))
    yield
    if old is None:
        del os.environ["MATCHER_STATE_DIR"]
    else:
        os.environ["MATCHER_STATE_DIR"] = old


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


def _port_open(host: str, port: int) -> bool:
    with socket.socket() as s:
        s.settimeout(0.5)
        return s.connect_ex((host, port)) == 0


def _wait_port(host: str, port: int, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if _port_open(host, port):
            return True
        time.sleep(0.2)
    return False


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A Redis server: the machine's, or one started here for the session."""
    proc = None
    if not _port_open("127.0.0.1", 6379):
        exe = shutil.which("redis-server")
        if exe is None:
            pytest.fail("Redis is not running and redis-server is not installed (see .ci/run)")
        workdir = tmp_path_factory.mktemp("redis")
        proc = subprocess.Popen(
            [
                exe,
                "--port",
                "6379",
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(workdir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        if not _wait_port("127.0.0.1", 6379, 10):
            proc.kill()
            pytest.fail("could not start redis-server")
    import redis

    client = redis.Redis.from_url(REDIS_URL)
    client.flushdb()
    client.close()
    yield REDIS_URL
    if proc is not None:
        proc.terminate()
        proc.wait(10)


def _start_postgres() -> None:
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") and clusters.is_dir():
        for version in sorted(p.name for p in clusters.iterdir()):
            subprocess.run(
                ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"],
                check=False,
                capture_output=True,
            )


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A fresh PostgreSQL database for the session, dropped afterwards."""
    import psycopg

    if not _port_open("127.0.0.1", 5432):
        _start_postgres()
        if not _wait_port("127.0.0.1", 5432, 20):
            pytest.fail("PostgreSQL is not running and could not be started (see .ci/run)")
    name = f"matcher_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    base = PG_ADMIN_URL.rsplit("/", 1)[0]
    yield f"{base}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Name the artifacts the page tests kept (screenshots), so a person can look at them."""
    from tests.ui.conftest import ARTIFACTS

    if ARTIFACTS:
        terminalreporter.section("artifacts kept")
        for path in ARTIFACTS:
            terminalreporter.write_line(str(path))


@pytest.fixture
def fresh_postgres_url(postgres_url: str) -> Iterator[str]:
    """A PostgreSQL database of this test's own, dropped after it (for tests that need an empty
    one, or that damage what they find)."""
    import psycopg

    name = f"matcher_fresh_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    yield f"{PG_ADMIN_URL.rsplit('/', 1)[0]}/{name}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def new_privacy() -> Any:
    """Fresh data and index keys, as the service holds them (its records seal and index)."""
    import secrets

    from matcher.store.sealed import HolderIndex, Privacy, Sealer

    return Privacy(
        Sealer({"t1": secrets.token_bytes(32)}, "t1"),
        HolderIndex({"i1": secrets.token_bytes(32)}, "i1"),
    )


def numbers_in_rows(engine: Any, numbers: list[str]) -> list[str]:
    """Where any of ``numbers`` stands in clear in a database: ``table.column``, every table,
    every row (bytes read as Latin-1, so a number in a blob shows too)."""
    from sqlalchemy import MetaData, Table, inspect

    found = set()
    with engine.connect() as conn:
        for name in inspect(conn).get_table_names():
            table = Table(name, MetaData(), autoload_with=conn)
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    text = value.decode("latin-1") if isinstance(value, bytes) else str(value)
                    if any(n in text for n in numbers):
                        found.add(f"{name}.{column}")
    return sorted(found)


def state_privacy(state: Path) -> Any:
    """The keys a service keeps in its state folder (no key variables set): what a test needs
    to read the answers that service sealed."""
    from matcher.store.sealed import INDEX_KEY_FILE, HolderIndex, Privacy, Sealer, stored_key

    return Privacy(Sealer(*stored_key(state)), HolderIndex(*stored_key(state, INDEX_KEY_FILE)))


def _records(request: pytest.FixtureRequest, tmp_path: Path, fresh: bool) -> Any:
    from matcher.store.records import Records

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / ('fresh.db' if fresh else 'records.db')}"
    else:
        url = request.getfixturevalue("fresh_postgres_url" if fresh else "postgres_url")
    store = Records(url, new_privacy())
    request.addfinalizer(store.close)
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """The records database, on both real databases (PostgreSQL's shared by the session)."""
    return _records(request, tmp_path, fresh=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_records(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    """An empty records database of the test's own (for tests that read the whole table)."""
    return _records(request, tmp_path, fresh=True)
