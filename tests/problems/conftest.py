"""Fixtures for the data-problem loop: the records database on both real databases."""

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
