"""Caller keys kept in the records database: per business system, with scopes, a rate limit,
rotation with an overlap window, and revocation (``matcher keys …``).

A key is ``mk_<key id>_<secret>``; only the SHA-256 of the whole key is kept (keys are 256-bit
random values, so a fast hash is the right one: nothing to guess), and the key is shown once,
when it is made. Keys from ``[[callers]]`` (environment variables) keep working beside these.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    Engine,
    Table,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from matcher.access.scopes import ALL_SCOPES, check_scopes
from matcher.errors import InputError, RecordsUnavailable
from matcher.store.callers import keys_table

__all__ = [
    "ALL_SCOPES",
    "Grant",
    "KeyStore",
    "NewKey",
    "digest",
    "keys_table",
    "scope_for_path",
]

# A department directory code, as a key's department.
DEPARTMENT_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,63}$"

# /v1/ path prefix → the scope it needs (first match wins); a path not listed needs "admin".
_SCOPES_BY_PREFIX: tuple[tuple[str, str | None], ...] = (
    ("/v1/waive-check", "waive-check"),
    ("/v1/applications", "applications"),
    ("/v1/prefill", "applications"),
    ("/v1/files", "extract"),
    ("/v1/extract", "extract"),
    ("/v1/usage", "usage"),
    ("/v1/audits", "audits"),
    ("/v1/data-problems", "data-problems"),
    ("/v1/matters", None),  # the catalog: any known caller
)


def scope_for_path(path: str) -> str | None:
    """The scope a /v1/ path needs; None: any authenticated caller."""
    for prefix, scope in _SCOPES_BY_PREFIX:
        if path == prefix or path.startswith(prefix + "/"):
            return scope
    return "admin"


def digest(key: str | bytes) -> str:
    return hashlib.sha256(key.encode() if isinstance(key, str) else key).hexdigest()


@dataclass(frozen=True)
class Grant:
    """What a presented key may do."""

    caller: str
    key_id: str
    scopes: frozenset[str]
    rate_per_min: int | None
    department: str | None = None  # a department's key reads that department's data problems

    def allows(self, scope: str | None) -> bool:
        return scope is None or "admin" in self.scopes or scope in self.scopes


@dataclass(frozen=True)
class NewKey:
    key_id: str
    caller: str
    key: str  # shown once


def _utc(value: dt.datetime | None) -> dt.datetime | None:
    """SQLite reads back no offset; what it holds is UTC."""
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value


class KeyStore:
    """Blocking, like Records."""

    def __init__(self, engine: Engine, table: Table) -> None:
        self.engine = engine
        self.table = table

    def create(
        self,
        caller: str,
        scopes: Sequence[str],
        *,
        rate_per_min: int | None = None,
        note: str | None = None,
        department: str | None = None,
        now: dt.datetime | None = None,
    ) -> NewKey:
        chosen = check_scopes(scopes)
        if department is not None and not re.fullmatch(DEPARTMENT_PATTERN, department):
            raise InputError(
                f"not a department code: {department!r} (the directory's, e.g. zs-amr)",
                field="department",
            )
        key_id = secrets.token_hex(6)
        key = f"mk_{key_id}_{secrets.token_urlsafe(32)}"
        with self.engine.begin() as conn:
            conn.execute(
                self.table.insert().values(
                    key_id=key_id,
                    caller=caller,
                    key_hash=digest(key),
                    scopes=" ".join(chosen),
                    rate_per_min=rate_per_min,
                    created_at=now or dt.datetime.now(dt.UTC),
                    note=note,
                    department=department,
                )
            )
        return NewKey(key_id, caller, key)

    def rotate(
        self, key_id: str, *, overlap: dt.timedelta, now: dt.datetime | None = None
    ) -> NewKey:
        """A new key for the same caller and scopes; the old one works for ``overlap`` more."""
        now = now or dt.datetime.now(dt.UTC)
        t = self.table
        with self.engine.connect() as conn:
            old = conn.execute(select(t).where(t.c.key_id == key_id)).first()
        if old is None or old.revoked_at is not None:
            raise InputError(f"no active key {key_id}", field="key_id")
        new = self.create(
            old.caller,
            old.scopes.split(),
            rate_per_min=old.rate_per_min,
            note=old.note,
            department=old.department,
            now=now,
        )
        with self.engine.begin() as conn:
            conn.execute(update(t).where(t.c.key_id == key_id).values(expires_at=now + overlap))
        return new

    def revoke(self, key_id: str, *, now: dt.datetime | None = None) -> bool:
        t = self.table
        with self.engine.begin() as conn:
            done = conn.execute(
                update(t)
                .where(t.c.key_id == key_id, t.c.revoked_at.is_(None))
                .values(revoked_at=now or dt.datetime.now(dt.UTC))
            ).rowcount
        return bool(done)

    def list(self) -> list[dict[str, object]]:
        t = self.table
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(
                    t.c.key_id,
                    t.c.caller,
                    t.c.scopes,
                    t.c.rate_per_min,
                    t.c.created_at,
                    t.c.expires_at,
                    t.c.revoked_at,
                    t.c.note,
                    t.c.department,
                ).order_by(t.c.caller, t.c.created_at)
            ).mappings()
            return [dict(r) for r in rows]

    def known(self) -> dict[str, tuple[Grant, dt.datetime | None, dt.datetime | None]]:
        """key hash → (grant, expires_at, revoked_at) for every key ever made."""
        t = self.table
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(select(t)).all()
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the key store failed: {type(exc).__name__}") from exc
        return {
            r.key_hash: (
                Grant(
                    r.caller,
                    r.key_id,
                    frozenset(r.scopes.split()),
                    r.rate_per_min,
                    r.department,
                ),
                _utc(r.expires_at),
                _utc(r.revoked_at),
            )
            for r in rows
        }
