"""Reading the usage records (用证记录): one check's, one holder's, page by page in chain order."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.exc import SQLAlchemyError

from matcher.store.checks import USAGE_FIELDS, checks, usage_chain, usage_records
from matcher.store.engine import unavailable as _unavailable
from matcher.store.sealed import HolderIndex, Privacy, SealError
from matcher.store.usage_chain import GENESIS, Verified, link_use, read_head, verify

__all__ = ["UsageQueries", "check_context", "usage_context"]


def check_context(check_id: str) -> str:
    """What a check's sealed answer is bound to."""
    return f"check:{check_id}"


def usage_context(row_id: int) -> str:
    """What a record made before revision 0010 keeps its holder's number sealed to."""
    return f"usage:{row_id}"


class UsageQueries:
    """The read side of the usage records; :class:`matcher.store.records.Records` has it."""

    engine: Engine
    index: HolderIndex
    privacy: Privacy | None

    def _usage(
        self, *where: Any, by_seq: bool = False, limit: int | None = None
    ) -> list[dict[str, Any]]:
        """Usage records with who asked, for what and when: by time, or in chain order."""
        order = (usage_records.c.seq,) if by_seq else (checks.c.created_at, usage_records.c.id)
        query = (
            select(
                *(c for c in usage_records.c if c.name != "holder_sealed"),
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
            usage_records.c.holder_id_type == id_type,
            usage_records.c.holder_key.in_(self.index.keys(id_type, holder_id)),
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
            usage_records.c.holder_key.in_(self.index.keys(id_type, holder_id)),
            usage_records.c.seq > after,
            *mine,
            by_seq=True,
            limit=limit,
        )

    def verify_usage_chain(self) -> Verified:
        """Walk every usage record against the hash chain (see :mod:`matcher.store.usage_chain`)."""
        query = self._chain_query().order_by(usage_records.c.seq.nulls_first(), usage_records.c.id)
        with self.engine.connect() as conn:
            head = read_head(conn, usage_chain, lock=False)
            rows = conn.execution_options(yield_per=2000).execute(query)
            chained = (self._material(r) for r in rows)
            try:
                return verify(chained, (head.seq, head.head_hash))
            finally:
                rows.close()  # verify may stop early, with rows still unread

    @staticmethod
    def _chain_query() -> Any:
        """Usage rows as the chain links them: place, row id, hash, then the material."""
        return select(
            usage_records.c.seq,
            usage_records.c.id,
            usage_records.c.row_hash,
            usage_records.c.check_id,
            checks.c.requester,
            checks.c.matter_code,
            checks.c.application_id,
            *(usage_records.c[name] for name in USAGE_FIELDS),
            checks.c.use,
            checks.c.purpose,
            usage_records.c.holder_sealed,
        ).select_from(usage_records.outerjoin(checks))

    def chain_links(self, check_id: str) -> list[dict[str, Any]]:
        """One check's usage records as their links were made: place, hash, the hash before it
        and the material hashed — what lets anyone check each link without the database."""
        query = self._chain_query().where(usage_records.c.check_id == check_id)
        try:
            with self.engine.connect() as conn:
                rows = [
                    r
                    for r in conn.execute(query.order_by(usage_records.c.seq)).all()
                    if r.seq is not None
                ]
                # the link before each one, in one query (the record before may be another
                # check's)
                before = dict(
                    conn.execute(
                        select(usage_records.c.seq, usage_records.c.row_hash).where(
                            usage_records.c.seq.in_([r.seq - 1 for r in rows])
                        )
                    ).all()
                )
            links = [
                {
                    "seq": row.seq,
                    "row_hash": row.row_hash,
                    "prev_hash": GENESIS if row.seq == 1 else before.get(row.seq - 1),
                    "material": list(self._material(row)[3:]),
                }
                for row in rows
            ]
        except SQLAlchemyError as exc:
            raise _unavailable(exc) from exc
        return links

    _HOLDER = 7 + USAGE_FIELDS.index("holder_key")  # its place in verify_usage_chain's rows

    def _material(self, row: Any) -> tuple[Any, ...]:
        """A usage row as its link was made: a record made before revision 0010 was chained
        over the holder's number, which it keeps sealed; a later one over its index entry."""
        *fields, use, purpose, sealed = row
        if sealed is not None:
            fields[self._HOLDER] = self._legacy_number(row[1], sealed)
        return (*fields, *link_use(use, purpose))

    def _legacy_number(self, row_id: int, sealed: str) -> str:
        if self.privacy is None:
            return "(sealed: needs the data key)"
        try:
            return self.privacy.open(sealed, usage_context(row_id))
        except SealError:
            return "(sealed number does not open)"
