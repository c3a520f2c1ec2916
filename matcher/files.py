"""Uploaded files: stored in the records database so every instance sees them.

A file is kept as uploaded (bytes, sniffed media type, SHA-256) under a random id. The same bytes
uploaded twice by one requester get the same id back.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from dataclasses import dataclass

from sqlalchemy import Column, DateTime, Integer, LargeBinary, String, Table, select
from sqlalchemy.exc import SQLAlchemyError

from matcher.errors import RecordsUnavailable
from matcher.records import Records, metadata

__all__ = ["FileStore", "StoredFile"]

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


class FileStore:
    """Blocking, like Records: call from a worker thread."""

    def __init__(self, records: Records) -> None:
        self.engine = records.engine
        files.create(self.engine, checkfirst=True)

    def put(self, requester: str, data: bytes, media_type: str, filename: str | None) -> StoredFile:
        digest = hashlib.sha256(data).hexdigest()
        try:
            with self.engine.begin() as conn:
                existing = conn.execute(
                    select(files.c.file_id).where(
                        files.c.requester == requester, files.c.sha256 == digest
                    )
                ).scalar()
                if existing is not None:
                    return StoredFile(existing, digest, media_type, filename, len(data), data)
                file_id = "f_" + secrets.token_hex(16)
                conn.execute(
                    files.insert().values(
                        file_id=file_id,
                        requester=requester,
                        sha256=digest,
                        media_type=media_type,
                        filename=filename,
                        size=len(data),
                        data=data,
                        created_at=dt.datetime.now(dt.UTC),
                    )
                )
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the file store failed: {type(exc).__name__}") from exc
        return StoredFile(file_id, digest, media_type, filename, len(data), data)

    def get(self, requester: str, file_id: str) -> StoredFile | None:
        """A file this requester uploaded; another requester's file is as good as missing."""
        try:
            with self.engine.connect() as conn:
                row = conn.execute(
                    select(files).where(files.c.file_id == file_id, files.c.requester == requester)
                ).first()
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the file store failed: {type(exc).__name__}") from exc
        if row is None:
            return None
        return StoredFile(
            row.file_id, row.sha256, row.media_type, row.filename, row.size, bytes(row.data)
        )
