"""Data-problem reports: read, filter, move through the workflow, keep every change.

Workflow (整改流程)::

    open ──► acknowledged ──► fixed ──► verified        (verified: set by the service only)
      │            │            │
      └──► rejected (with a reason) ◄┘   fixed ──► open  (the problem showed again)

A department moves its own reports to acknowledged, fixed or rejected; the service verifies a
fixed report when a later lookup of the same record no longer shows the problem, and reopens a
fixed or verified one whose problem shows again. Every change is a row in data_problem_events.
Methods are blocking: call them from a worker thread.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, func, insert, select, update

from matcher.catalog.departments import Directory
from matcher.errors import Forbidden, InputError, NotFound, TransitionNotAllowed
from matcher.problems.assess import AssessmentRow, assess, months_span
from matcher.problems.codes import PROBLEM_TEXT, STATUS_TEXT
from matcher.store.records import Records, data_problem_events, data_problems

__all__ = ["DEPARTMENT_MOVES", "Change", "Page", "ProblemQuery", "ProblemStore"]

# What a department may do from each status. "verified" is never among them.
DEPARTMENT_MOVES: dict[str, frozenset[str]] = {
    "open": frozenset({"acknowledged", "fixed", "rejected"}),
    "acknowledged": frozenset({"fixed", "rejected"}),
    "rejected": frozenset({"open"}),
}
SYSTEM = "system"


@dataclass(frozen=True)
class ProblemQuery:
    department: str | None = None
    status: str | None = None
    code: str | None = None
    since: dt.date | None = None  # first seen on or after
    until: dt.date | None = None  # first seen before the day after
    holder_hash: str | None = None
    page: int = 1
    per_page: int = 50


@dataclass(frozen=True)
class Page:
    total: int
    items: list[dict[str, Any]]


@dataclass(frozen=True)
class Change:
    """A report that is new or changed status: what webhooks are told."""

    event: str  # created | status_changed
    report: dict[str, Any]


class ProblemStore:
    def __init__(self, records: Records, directory: Directory, tz: dt.tzinfo) -> None:
        self.engine = records.engine
        self.directory = directory
        self.tz = tz

    # -- reading ------------------------------------------------------------------------------

    def _out(self, row: Any) -> dict[str, Any]:
        r = dict(row)
        r["key"] = r.pop("problem_key")
        r["evidence"] = json.loads(r.pop("evidence_json") or "{}")
        r["problem_text"] = PROBLEM_TEXT.get(r["problem"], r["problem"])
        r["status_text"] = STATUS_TEXT.get(r["status"], r["status"])
        r["department_name"] = self.directory.name(r["department"])
        for k in ("first_seen", "last_seen", "status_changed_at", "fixed_at"):
            if isinstance(r.get(k), dt.datetime):
                r[k] = _aware(r[k]).astimezone(self.tz)
        return r

    def _where(self, q: ProblemQuery) -> list[Any]:
        c = data_problems.c
        where: list[Any] = []
        if q.department:
            where.append(c.department == q.department)
        if q.status:
            where.append(c.status == q.status)
        if q.code:
            where.append(c.problem == q.code)
        if q.holder_hash:
            where.append(c.holder_hash == q.holder_hash)
        if q.since:
            where.append(c.first_seen >= _start_of(q.since, self.tz))
        if q.until:
            where.append(c.first_seen < _start_of(q.until + dt.timedelta(days=1), self.tz))
        return where

    def search(self, q: ProblemQuery) -> Page:
        where = self._where(q)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(data_problems).where(*where))
            rows = conn.execute(
                select(data_problems)
                .where(*where)
                .order_by(data_problems.c.last_seen.desc(), data_problems.c.id.desc())
                .limit(q.per_page)
                .offset((q.page - 1) * q.per_page)
            ).mappings()
            return Page(int(total.scalar_one()), [self._out(r) for r in rows])

    def all(self, q: ProblemQuery) -> list[dict[str, Any]]:
        """Every report the filters select, oldest first (exports)."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(data_problems).where(*self._where(q)).order_by(data_problems.c.id)
            ).mappings()
            return [self._out(r) for r in rows]

    def get(self, problem_id: int) -> dict[str, Any]:
        with self.engine.connect() as conn:
            return self._get(conn, problem_id)

    def _get(self, conn: Connection, problem_id: int) -> dict[str, Any]:
        row = conn.execute(select(data_problems).where(data_problems.c.id == problem_id)).first()
        if row is None:
            raise NotFound(f"数据问题 {problem_id} 不存在")
        report = self._out(row._mapping)
        events = conn.execute(
            select(data_problem_events)
            .where(data_problem_events.c.problem_id == problem_id)
            .order_by(data_problem_events.c.id)
        ).mappings()
        report["history"] = [
            {
                "at": _aware(e["at"]).astimezone(self.tz),
                "actor": e["actor"],
                "from_status": e["from_status"],
                "to_status": e["to_status"],
                "note": e["note"],
            }
            for e in events
        ]
        return report

    def events(self) -> list[dict[str, Any]]:
        """Every status change (assessment)."""
        with self.engine.connect() as conn:
            return [dict(r) for r in conn.execute(select(data_problem_events)).mappings()]

    def reopened_ids(self) -> set[int]:
        """Reports whose problem showed again after a fix (recurrence)."""
        e = data_problem_events.c
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(e.problem_id)
                .where(e.to_status == "open", e.from_status.in_(("fixed", "verified")))
                .distinct()
            )
            return {r[0] for r in rows}

    def assessment(
        self, since: str, until: str, department: str | None, deadline_days: int
    ) -> list[AssessmentRow]:
        """考核 rows for the months ``since``..``until`` (YYYY-MM, inclusive)."""
        first, after = months_span(since, until)
        last = after - dt.timedelta(days=1)
        reports = self.all(ProblemQuery(department=department, since=first, until=last))
        names = {code: d.name for code, d in self.directory.departments.items()}
        return assess(
            reports,
            self.reopened_ids(),
            tz=self.tz,
            deadline_days=deadline_days,
            now=dt.datetime.now(self.tz),
            names=names,
        )

    def fixed_keys(self) -> set[str]:
        """Keys of the reports awaiting verification."""
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(data_problems.c.problem_key).where(data_problems.c.status == "fixed")
            )
            return {r[0] for r in rows}

    # -- changing -----------------------------------------------------------------------------

    def _move(
        self,
        conn: Connection,
        report_id: int,
        old: str,
        new: str,
        actor: str,
        note: str | None,
        now: dt.datetime,
    ) -> bool:
        """Compare-and-set the status (a concurrent change wins; this one then reports False)."""
        values: dict[str, Any] = {"status": new, "status_changed_at": now}
        if new == "fixed":
            values["fixed_at"] = now
        if new in ("fixed", "rejected") or (new == "open" and note):
            values["resolution_note"] = note
        done = conn.execute(
            update(data_problems)
            .where(data_problems.c.id == report_id, data_problems.c.status == old)
            .values(**values)
        )
        if done.rowcount != 1:
            return False
        conn.execute(
            insert(data_problem_events).values(
                problem_id=report_id, at=now, actor=actor, from_status=old, to_status=new, note=note
            )
        )
        return True

    def transition(
        self,
        problem_id: int,
        to_status: str,
        *,
        actor: str,
        department: str | None,
        note: str | None = None,
        office: bool = False,
    ) -> Change:
        """A department's status change on its own report (``office``: the drive's office,
        which may act for any department)."""
        if to_status == "rejected" and not (note and note.strip()):
            raise InputError("驳回须说明理由", field="note")
        now = dt.datetime.now(dt.UTC)  # stored in UTC: SQLite drops the offset
        with self.engine.begin() as conn:
            report = self._get(conn, problem_id)
            if not office and (department is None or department != report["department"]):
                raise Forbidden("只有该数据问题所属部门可以变更其状态")
            old = report["status"]
            if to_status not in DEPARTMENT_MOVES.get(old, frozenset()):
                raise TransitionNotAllowed(
                    f"数据问题状态为“{STATUS_TEXT.get(old, old)}”，不能变更为“"
                    f"{STATUS_TEXT.get(to_status, to_status)}”"
                )
            if not self._move(conn, problem_id, old, to_status, actor, note, now):
                raise TransitionNotAllowed("数据问题状态已被他人变更，请刷新后重试")
            return Change("status_changed", self._get(conn, problem_id))

    def after_check(self, filed: Iterable[str], clean: Iterable[str]) -> list[Change]:
        """What the service itself does after a check: note new reports, reopen fixed or
        verified ones met again, verify fixed ones the check found clean."""
        filed, clean = sorted(set(filed)), sorted(set(clean))
        if not filed and not clean:
            return []
        now = dt.datetime.now(dt.UTC)
        changes: list[Change] = []
        c = data_problems.c
        with self.engine.begin() as conn:
            rows = conn.execute(
                select(c.id, c.status, c.problem_key, c.occurrences).where(
                    c.problem_key.in_([*filed, *clean])
                )
            ).all()
            logged = _with_events(conn, [r.id for r in rows])
            for r in rows:
                if r.problem_key in filed:
                    if r.id not in logged:
                        conn.execute(
                            insert(data_problem_events).values(
                                problem_id=r.id,
                                at=now,
                                actor=SYSTEM,
                                from_status=None,
                                to_status="open",
                                note="发现数据问题",
                            )
                        )
                        changes.append(Change("created", self._get(conn, r.id)))
                    elif r.status in ("fixed", "verified") and self._move(
                        conn, r.id, r.status, "open", SYSTEM, "整改后问题再次出现", now
                    ):
                        changes.append(Change("status_changed", self._get(conn, r.id)))
                elif r.status == "fixed" and self._move(
                    conn, r.id, "fixed", "verified", SYSTEM, "复查未再发现该问题", now
                ):
                    changes.append(Change("status_changed", self._get(conn, r.id)))
        return changes


def _with_events(conn: Connection, ids: Sequence[int]) -> set[int]:
    if not ids:
        return set()
    rows = conn.execute(
        select(data_problem_events.c.problem_id)
        .where(data_problem_events.c.problem_id.in_(ids))
        .distinct()
    )
    return {r[0] for r in rows}


def _aware(value: dt.datetime) -> dt.datetime:
    # SQLite hands back naive datetimes for timezone-aware columns; they were stored as UTC.
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


def _start_of(day: dt.date, tz: dt.tzinfo) -> dt.datetime:
    """Midnight of ``day`` in the service's zone, in UTC as the reports' times are stored."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz).astimezone(dt.UTC)
