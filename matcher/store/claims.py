"""Claiming applications' idempotency keys inside a group commit: the first check of an
application claims its key; a copy, or a later request, gets the stored check that holds it."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from sqlalchemy import Connection, insert
from sqlalchemy.exc import IntegrityError

from matcher.errors import RecordsUnavailable
from matcher.store.checks import CheckRecord, StoredCheck, idempotency_keys

__all__ = ["claim", "claim_all", "insert_keys"]

# Looks up the stored check that holds (requester, application_id), its answer opened.
Find = Callable[[Connection, str, str], StoredCheck | None]


def claim_all(
    conn: Connection, batch: Sequence[tuple[CheckRecord, str | None]], find: Find
) -> list[StoredCheck]:
    """Each record's claim on its application's idempotency key: the stored check that
    answers it. Copies of one application in this batch: the first claims, the others get
    its answer (the key's row is not committed yet, so no constraint would tell them). New
    keys are claimed in one statement (``INSERT … ON CONFLICT DO NOTHING RETURNING``); a key
    someone holds already is looked up; a re-run's move of its key goes one by one."""
    first: dict[tuple[str, str], tuple[CheckRecord, str | None]] = {}
    for record, replaces in batch:
        if record.application_id is not None and record.claims_key:
            first.setdefault((record.requester, record.application_id), (record, replaces))
    claimed: dict[tuple[str, str], StoredCheck] = {}
    new = [record for record, replaces in first.values() if replaces is None]
    for key, (record, replaces) in first.items():
        if replaces is not None:
            claimed[key] = claim(conn, record, replaces, find)
    if new and conn.dialect.name in ("sqlite", "postgresql"):
        inserted = insert_keys(conn, new)
        for record in new:
            key = (record.requester, record.application_id or "")
            if key in inserted:
                claimed[key] = StoredCheck(
                    record.check_id, record.request_hash, record.response_json
                )
            else:  # committed by another transaction (another batch or process)
                existing = find(conn, *key)
                if existing is None:
                    raise RecordsUnavailable("an idempotency key is held but not readable")
                claimed[key] = existing
    else:
        for record in new:
            key = (record.requester, record.application_id or "")
            claimed[key] = claim(conn, record, None, find)
    return [
        claimed[(record.requester, record.application_id)]
        if record.application_id is not None and record.claims_key
        else StoredCheck(record.check_id, record.request_hash, record.response_json)
        for record, _ in batch
    ]


def insert_keys(conn: Connection, records: Sequence[CheckRecord]) -> set[tuple[str, str]]:
    """Claim the records' keys in one statement; returns the keys this one inserted."""
    from sqlalchemy.dialects import postgresql, sqlite

    table = idempotency_keys
    keys = [table.c.requester, table.c.application_id]
    stmt = (
        postgresql.insert(table).on_conflict_do_nothing(index_elements=keys)
        if conn.dialect.name == "postgresql"
        else sqlite.insert(table).on_conflict_do_nothing(index_elements=keys)
    ).returning(*keys)
    rows = conn.execute(
        stmt,
        [
            {
                "requester": r.requester,
                "application_id": r.application_id,
                "request_hash": r.request_hash,
                "check_id": r.check_id,
            }
            for r in records
        ],
    )
    return {(row.requester, row.application_id) for row in rows}


def claim(conn: Connection, record: CheckRecord, replaces: str | None, find: Find) -> StoredCheck:
    """Claim the application_id's idempotency key for this check, or find who has it."""
    if record.application_id is None or not record.claims_key:
        return StoredCheck(record.check_id, record.request_hash, record.response_json)
    if replaces is not None:
        moved = conn.execute(
            idempotency_keys.update()
            .where(
                idempotency_keys.c.requester == record.requester,
                idempotency_keys.c.application_id == record.application_id,
                idempotency_keys.c.check_id == replaces,
            )
            .values(check_id=record.check_id, request_hash=record.request_hash)
        )
        if moved.rowcount == 1:
            return StoredCheck(record.check_id, record.request_hash, record.response_json)
        # Another re-run of the same application replaced it first: its answer stands.
        existing = find(conn, record.requester, record.application_id)
        if existing is not None:
            return existing
    try:
        with conn.begin_nested():
            conn.execute(
                insert(idempotency_keys).values(
                    requester=record.requester,
                    application_id=record.application_id,
                    request_hash=record.request_hash,
                    check_id=record.check_id,
                )
            )
    except IntegrityError:
        # Committed by another transaction since this one began (another batch or process).
        existing = find(conn, record.requester, record.application_id)
        if existing is None:
            raise
        return existing
    return StoredCheck(record.check_id, record.request_hash, record.response_json)
