"""Data-problem payloads of the API (``schemas/data-problem*.schema.json``, assessment)."""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, Field

__all__ = ["AssessmentOut", "AssessmentRowOut", "DataProblemOut", "DataProblemPage", "HistoryEntry"]

StatusName = Literal["open", "acknowledged", "fixed", "verified", "rejected"]


class HistoryEntry(BaseModel):
    at: dt.datetime
    actor: str = Field(description="the caller that made the change, or system")
    from_status: StatusName | None = Field(description="null: the report was filed")
    to_status: StatusName
    note: str | None = None


class DataProblemOut(BaseModel):
    """One data-problem report (数据问题): no raw ID number, holders masked."""

    id: int
    key: str = Field(description="keyed hash of (registry, subject, problem)")
    registry: str
    problem: str = Field(description="problem code (docs/data-problems.md)")
    problem_text: str = Field(description="中文说明")
    department: str | None = Field(description="the owning department's directory code")
    department_name: str | None
    subject: Literal["record", "holder", "registry", "material"]
    evidence_id: str | None
    evidence_type: str | None
    issuer_code: str | None
    holder_masked: str | None
    holder_hash: str | None = Field(description="keyed hash that finds this holder's reports")
    evidence: dict[str, Any]
    status: StatusName
    status_text: str
    occurrences: int
    first_seen: dt.datetime
    last_seen: dt.datetime
    first_check_id: str
    last_check_id: str
    status_changed_at: dt.datetime
    fixed_at: dt.datetime | None
    resolution_note: str | None
    history: list[HistoryEntry] | None = Field(
        default=None, description="every status change, oldest first (one report only)"
    )


class DataProblemPage(BaseModel):
    total: int
    page: int
    per_page: int
    items: list[DataProblemOut]


class AssessmentRowOut(BaseModel):
    department: str | None
    department_name: str
    month: str = Field(pattern=r"^\d{4}-\d{2}$")
    found: int
    open: int
    fixed: int
    verified: int
    rejected: int
    overdue: int
    reopened: int
    median_days_to_fix: float | None
    p90_days_to_fix: float | None


class AssessmentOut(BaseModel):
    since: str
    until: str
    department: str | None
    deadline_days: int
    rows: list[AssessmentRowOut]
