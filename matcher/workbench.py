"""What the clerk's workbench reads: recent applications, one application, masked identifiers.

Blocking (SQLAlchemy), like Records: call from a worker thread. No web framework here.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select

from matcher.errors import InvalidIdentifier
from matcher.ids import check_citizen_id, normalise_holder_id
from matcher.records import Records, checks, usage_records

__all__ = ["ApplicationRow", "Workbench", "mask_id", "mask_ids_in"]

_CITIZEN_LIKE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")


def mask_id(id_type: str, value: str) -> str:
    """A citizen ID as the window shows it (330902********0314); a credit code is public."""
    if id_type != "citizen_id" or len(value) < 10:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]


def _mask_match(match: re.Match[str]) -> str:
    try:
        check_citizen_id(match.group())
    except InvalidIdentifier:
        return match.group()  # an 18-digit number that is not an ID number stays as it is
    return mask_id("citizen_id", match.group())


def mask_ids_in(value: Any) -> Any:
    """``value`` (text, or JSON-like lists and dicts of it) with every citizen ID masked: the
    holder's number also appears as a resident-ID licence's number and in decisions' reasons."""
    if isinstance(value, str):
        return _CITIZEN_LIKE.sub(_mask_match, value)
    if isinstance(value, list):
        return [mask_ids_in(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_ids_in(v) for k, v in value.items()}
    return value


@dataclass(frozen=True)
class ApplicationRow:
    key: str  # what the workbench's addresses name it by
    application_id: str | None
    requester: str
    matter_code: str
    matter_name: str
    holder_id_type: str | None
    holder_id: str | None
    created_at: dt.datetime
    summary: dict[str, int]

    @property
    def holder_masked(self) -> str:
        if self.holder_id is None or self.holder_id_type is None:
            return "—"
        return mask_id(self.holder_id_type, self.holder_id)


def _aware(value: dt.datetime) -> dt.datetime:
    return value if value.tzinfo is not None else value.replace(tzinfo=dt.UTC)


class Workbench:
    def __init__(self, records: Records) -> None:
        self.engine = records.engine

    def recent(self, search: str | None = None, limit: int = 50) -> list[ApplicationRow]:
        """Newest first; ``search`` matches an application id or an applicant's ID number."""
        applicant = (
            select(
                usage_records.c.check_id,
                usage_records.c.holder_id_type,
                usage_records.c.holder_id,
            )
            .where(usage_records.c.holder_role == "applicant")
            .distinct()
            .subquery()
        )
        query = (
            select(
                checks.c.check_id,
                checks.c.application_id,
                checks.c.requester,
                checks.c.matter_code,
                checks.c.created_at,
                checks.c.response_json,
                applicant.c.holder_id_type,
                applicant.c.holder_id,
            )
            .outerjoin(applicant, applicant.c.check_id == checks.c.check_id)
            .order_by(checks.c.created_at.desc())
            .limit(limit)
        )
        if search:
            term = search.strip()
            query = query.where(
                (checks.c.application_id == term)
                | (applicant.c.holder_id == normalise_holder_id("", term))
                | (checks.c.check_id == term)
            )
        with self.engine.connect() as conn:
            rows = conn.execute(query).all()
        out: list[ApplicationRow] = []
        for r in rows:
            response = json.loads(r.response_json)
            out.append(
                ApplicationRow(
                    key=r.check_id,
                    application_id=r.application_id,
                    requester=r.requester,
                    matter_code=r.matter_code,
                    matter_name=response.get("matter_name", r.matter_code),
                    holder_id_type=r.holder_id_type,
                    holder_id=r.holder_id,
                    created_at=_aware(r.created_at),
                    summary=response.get("summary", {}),
                )
            )
        return out

    def get(self, key: str) -> tuple[ApplicationRow, dict[str, Any]] | None:
        """One application by its key, with the stored check answer."""
        rows = self.recent(key, limit=1)
        if not rows or rows[0].key != key:
            return None
        with self.engine.connect() as conn:
            value = conn.execute(
                select(checks.c.response_json).where(checks.c.check_id == key)
            ).scalar_one()
        return rows[0], json.loads(value)
