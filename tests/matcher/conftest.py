"""Fixtures for the core's tests: the records database, on both real databases."""

from pathlib import Path

import pytest

from matcher.records import Records


@pytest.fixture(params=["sqlite", "postgresql"])
def records(request: pytest.FixtureRequest, tmp_path: Path) -> Records:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'records.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    store = Records(url)
    request.addfinalizer(store.close)
    return store


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_records(request: pytest.FixtureRequest, tmp_path: Path) -> Records:
    """An empty records database of the test's own (for tests that read the whole table)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'fresh.db'}"
    else:
        url = request.getfixturevalue("fresh_postgres_url")
    store = Records(url)
    request.addfinalizer(store.close)
    return store
