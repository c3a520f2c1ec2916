"""Kept applications (申请) and the clerk's edits, in the records database (SQLAlchemy Core).

Two tables join the records' metadata (:mod:`matcher.store.records`): ``applications`` — one row per
(requester, application_id): the request, the check that answered it, the pre-filled form and,
once confirmed, who confirmed, the final values and what changed — and ``application_edits``,
every value a clerk chose or typed, in order. Methods are blocking: call them from a worker thread.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

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
from matcher.store.engine import metadata
from matcher.store.sealed import Sealer, SealError, open_text, seal_text, text_key_id

if TYPE_CHECKING:
    from matcher.store.records import Records

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
    # The holder's number and name, sealed; found by the blind index entry beside them.
    Column("holder_id", Text, nullable=False),
    Column("holder_name", Text, nullable=False),
    Column("holder_key", String(64), nullable=False),
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
    # Every registry record the application's check was given, as the registry signed it, with
    # the trust-store entry of its key (revision 0011): what its archive package carries.
    Column("evidence_json", Text),
    UniqueConstraint("requester", "application_id", name="uq_applications_requester_app"),
    Index("ix_applications_holder_key", "holder_key"),
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
    evidence_json: str | None = None


@dataclass(frozen=True)
class EditRow:
    field_key: str
    value: str
    how: str
    source_json: str | None
    clerk: str
    created_at: dt.datetime


# What an application keeps of the holder and the form (names, numbers, addresses): sealed at
# rest with the data key (matcher.store.sealed), each bound to its application.
SEALED = (
    "holder_id",
    "holder_name",
    "request_json",
    "prefill_json",
    "final_json",
    "changes_json",
    "evidence_json",
)
SEALED_EDIT = ("value", "source_json")


class ApplicationStore:
    """Applications and edits over the records database's engine. ``sealer``: the personal
    JSON columns are kept sealed with it (the service always passes one)."""

    def __init__(self, records: Records, sealer: Sealer | None = None) -> None:
        self.engine = records.engine  # its tables come from the migrations (revision 0005)
        self.sealer = sealer
        self.index = records.index

    def _seal(self, values: dict[str, Any], key: str, names: tuple[str, ...]) -> dict[str, Any]:
        if self.sealer is None:
            return values
        context = f"applications:{key}".encode()
        return {
            k: seal_text(self.sealer, v, context) if k in names and v is not None else v
            for k, v in values.items()
        }

    def _open(self, values: dict[str, Any], key: str, names: tuple[str, ...]) -> dict[str, Any]:
        if self.sealer is None:
            return values
        context = f"applications:{key}".encode()
        try:
            return {
                k: open_text(self.sealer, v, context) if k in names and v is not None else v
                for k, v in values.items()
            }
        except SealError as exc:
            raise RecordsUnavailable(f"a kept application cannot be opened: {exc}") from None

    def _row(self, mapping: Any) -> ApplicationRow:
        values = {c.name: mapping[c.name] for c in applications.columns if c.name != "holder_key"}
        return ApplicationRow(**self._open(values, values["id"], SEALED))

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
        return self._row(found) if found is not None else None

    def _all(self, query: Any) -> list[ApplicationRow]:
        try:
            with self.engine.connect() as conn:
                rows = conn.execute(query).mappings().all()
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return [self._row(r) for r in rows]

    def insert(self, row: ApplicationRow) -> ApplicationRow:
        """Keep a new application; where another request kept one under the same number first,
        that one is returned instead."""
        try:
            with self.engine.begin() as conn:
                conn.execute(
                    insert(applications).values(
                        **self._seal(dict(row.__dict__), row.id, SEALED),
                        holder_key=self.index.key(row.holder_id_type, row.holder_id),
                    )
                )
        except IntegrityError:
            existing = self.find(row.requester, row.application_id)
            if existing is None:
                raise
            return existing
        except SQLAlchemyError as exc:
            raise self._fail(exc) from exc
        return row

    def replace_prefill(
        self,
        key: str,
        *,
        check_id: str,
        prefill_json: str | None,
        at: dt.datetime,
        evidence_json: str | None = None,
    ) -> None:
        """A re-run's check, form and records (the first met an unavailable registry)."""
        self._update(
            key,
            "prefilled",
            check_id=check_id,
            prefill_json=prefill_json,
            evidence_json=evidence_json,
            updated_at=at,
        )

    def _update(self, key: str, when_status: str, **values: Any) -> bool:
        values = self._seal(values, key, SEALED)
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
                conn.execute(
                    insert(application_edits).values(
                        application=key, **self._seal(dict(edit.__dict__), key, SEALED_EDIT)
                    )
                )
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
        edits = []
        for r in rows:
            o = self._open({k: r[k] for k in SEALED_EDIT}, key, SEALED_EDIT)
            edits.append(
                EditRow(
                    r["field_key"],
                    o["value"],
                    r["how"],
                    o["source_json"],
                    r["clerk"],
                    r["created_at"],
                )
            )
        return edits

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

    def recent(
        self,
        *,
        limit: int = 50,
        search: str | None = None,
        matters: Collection[str] | None = None,
    ) -> list[ApplicationRow]:
        """Newest first; ``search`` matches an application number or a holder's ID exactly
        (through the blind index: either ID type); ``matters``: only these matters' (None: all)."""
        query = select(applications).order_by(applications.c.created_at.desc()).limit(limit)
        if matters is not None:
            query = query.where(applications.c.matter_code.in_(sorted(matters)))
        if search:
            term = "".join(search.split())
            holder = [k for t in ("citizen_id", "uscc") for k in self.index.keys(t, term)]
            query = query.where(
                or_(
                    applications.c.application_id == term,
                    applications.c.holder_key.in_(holder),
                )
            )
        return self._all(query)

    def between(
        self,
        since: dt.datetime,
        until: dt.datetime,
        *,
        matters: Collection[str] | None = None,
        limit: int = 20_000,
    ) -> list[ApplicationRow]:
        """Applications made in [since, until), oldest first, at most ``limit``; ``matters``:
        only these matters' (None: all)."""
        query = (
            select(applications)
            .where(applications.c.created_at >= since, applications.c.created_at < until)
            .order_by(applications.c.created_at)
            .limit(limit)
        )
        if matters is not None:
            query = query.where(applications.c.matter_code.in_(sorted(matters)))
        return self._all(query)


def reseal_applications(store: ApplicationStore) -> int:
    """Seal every kept application and edit again under the current key; how many rows."""
    sealer = store.sealer
    if sealer is None:
        return 0
    done = 0
    for table, names, key_column, id_column in (
        (applications, SEALED, applications.c.id, applications.c.id),
        (application_edits, SEALED_EDIT, application_edits.c.application, application_edits.c.id),
    ):
        with store.engine.connect() as conn:
            rows = conn.execute(select(id_column, key_column, *(table.c[n] for n in names))).all()
        for row in rows:
            row_id, key, *texts = tuple(row)
            values = dict(zip(names, texts, strict=True))
            stale = {
                n: v
                for n, v in values.items()
                if v is not None and text_key_id(v) != sealer.current
            }
            if not stale:
                continue
            context = f"applications:{key}".encode()
            fresh = {
                n: seal_text(sealer, open_text(sealer, v, context), context)
                for n, v in stale.items()
            }
            with store.engine.begin() as conn:
                conn.execute(update(table).where(id_column == row_id).values(**fresh))
            done += 1
    return done
