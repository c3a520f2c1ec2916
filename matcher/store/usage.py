"""Reading the usage records (用证记录): one check's, one holder's, page by page in chain order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from matcher.store.checks import checks, usage_records
from matcher.store.engine import unavailable as _unavailable

__all__ = ["UsageQueries"]


class UsageQueries:
    """The read side of the usage records; :class:`matcher.store.records.Records` has it."""

    engine: Engine

    def _usage(
        self, *where: Any, by_seq: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Usage records with who asked, for what and when: by time, or in chain order."""
        order = (usage_records.c.seq,) if by_seq else (checks.c.created_at, usage_records.c.id)
        query = (
            select(
                usage_records,
                checks.c.requester,
                checks.c.matter_code,
                checks.c.application_id,
                checks.c.created_at,
                checks.c.use,
                checks.c.purpose,
            )
            .join(checks, checks.c.check_id == usage_records.c.check_id)
            .where(*where)
            .order_by(*order)
            .limit(limit)
        )
        try:
            with self.engine.connect() as conn:
                return [dict(r) for r in conn.execute(query).mappings()]
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc

    def usage_for_check(self, check_id: str) -> list[dict[str, Any]]:
        """The usage records (用证记录) of one check, with who asked, for what and when."""
        return self._usage(usage_records.c.check_id == check_id)

    def usage_for_holder(self, id_type: str, holder_id: str) -> list[dict[str, Any]]:
        """Every use of one holder's evidence, oldest first: what the holder may ask to see."""
        return self._usage(
            usage_records.c.holder_id_type == id_type, usage_records.c.holder_id == holder_id
        )

    def usage_page(
        self,
        id_type: str,
        holder_id: str,
        *,
        after: int = 0,
        limit: int = 100,
        requester: str | None = None,
    ) -> list[dict[str, Any]]:
        """One page of a holder's usage records, in chain order, after sequence ``after``;
        only ``requester``'s own when it is given."""
        mine = () if requester is None else (checks.c.requester == requester,)
        return self._usage(
            usage_records.c.holder_id_type == id_type,
            usage_records.c.holder_id == holder_id,
            usage_records.c.seq > after,
            *mine,
            by_seq=True,
            limit=limit,
        )
