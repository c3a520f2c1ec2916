"""Kept applications (申请) and the clerk's edits, in the records database (SQLAlchemy Core).

Two tables join the records' metadata (:mod:`matcher.records`): ``applications`` — one row per
(requester, application_id): the request, the check that answered it, the pre-filled form and,
once confirmed, who confirmed, the final values and what changed — and ``application_edits``,
every value a clerk chose or typed, in order. Methods are blocking: call them from a worker thread.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from matcher.errors import RecordsUnavailable
from matcher.records import Records, metadata

__all__ = ["ApplicationRow", "ApplicationStore", "EditRow", "application_edits", "applications"]

applications = Table(
    "applications",
    metadata,
    Column("id", String(36), primary_key=True),
    Column("requester", String(128), nullable=False),
    Column("application_id", String(128), nullable=False),
    Column("matter_code", String(64), nullable=False),
    Column("form_code", String(64)),
    Column("holder_id_type", String(16), nullable=False),
    Column("holder_id", String(32), nullable=False),
    Column("holder_name", String(100), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("request_json", Text, nullable=False),
    Column("check_id", String(36), ForeignKey("checks.check_id"), nullable=False),
    Column("prefill_json", Text),
    Column("status", String(16), nullable=False),  # prefilled | confirmed
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("confirmed_by", String(128)),
    Column("confirmed_at", DateTime(timezone=True)),
    Column("final_json", Text),
    Column("changes_json", Text),
    UniqueConstraint("requester", "application_id", name="uq_applications_requester_app"),
    Index("ix_applications_holder", "holder_id_type", "holder_id"),
    Index("ix_applications_created", "created_at"),
)

application_edits = Table(
    "application_edits",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("application", String(36), ForeignKey("applications.id"), nullable=False),
    Column("field_key", String(64), nullable=False),
    Column("value", Text, nullable=False),
    Column("how", String(16), nullable=False),  # prefilled | candidate | typed
    Column("source_json", Text),
    Column("clerk", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_application_edits_application", "application"),
)


@dataclass(frozen=True)
class ApplicationRow:
    id: str
    requester: str
    application_id: str
    matter_code: str
    form_code: str | None
    holder_id_type: str
    holder_id: str
    holder_name: str
    request_hash: str
    request_json: str
    check_id: str
    prefill_json: str | None
    status: str
    created_at: dt.datetime
    updated_at: dt.datetime
    confirmed_by: str | None = None
    confirmed_at: dt.datetime | None = None
    final_json: str | None = None
    changes_json: str | None = None


@dataclass(frozen=True)
class EditRow:
    field_key: str
    value: str
    how: str
    source_json: str | None
    clerk: str
    created_at: dt.datetime


def _row(mapping: Any) -> ApplicationRow:
    return ApplicationRow(**{c.name: mapping[c.name] for c in applications.columns})


class ApplicationStore:
    """Applications and edits over the records database's engine."""

    def __init__(self, records: Records) -> None:
        self.engine = records.engine  # its tables come from the migrations (revision 0005)

    def _fail(self, exc: SQLAlchemyError) -> RecordsUnavailable:
        return RecordsUnavailable(f"the records database failed: {type(exc).__name__}")

    def find(self, requester: str, application_id: str) -> ApplicationRow | None:
        """The application a business system sent under this number, if any."""
        return self._one(
            applications.c.requester == requester,
            applications.c.application_id == application_id,
        )

    def get(self, key: str) -> ApplicationRow | None:
        """The application with this internal id (what the clerk's pages use)."""
        return self._one(applications.c.id == key)

    def _one(self, *where: Any) -> ApplicationRow | None:
        try:
            with self.engine.connect() as conn:
                found = conn.execute(select(applications).where(*where)).mappings().first()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return _row(found) if found is not None else None

    def insert(self, row: ApplicationRow) -> ApplicationRow:
        """Keep a new application; where another request kept one under the same number first,
        that one is returned instead."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(applications).values(**row.__dict__))
        except IntegrityError:
            existing = self.find(row.requester, row.application_id)
            if existing is None:
                raise
            return existing
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return row

    def replace_prefill(
        self, key: str, *, check_id: str, prefill_json: str | None, at: dt.datetime
    ) -> None:
        """A re-run's check and form (the first met an unavailable registry)."""
        self._update(
            key,
            "prefilled",
            check_id=check_id,
            prefill_json=prefill_json,
            updated_at=at,
        )

    def _update(self, key: str, when_status: str, **values: Any) -> bool:
        try:
            with self.engine.begin() as conn:
                done = conn.execute(
                    update(applications)
                    .where(applications.c.id == key, applications.c.status == when_status)
                    .values(**values)
                )
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return done.rowcount == 1

    def add_edit(self, key: str, edit: EditRow) -> None:
        """Record one value a clerk chose or typed (kept for good, in order)."""
        try:
            with self.engine.begin() as conn:
                conn.execute(insert(application_edits).values(application=key, **edit.__dict__))
                conn.execute(
                    update(applications)
                    .where(applications.c.id == key)
                    .values(updated_at=edit.created_at)
                )
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc

    def edits(self, key: str) -> list[EditRow]:
        """Every edit of an application, oldest first."""
        query = (
            select(application_edits)
            .where(application_edits.c.application == key)
            .order_by(application_edits.c.id)
        )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return [
            EditRow(
                r["field_key"], r["value"], r["how"], r["source_json"], r["clerk"], r["created_at"]
            )
            for r in rows
        ]

    def confirm(
        self, key: str, *, clerk: str, at: dt.datetime, final_json: str, changes_json: str
    ) -> bool:
        """Mark a pre-filled application confirmed; False if it was confirmed already."""
        return self._update(
            key,
            "prefilled",
            status="confirmed",
            confirmed_by=clerk,
            confirmed_at=at,
            final_json=final_json,
            changes_json=changes_json,
            updated_at=at,
        )

    def recent(self, *, limit: int = 50, search: str | None = None) -> list[ApplicationRow]:
        """Newest first; ``search`` matches an application number or a holder's ID exactly."""
        query = select(applications).order_by(applications.c.created_at.desc()).limit(limit)
        if search:
            term = "".join(search.split())
            query = query.where(
                or_(
                    applications.c.application_id == term,
                    applications.c.holder_id == term.upper(),
                )
            )
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return [_row(r) for r in rows]
