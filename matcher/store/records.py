"""Durable records: waive-checks, usage records (用证记录) and data-problem reports.

SQLite by default, PostgreSQL by URL, through SQLAlchemy Core. Everything a check produces is
written in one transaction, committed before the API answers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable, Sequence
from operator import itemgetter
from typing import Any, cast

from sqlalchemy import (
    Boolean,
    Connection,
    CursorResult,
    Table,
    bindparam,
    insert,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

from matcher.errors import RecordsUnavailable
from matcher.store.checks import (
    CHECK_COLUMNS,
    USAGE_COLUMNS,
    CheckRecord,
    StoredCheck,
    UsageRecord,
    api_keys,
    checks,
    idempotency_keys,
    rechecks,
    usage_chain,
    usage_records,
)
from matcher.store.claims import claim_all
from matcher.store.engine import SCHEMA_LOCK, make_engine, metadata
from matcher.store.engine import unavailable as _unavailable
from matcher.store.problems import (
    DataProblem,
    data_problem_events,
    data_problem_occurrences,
    data_problems,
    upsert_problems,
)
from matcher.store.rechecks import DONE, PENDING, backoff, queue_values
from matcher.store.sealed import HolderIndex, Privacy, SealError, text_key_id
from matcher.store.usage import UsageQueries, check_context, usage_context
from matcher.store.usage_chain import head_of, head_query, link_use, move_head

# The tables and rows a check writes are defined beside this module (checks, problems, engine);
# their names are here too, where the callers of Records look for them.
__all__ = [
    "SCHEMA_LOCK",
    "CheckRecord",
    "DataProblem",
    "Records",
    "StoredCheck",
    "UsageRecord",
    "api_keys",
    "checks",
    "data_problem_events",
    "data_problem_occurrences",
    "data_problems",
    "idempotency_keys",
    "make_engine",
    "metadata",
    "rechecks",
    "usage_chain",
    "usage_records",
]

log = logging.getLogger(__name__)


# The index of a store opened without keys (a store's own tests, schema commands): entries are
# still not the number, but anyone can recompute them. The service always passes its keys.
UNKEYED = HolderIndex({"unkeyed": bytes(32)}, "unkeyed")


class Records(UsageQueries):
    """The service's durable store. Methods are blocking: call them from a worker thread.

    ``privacy``: the keys that keep holders' numbers out of clear. A check's answer (reasons and
    evidence name the holder) is sealed to the check; a usage record keeps the holder's blind
    index entry. Without it (a store's own tests), answers stay as they are and the index is
    unkeyed."""

    def __init__(self, url: str, privacy: Privacy | None = None) -> None:
        from matcher.store.migrations import ensure_current

        self.privacy = privacy
        self.index = privacy.index if privacy is not None else UNKEYED
        self.engine = make_engine(url)
        try:
            ensure_current(self.engine)  # an empty database gets the schema; an old one stops
        except BaseException:
            self.engine.dispose()
            raise
        self._statements: dict[str, tuple[str, tuple[str, ...], bool]] = {}
        self._inserts: dict[
            tuple[str, tuple[str, ...]],
            tuple[str, tuple[str, ...], itemgetter[Any] | None, list[tuple[int, Any]], bool],
        ] = {}

    @property
    def is_local(self) -> bool:
        """True for an embedded database (SQLite): its commits need no network round trip."""
        return self.engine.dialect.name == "sqlite"

    def close(self) -> None:
        self.engine.dispose()

    def ping(self) -> bool:
        try:
            with self.engine.connect() as conn:
                conn.execute(text("SELECT 1"))
        except Exception:  # any driver error means "not ready"
            return False
        return True

    def find_idempotent(self, requester: str, application_id: str) -> StoredCheck | None:
        try:
            with self.engine.connect() as conn:
                return self._find(conn, requester, application_id)
        except SQLAlchemyError as exc:
            raise RecordsUnavailable(f"the records database failed: {type(exc).__name__}") from exc

    def _seal_answer(self, check_id: str, response_json: str) -> str:
        if self.privacy is None:
            return response_json
        return self.privacy.seal(response_json, check_context(check_id))

    def _open_answer(self, check_id: str, stored: str) -> str:
        if self.privacy is None:
            return stored
        try:
            return self.privacy.open(stored, check_context(check_id))
        except SealError as exc:
            raise RecordsUnavailable(f"check {check_id}'s answer cannot be opened: {exc}") from None

    def _find(self, conn: Connection, requester: str, application_id: str) -> StoredCheck | None:
        row = conn.execute(
            select(idempotency_keys.c.request_hash, checks.c.check_id, checks.c.response_json)
            .join(checks, checks.c.check_id == idempotency_keys.c.check_id)
            .where(
                idempotency_keys.c.requester == requester,
                idempotency_keys.c.application_id == application_id,
            )
        ).first()
        if row is None:
            return None
        return StoredCheck(
            row.check_id, row.request_hash, self._open_answer(row.check_id, row.response_json)
        )

    def save_check(self, record: CheckRecord, *, replaces: str | None = None) -> StoredCheck:
        """Store one check and all it used; see :meth:`save_checks`."""
        result = self.save_checks([(record, replaces)])[0]
        if isinstance(result, RecordsUnavailable):
            raise result
        return result

    def save_checks(
        self, batch: Sequence[tuple[CheckRecord, str | None]]
    ) -> list[StoredCheck | RecordsUnavailable]:
        """Store checks and all they used in one transaction (one disk flush for the batch).

        With an application_id the idempotency key is claimed too; where another request claimed
        it first (in an earlier batch, another process, or earlier in this batch), that check is
        not written and the stored one is returned in its place. ``replaces`` names the check a
        re-run supersedes (one that met an unavailable registry).

        One result per record, in order: what is stored, or the error that kept that record
        out. A record that fails does not fail the others: when the batch's transaction fails,
        each record is written again in a transaction of its own.
        """
        try:
            return list(self._write(batch))
        except SQLAlchemyError as exc:
            if len(batch) == 1:
                return [_unavailable(exc)]
            log.warning(
                "a batch of %d checks failed (%s); writing each on its own",
                len(batch),
                type(exc).__name__,
            )
        results: list[StoredCheck | RecordsUnavailable] = []
        for item in batch:
            try:
                results.append(self._write([item])[0])
            except SQLAlchemyError as exc:
                log.error("check %s not recorded: %s", item[0].check_id, exc)
                results.append(_unavailable(exc))
        return results

    def _write(self, batch: Sequence[tuple[CheckRecord, str | None]]) -> list[StoredCheck]:
        with self.engine.begin() as conn:
            results = claim_all(conn, batch, self._find)
            written = {r.check_id for r in results}
            kept = [record for record, _ in batch if record.check_id in written]
            reruns = {record.check_id for record, replaces in batch if replaces is not None}
            self._bulk_insert(
                conn,
                checks,
                CHECK_COLUMNS,
                [
                    (
                        r.check_id,
                        r.requester,
                        r.application_id,
                        r.matter_code,
                        r.request_hash,
                        self._seal_answer(r.check_id, r.response_json),
                        r.created_at,
                        r.use,
                        r.purpose,
                    )
                    for r in kept
                ],
            )
            self._bulk_insert(conn, usage_records, USAGE_COLUMNS, self._chained(conn, kept))
            for record in kept:
                if record.application_id is not None and (
                    record.recheck_request is not None or record.check_id in reruns
                ):
                    self._queue(conn, record)
            self._file_problems(conn, kept)
        return results

    def _file_problems(self, conn: Connection, kept: Sequence[CheckRecord]) -> None:
        """File the batch's data problems: one report per key, repeats counted (an upsert).

        In a savepoint of its own: whatever goes wrong here is logged and costs the batch its
        problem reports, never its checks and usage records."""
        seen = [(r.check_id, r.created_at, p) for r in kept for p in r.problems]
        if not seen:
            return
        try:
            with conn.begin_nested():
                upsert_problems(conn, seen)
        except SQLAlchemyError as exc:
            log.error("data problems of %d checks not filed: %s", len(kept), exc)

    def _queue(self, conn: Connection, record: CheckRecord) -> None:
        """Keep the re-check queue in step with the answer now on record: queued (again, one
        attempt more, a longer wait) while it meets an unavailable registry, done once not."""
        assert record.application_id is not None
        key = (
            rechecks.c.requester == record.requester,
            rechecks.c.application_id == record.application_id,
        )
        now = dt.datetime.now(dt.UTC)
        if record.recheck_request is None:  # a re-run that got through: done
            conn.execute(
                rechecks.update()
                .where(*key, rechecks.c.status == PENDING)
                .values(status=DONE, check_id=record.check_id, claimed_until=None, updated_at=now)
            )
            return
        attempts = conn.execute(select(rechecks.c.attempts).where(*key)).scalar()
        if attempts is None:
            conn.execute(
                rechecks.insert().values(
                    queue_values(
                        record.requester,
                        record.application_id,
                        record.check_id,
                        record.recheck_request,
                        now,
                        now + backoff(1, record.recheck_after_s),
                    )
                )
            )
            return
        conn.execute(
            rechecks.update()
            .where(*key)
            .values(
                status=PENDING,
                check_id=record.check_id,
                request_json=record.recheck_request,
                attempts=attempts + 1,
                next_at=now + backoff(attempts + 2, record.recheck_after_s),
                claimed_until=None,
                updated_at=now,
            )
        )

    def recheck_status(self, requester: str, application_id: str) -> str | None:
        """pending | done | gave_up for an application answered while a registry was down."""
        try:
            with self.engine.connect() as conn:
                return conn.execute(
                    select(rechecks.c.status).where(
                        rechecks.c.requester == requester,
                        rechecks.c.application_id == application_id,
                    )
                ).scalar()
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc

    def _chained(self, conn: Connection, kept: list[CheckRecord]) -> list[tuple[Any, ...]]:
        """The usage rows of ``kept``, each with its place and link in the hash chain; the
        chain's head moves past them in this transaction (locked until it commits)."""
        index = self.index
        keys: dict[tuple[str, str], str] = {}
        rows = []
        for r in kept:
            for u in r.usage:
                holder = (u.holder_id_type, u.holder_id)
                if holder not in keys:
                    keys[holder] = index.key(*holder)
                rows.append((r, u._replace(holder_id=keys[holder])))
        if not rows:
            return []
        head = head_of(self._driver(conn, "chain head", _chain_head, {}).first())
        links = head.extend(
            [
                (
                    r.check_id,
                    r.requester,
                    r.matter_code,
                    r.application_id,
                    *u,
                    *link_use(r.use, r.purpose),
                )
                for r, u in rows
            ]
        )
        self._driver(
            conn, "move chain head", _move_chain_head, {"seq": head.seq, "head": head.head_hash}
        )
        return [(r.check_id, *u, *ln) for (r, u), ln in zip(rows, links, strict=True)]

    def _driver(
        self,
        conn: Connection,
        name: str,
        build: Callable[[bool], ClauseElement],
        values: dict[str, Any],
    ) -> CursorResult[Any]:
        """Run a fixed statement of the hot path at the driver: compiled once for the dialect,
        so a batch does not pay SQLAlchemy's statement building and cache lookup (~0.3 ms a
        batch for the chain head's read and move). ``build(locking)``: the statement;
        ``values``: its bound parameters by name."""
        compiled = self._statements.get(name)
        if compiled is None:
            clause = build(self.engine.dialect.name != "sqlite")
            stmt = cast(SQLCompiler, clause.compile(dialect=self.engine.dialect))
            compiled = (str(stmt), tuple(stmt.positiontup or ()), stmt.positional)
            self._statements[name] = compiled
        sql, names, positional = compiled
        params = tuple(values[n] for n in names) if positional else values
        return conn.exec_driver_sql(sql, params)

    def _bulk_insert(
        self, conn: Connection, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """One driver-level executemany of ``rows`` (tuples in ``columns`` order): the hot path
        of every check, without per-row statement building. Values go through their column
        type's bind processor where one is needed; booleans go as they are (both drivers take
        Python bools)."""
        if not rows:
            return
        compiled = self._inserts.get((table.name, columns))
        if compiled is None:
            stmt = insert(table).compile(dialect=self.engine.dialect, column_keys=list(columns))
            names = tuple(stmt.positiontup or stmt.params)
            order = tuple(columns.index(name) for name in names)
            # The statement's own column order, when it differs from the rows' (None: same).
            reorder = itemgetter(*order) if order != tuple(range(len(columns))) else None
            procs = [
                (i, proc)
                for i, name in enumerate(names)
                if not isinstance(table.c[name].type, Boolean)
                and (proc := table.c[name].type.bind_processor(self.engine.dialect)) is not None
            ]
            compiled = (str(stmt), names, reorder, procs, stmt.positional)
            self._inserts[(table.name, columns)] = compiled
        sql, names, reorder, procs, positional = compiled
        if reorder is not None:
            rows = [reorder(row) for row in rows]
        if procs:
            values = [list(row) for row in rows]
            for i, proc in procs:
                for v in values:
                    if v[i] is not None:
                        v[i] = proc(v[i])
            rows = [tuple(v) for v in values]
        params: list[Any] = (
            rows if positional else [dict(zip(names, row, strict=True)) for row in rows]
        )
        conn.exec_driver_sql(sql, params)

    def reseal(self) -> int:
        """Seal every check's answer and every sealed number of an early usage record again
        under the current data key (``matcher data rotate-key``); how many rows."""
        if self.privacy is None:
            return 0
        privacy, current = self.privacy, self.privacy.sealer.current
        done = 0
        for table, key, column, context in (
            (checks, checks.c.check_id, checks.c.response_json, check_context),
            (usage_records, usage_records.c.id, usage_records.c.holder_sealed, usage_context),
        ):
            with self.engine.connect() as conn:
                rows = conn.execute(select(key, column).where(column.is_not(None))).all()
            stale = [(k, v) for k, v in rows if text_key_id(v) != current]
            for start in range(0, len(stale), 500):
                values = [
                    {"k": k, "v": privacy.seal(privacy.open(v, context(k)), context(k))}
                    for k, v in stale[start : start + 500]
                ]
                with self.engine.begin() as conn:
                    conn.execute(
                        table.update()
                        .where(key == bindparam("k"))
                        .values({column.name: bindparam("v")}),
                        values,
                    )
            done += len(stale)
        return done

    def add_problems(self, check_id: str, problems: Sequence[DataProblem], at: dt.datetime) -> None:
        """File data problems found after a check was recorded (e.g. by pre-filling its form)."""
        if not problems:
            return
        from matcher.store.problems import upsert_problems

        try:
            with self.engine.begin() as conn:
                upsert_problems(conn, [(check_id, at, p) for p in problems])
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc

    def problems_for_check(self, check_id: str) -> list[dict[str, Any]]:
        """The data-problem reports a check met (filed or counted again)."""
        seen = data_problem_occurrences
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(data_problems)
                .join(seen, seen.c.problem_key == data_problems.c.problem_key)
                .where(seen.c.check_id == check_id)
                .order_by(data_problems.c.id)
            ).mappings()
            return [dict(r) for r in rows]

    def get_check(self, check_id: str) -> dict[str, Any] | None:
        with self.engine.connect() as conn:
            value = conn.execute(
                select(checks.c.response_json).where(checks.c.check_id == check_id)
            ).scalar()
        return json.loads(self._open_answer(check_id, value)) if value is not None else None


def _chain_head(locking: bool) -> ClauseElement:
    return head_query(usage_chain, lock=locking)


def _move_chain_head(_locking: bool) -> ClauseElement:
    return move_head(usage_chain)
