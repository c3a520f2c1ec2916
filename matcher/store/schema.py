"""Every table the code uses, on one MetaData: what Alembic's environment compares the migrated
schema with. Each domain's tables are defined in its module here; importing them registers them."""

from __future__ import annotations

from sqlalchemy import MetaData

__all__ = ["target_metadata"]


def target_metadata() -> MetaData:
    """The MetaData with every table registered: each module below defines its tables on it."""
    from matcher.store import applications, checks, files, problems, users
    from matcher.store.engine import metadata

    defining = (applications, checks, files, problems, users)
    assert all(m.__name__.startswith("matcher.store.") for m in defining)
    return metadata
