"""Assessment (考核): per department and month, how its data problems were handled.

Counted over the reports first seen in each month: found, still open (open or acknowledged),
fixed (fixed or verified), verified, rejected, overdue (not fixed within the deadline, fixed
late, or still open past it; rejected ones excepted), reopened (their problem showed again
after a fix), and the median and 90th percentile of days from first seen to fixed.
"""

from __future__ import annotations

import datetime as dt
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

__all__ = ["AssessmentRow", "assess", "month_of", "months_span"]

OPEN = ("open", "acknowledged")
FIXED = ("fixed", "verified")


@dataclass(frozen=True)
class AssessmentRow:
    department: str | None
    department_name: str
    month: str  # YYYY-MM
    found: int
    open: int
    fixed: int
    verified: int
    rejected: int
    overdue: int
    reopened: int
    median_days_to_fix: float | None
    p90_days_to_fix: float | None

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def month_of(moment: dt.datetime, tz: dt.tzinfo) -> str:
    return moment.astimezone(tz).strftime("%Y-%m")


def months_span(since: str, until: str) -> tuple[dt.date, dt.date]:
    """The first day of month ``since`` and the first day after month ``until`` (YYYY-MM):
    the months ``since``..``until`` inclusive are [first, after)."""
    first = dt.date.fromisoformat(f"{since}-01")
    after = (dt.date.fromisoformat(f"{until}-01") + dt.timedelta(days=32)).replace(day=1)
    return first, after


def _percentile(values: Sequence[float], q: float) -> float | None:
    """The q-quantile by linear interpolation between closest ranks (Excel's PERCENTILE.INC)."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return round(ordered[low] + (ordered[high] - ordered[low]) * (pos - low), 1)


def assess(
    reports: Iterable[Mapping[str, Any]],
    reopened_ids: set[int],
    *,
    tz: dt.tzinfo,
    deadline_days: int,
    now: dt.datetime,
    names: Mapping[str, str],
) -> list[AssessmentRow]:
    """One row per (department, month) that has reports, sorted by department then month."""
    groups: dict[tuple[str | None, str], list[Mapping[str, Any]]] = {}
    for r in reports:
        groups.setdefault((r["department"], month_of(r["first_seen"], tz)), []).append(r)
    deadline = dt.timedelta(days=deadline_days)
    rows = []
    for (dept, month), items in sorted(groups.items(), key=lambda g: (g[0][0] or "~", g[0][1])):
        days = [
            (r["fixed_at"] - r["first_seen"]).total_seconds() / 86400
            for r in items
            if r["fixed_at"] is not None
        ]
        overdue = sum(
            1
            for r in items
            if r["status"] != "rejected" and ((r["fixed_at"] or now) - r["first_seen"]) > deadline
        )
        rows.append(
            AssessmentRow(
                department=dept,
                department_name=names.get(dept or "", "未确定责任部门"),
                month=month,
                found=len(items),
                open=sum(r["status"] in OPEN for r in items),
                fixed=sum(r["status"] in FIXED for r in items),
                verified=sum(r["status"] == "verified" for r in items),
                rejected=sum(r["status"] == "rejected" for r in items),
                overdue=overdue,
                reopened=sum(r["id"] in reopened_ids for r in items),
                median_days_to_fix=round(statistics.median(days), 1) if days else None,
                p90_days_to_fix=_percentile(days, 0.9),
            )
        )
    return rows
