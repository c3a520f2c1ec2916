"""Uploaded files: stored in the records database so every instance sees them.

A file is kept as uploaded (bytes, sniffed media type, SHA-256) under a random id. The same bytes
uploaded twice by one requester get the same id back, and their time starts again.

Uploads are copies of citizens' identity papers and licences, needed only while an application is
being handled: each is kept for ``retention`` (setting ``upload_retention_hours``) after its
upload, and is then as good as missing and deleted. Usage records and decisions are kept; they
hold no file.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import secrets
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Column, DateTime, Integer, LargeBinary, String, Table, delete, select, update
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import RecordsUnavailable
from matcher.store.engine import metadata
from matcher.store.sealed import Sealer, SealError

if TYPE_CHECKING:
    from matcher.store.records import Records

__all__ = ["DEFAULT_RETENTION", "FileStore", "StoredFile"]

log = logging.getLogger(__name__)

DEFAULT_RETENTION = dt.timedelta(hours=72)
# Expired files are deleted by the first upload after this much time since the last sweep.
PURGE_EVERY = dt.timedelta(minutes=10)

files = Table(
    "files",
    metadata,
    Column("file_id", String(40), primary_key=True),
    Column("requester", String(128), nullable=False, index=True),
    Column("sha256", String(64), nullable=False, index=True),
    Column("media_type", String(64), nullable=False),
    Column("filename", String(255)),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class StoredFile:
    file_id: str
    sha256: str
    media_type: str
    filename: str | None
    size: int
    data: bytes
    expires_at: dt.datetime


class FileStore:
    """Blocking, like Records: call from a worker thread."""

    def __init__(
        self,
        records: Records,
        retention: dt.timedelta = DEFAULT_RETENTION,
        clock: Callable[[], dt.datetime] | None = None,
        sealer: Sealer | None = None,
    ) -> None:
        """``sealer``: files are kept sealed with it (AES-GCM, matcher.store.sealed); the service
        always passes one."""
        if retention <= dt.timedelta(0):
            raise ValueError("retention must be positive")
        self.engine = records.engine
        self.retention = retention
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self.sealer = sealer
        self._purge_lock = threading.Lock()
        self._purged_at: dt.datetime | None = None
        self.purge()

    def purge(self) -> int:
        """Delete the files kept longer than ``retention``; how many went."""
        now = self._now()
        try:
            with self.engine.begin() as conn:
                gone = conn.execute(delete(files).where(files.c.created_at < now - self.retention))
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the file store failed: {type(exc).__name__}") from exc
        self._purged_at = now
        if gone.rowcount:
            log.info("deleted %d uploaded files kept past %s", gone.rowcount, self.retention)
        return int(gone.rowcount or 0)

    def _purge_when_due(self) -> None:
        if not self._purge_lock.acquire(blocking=False):
            return  # another thread is sweeping
        try:
            if self._purged_at is None or self._now() - self._purged_at >= PURGE_EVERY:
                self.purge()
        except RecordsUnavailable as exc:
            # Sweeping other uploads is housekeeping: its failure is not this upload's. The
            # next upload tries again.
            log.warning("could not delete expired uploads: %s", exc)
        finally:
            self._purge_lock.release()

    def put(self, requester: str, data: bytes, media_type: str, filename: str | None) -> StoredFile:
        self._purge_when_due()
        digest = hashlib.sha256(data).hexdigest()
        now = self._now()
        expires_at = now + self.retention
        try:
            with self.engine.begin() as conn:
                existing = conn.execute(
                    select(files.c.file_id).where(
                        files.c.requester == requester,
                        files.c.sha256 == digest,
                        files.c.created_at >= now - self.retention,
                    )
                ).scalar()
                if existing is not None:
                    conn.execute(
                        update(files).where(files.c.file_id == existing).values(created_at=now)
                    )
                    return StoredFile(
                        existing, digest, media_type, filename, len(data), data, expires_at
                    )
                file_id = "f_" + secrets.token_hex(16)
                kept = self._seal(data, file_id, requester)
                conn.execute(
                    files.insert().values(
                        file_id=file_id,
                        requester=requester,
                        sha256=digest,
                        media_type=media_type,
                        filename=filename,
                        size=len(data),
                        data=kept,
                        created_at=now,
                    )
                )
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the file store failed: {type(exc).__name__}") from exc
        return StoredFile(file_id, digest, media_type, filename, len(data), data, expires_at)

    def get(self, requester: str, file_id: str) -> StoredFile | None:
        """A file this requester uploaded, within its retention; another requester's file, or
        one kept past its time, is as good as missing."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(files).where(
                        files.c.file_id == file_id,
                        files.c.requester == requester,
                        files.c.created_at >= self._now() - self.retention,
                    )
                ).first()
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the file store failed: {type(exc).__name__}") from exc
        if row is None:
            return None
        created = row.created_at
        if created.tzinfo is None:  # SQLite keeps no offset; what is written is UTC
            created = created.replace(tzinfo=dt.UTC)
        return StoredFile(
            row.file_id,
            row.sha256,
            row.media_type,
            row.filename,
            row.size,
            self._open(bytes(row.data), row.file_id, row.requester),
            created + self.retention,
        )

    # -- sealing at rest --------------------------------------------------------------------

    @staticmethod
    def _context(file_id: str, requester: str) -> bytes:
        # Bound into the seal: a blob moved onto another file's or caller's row does not open.
        return f"files:{file_id}:{requester}".encode()

    def _seal(self, data: bytes, file_id: str, requester: str) -> bytes:
        if self.sealer is None:
            return data
        return self.sealer.seal(data, self._context(file_id, requester))

    def _open(self, blob: bytes, file_id: str, requester: str) -> bytes:
        if self.sealer is None:
            return blob
        try:
            return self.sealer.open(blob, self._context(file_id, requester))
        except SealError as exc:
            log.error("uploaded file %s cannot be opened: %s", file_id, exc)
            raise RecordsUnavailable(f"a kept file cannot be opened: {exc}") from None

    def reseal(self) -> tuple[int, int]:
        """Seal every kept file under the current key (key rotation); (resealed, already)."""
        if self.sealer is None:
            return 0, 0
        done = current = 0
        with self.engine.connect() as conn:
            ids = [
                (r.file_id, r.requester)
                for r in conn.execute(select(files.c.file_id, files.c.requester))
            ]
        for file_id, requester in ids:
            with self.engine.begin() as conn:
                blob = conn.execute(select(files.c.data).where(files.c.file_id == file_id)).scalar()
                if blob is None:
                    continue  # deleted meanwhile
                blob = bytes(blob)
                if Sealer.key_id_of(blob) == self.sealer.current:
                    current += 1
                    continue
                data = self._open(blob, file_id, requester)
                conn.execute(
                    update(files)
                    .where(files.c.file_id == file_id)
                    .values(data=self._seal(data, file_id, requester))
                )
                done += 1
        return done, current
