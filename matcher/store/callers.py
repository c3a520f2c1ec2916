"""The callers' API keys table (``matcher.access.keys`` keeps and checks the keys)."""

from __future__ import annotations

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table

__all__ = ["keys_table"]


def keys_table(metadata: MetaData) -> Table:
    return Table(
        "api_keys",
        metadata,
        Column("key_id", String(16), primary_key=True),
        Column("caller", String(128), nullable=False),
        Column("key_hash", String(64), nullable=False, unique=True),
        Column("scopes", String(256), nullable=False),  # space-separated
        Column("rate_per_min", Integer),  # None: no limit
        Column("created_at", DateTime(timezone=True), nullable=False),
        Column("expires_at", DateTime(timezone=True)),  # set when rotated away (the overlap)
        Column("revoked_at", DateTime(timezone=True)),
        Column("note", String(256)),
        # the department (directory code) the key's system works for: its data-problem reads
        Column("department", String(64)),
    )
