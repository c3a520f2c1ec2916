"""Uploaded files are kept for their retention and no longer, on both real databases."""

import datetime as dt
import uuid

import pytest
from sqlalchemy import select

from matcher.errors import RecordsUnavailable
from matcher.store.files import PURGE_EVERY, FileStore, files
from matcher.store.records import Records

# Long before anything the rest of the suite uploads, so a sweep here deletes only these files.
T0 = dt.datetime(2020, 1, 1, 9, 0, tzinfo=dt.UTC)
RETENTION = dt.timedelta(hours=72)


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def store(records: Records, clock: Clock) -> FileStore:
    return FileStore(records, RETENTION, clock)


@pytest.fixture
def who() -> str:
    return f"window-{uuid.uuid4().hex[:8]}"


def test_a_file_is_there_until_its_retention_ends_and_gone_after(
    store: FileStore, clock: Clock, who: str
) -> None:
    put = store.put(who, b"%PDF-1.7 scan", "application/pdf", "id.pdf")
    assert put.expires_at == T0 + RETENTION
    clock.now = T0 + RETENTION - dt.timedelta(seconds=1)
    found = store.get(who, put.file_id)
    assert found is not None and found.data == b"%PDF-1.7 scan"
    assert found.expires_at == put.expires_at
    clock.now = T0 + RETENTION + dt.timedelta(seconds=1)
    assert store.get(who, put.file_id) is None  # before any sweep, already as good as missing
    assert store.purge() == 1
    assert store.purge() == 0


def test_uploading_the_same_bytes_again_restarts_their_time(
    store: FileStore, clock: Clock, who: str
) -> None:
    first = store.put(who, b"card", "image/png", "card.png")
    clock.now = T0 + RETENTION / 2
    again = store.put(who, b"card", "image/png", "card.png")
    assert again.file_id == first.file_id and again.expires_at == clock.now + RETENTION
    clock.now = T0 + RETENTION + dt.timedelta(hours=1)
    assert store.get(who, first.file_id) is not None
    clock.now = again.expires_at + dt.timedelta(seconds=1)
    assert store.get(who, first.file_id) is None
    # After expiry the same bytes are a new upload with a new id.
    assert store.put(who, b"card", "image/png", "card.png").file_id != first.file_id


def _kept(records: Records, who: str) -> list[bytes]:
    with records.engine.connect() as conn:
        rows = conn.execute(select(files.c.data).where(files.c.requester == who)).all()
    return sorted(bytes(row.data) for row in rows)


def test_expired_files_are_deleted_at_start_up_and_by_uploads_now_and_then(
    records: Records, clock: Clock, who: str
) -> None:
    FileStore(records, RETENTION, clock).put(who, b"old", "image/png", None)
    clock.now = T0 + RETENTION + dt.timedelta(hours=1)
    store = FileStore(records, RETENTION, clock)  # a worker starting up sweeps once
    assert _kept(records, who) == []
    store.put(who, b"new", "image/png", None)
    expired = clock.now + RETENTION + dt.timedelta(seconds=1)
    clock.now = expired - dt.timedelta(minutes=1)
    assert store.purge() == 0  # "new" still has a minute
    clock.now = expired
    store.put(who, b"newer", "image/png", None)  # a sweep is not due yet
    assert _kept(records, who) == [b"new", b"newer"]
    clock.now = expired + PURGE_EVERY
    store.put(who, b"newest", "image/png", None)  # due: "new" goes
    assert _kept(records, who) == [b"newer", b"newest"]


def test_retention_must_be_positive(records: Records) -> None:
    with pytest.raises(ValueError, match="positive"):
        FileStore(records, dt.timedelta(0))


def test_a_failed_sweep_of_other_files_does_not_fail_the_upload(
    records: Records,
    store: FileStore,
    clock: Clock,
    who: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Deleting expired files is housekeeping done on the way: when it fails, the upload that
    happened to trigger it is still kept, and the next upload sweeps again."""
    store.put(who, b"old", "image/png", None)
    real_purge = store.purge

    def broken() -> int:
        raise RecordsUnavailable("the file store failed: OperationalError")

    clock.now = T0 + RETENTION + PURGE_EVERY
    monkeypatch.setattr(store, "purge", broken)
    put = store.put(who, b"scan", "image/png", "scan.png")
    found = store.get(who, put.file_id)
    assert found is not None and found.data == b"scan"
    assert _kept(records, who) == [b"old", b"scan"]
    monkeypatch.setattr(store, "purge", real_purge)
    store.put(who, b"scan 2", "image/png", None)
    assert _kept(records, who) == [b"scan", b"scan 2"]
