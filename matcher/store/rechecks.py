"""The re-check queue's table and rows: answers that met an unavailable registry, kept to be
asked again (``matcher.waiver.recheck`` runs the queue; ``Records`` fills it with each check)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import Column, DateTime, Integer, MetaData, String, Table, Text, UniqueConstraint

__all__ = [
    "DONE",
    "GAVE_UP",
    "PENDING",
    "backoff",
    "queue_values",
    "recheck_context",
    "recheck_table",
]

PENDING, DONE, GAVE_UP = "pending", "done", "gave_up"


def recheck_table(metadata: MetaData) -> Table:
    return Table(
        "rechecks",
        metadata,
        Column("id", Integer, primary_key=True, autoincrement=True),
        Column("requester", String(128), nullable=False),
        Column("application_id", String(128), nullable=False),
        Column("check_id", String(36), nullable=False),  # the answer now on record
        Column("request_json", Text, nullable=False),
        Column("status", String(16), nullable=False),  # pending | done | gave_up
        Column("attempts", Integer, nullable=False),
        Column("next_at", DateTime(timezone=True), nullable=False),
        Column("claimed_until", DateTime(timezone=True)),
        Column("updated_at", DateTime(timezone=True), nullable=False),
        UniqueConstraint("requester", "application_id", name="uq_rechecks_application"),
    )


def backoff(attempts: int, first_s: float) -> dt.timedelta:
    """Wait before the next try: ``first_s`` doubling per attempt, at most an hour."""
    return dt.timedelta(seconds=min(first_s * 2 ** max(0, attempts - 1), 3600.0))


def queue_values(
    requester: str,
    application_id: str,
    check_id: str,
    request_json: str,
    now: dt.datetime,
    next_at: dt.datetime,
) -> dict[str, Any]:
    """A new entry's row."""
    return {
        "requester": requester,
        "application_id": application_id,
        "check_id": check_id,
        "request_json": request_json,
        "status": PENDING,
        "attempts": 0,
        "next_at": next_at,
        "claimed_until": None,
        "updated_at": now,
    }


def recheck_context(requester: str) -> bytes:
    """What a queued request is sealed to: its requester's queue (the row moved to another
    requester does not open)."""
    return f"rechecks:{requester}".encode()
