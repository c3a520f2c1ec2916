"""The usage records' hash chain: each record commits to the one before it.

Every usage record (用证记录) gets the next sequence number and a hash of its own content and its
predecessor's hash; ``usage_chain`` holds the last number and hash. Records of one batch (a group
commit) are chained in the order they are written, and the batch takes the chain's head under a
row lock (PostgreSQL) or the database's write lock (SQLite), so concurrent writers in any number
of processes extend one chain. :func:`verify` walks it and names the first record that was
edited, deleted or moved.

What a record commits to: its sequence number, the check's id, requester, matter and
application, and the usage row itself (holder, registry, evidence, outcome, verified, cache).
The check's time is not in it: SQLite keeps no UTC offset, so it would not read back the same.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Update,
    bindparam,
    literal_column,
    select,
)

__all__ = [
    "GENESIS",
    "ChainBreak",
    "ChainHead",
    "chain_table",
    "head_of",
    "head_query",
    "link",
    "link_use",
    "move_head",
    "read_head",
    "verify",
]

GENESIS = "0" * 64


def chain_table(metadata: MetaData) -> Table:
    return Table(
        "usage_chain",
        metadata,
        Column("id", Integer, primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("head_hash", String(64), nullable=False),
    )


# What json.dumps(..., ensure_ascii=False, separators=(",", ":"), default=str) gives, without
# building an encoder for every record (a tuple encodes as the same array as a list).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"), default=str).encode


def link(prev_hash: str, material: Sequence[Any]) -> str:
    """The hash of one record: SHA-256 over the previous hash and the record's fields."""
    body = _encode(material if isinstance(material, list | tuple) else list(material))
    return hashlib.sha256(f"{prev_hash}\n{body}".encode()).hexdigest()


@dataclass
class ChainHead:
    seq: int
    head_hash: str

    def extend(self, materials: Sequence[Sequence[Any]]) -> list[tuple[int, str]]:
        """(seq, hash) for each new record, in order; the head moves past them."""
        out: list[tuple[int, str]] = []
        for material in materials:
            self.seq += 1
            self.head_hash = link(self.head_hash, (self.seq, *material))
            out.append((self.seq, self.head_hash))
        return out


@dataclass(frozen=True)
class ChainBreak:
    """The first place where the records stop agreeing with their chain."""

    seq: int
    record_id: int | None
    problem: str

    def __str__(self) -> str:
        where = f"usage record #{self.seq}" + (
            f" (row id {self.record_id})" if self.record_id is not None else ""
        )
        return f"{where}: {self.problem}"


@dataclass(frozen=True)
class Verified:
    records: int
    first_break: ChainBreak | None


def verify(rows: Iterator[tuple[Any, ...]], head: tuple[int, str]) -> Verified:
    """Walk ``rows`` (seq, row id, stored hash, *material, ordered by seq) against the chain.

    Finds: a record whose content or position no longer matches its hash (edited or moved), a
    missing sequence number (deleted), a record without a hash, and records missing at the end
    (the head names a later one).
    """
    expected_seq, prev = 0, GENESIS
    count = 0
    for seq, row_id, stored, *material in rows:
        count += 1
        if seq is None or stored is None:
            return Verified(
                count, ChainBreak(expected_seq + 1, row_id, "has no place in the chain")
            )
        if seq != expected_seq + 1:
            missing = expected_seq + 1
            return Verified(
                count, ChainBreak(missing, None, f"is missing (the next kept is #{seq}): deleted")
            )
        if link(prev, (seq, *material)) != stored:
            return Verified(
                count, ChainBreak(seq, row_id, "does not match its hash: edited or moved")
            )
        expected_seq, prev = seq, stored
    head_seq, head_hash = head
    if head_seq != expected_seq or (head_seq and head_hash != prev):
        return Verified(
            count,
            ChainBreak(
                expected_seq + 1,
                None,
                f"is missing: the chain's head is #{head_seq}, the last record kept "
                f"#{expected_seq} (deleted at the end)",
            ),
        )
    return Verified(count, None)


def head_query(table: Table, *, lock: bool) -> Select[tuple[int, str]]:
    """The chain's head, locked for the transaction where ``lock`` (PostgreSQL's row lock; SQLite's
    writers already hold the database's write lock: BEGIN IMMEDIATE)."""
    query = select(table.c.seq, table.c.head_hash).where(table.c.id == literal_column("1"))
    return query.with_for_update() if lock else query


def move_head(table: Table) -> Update:
    """The statement that moves the head: parameters ``seq`` and ``head``."""
    return (
        table.update()
        .where(table.c.id == literal_column("1"))
        .values(seq=bindparam("seq"), head_hash=bindparam("head"))
    )


def head_of(row: Any) -> ChainHead:
    """The head from :func:`head_query`'s row (None: the database was never upgraded)."""
    if row is None:
        raise RuntimeError("usage_chain has no head row: run matcher db upgrade")
    return ChainHead(int(row[0]), str(row[1]))


def read_head(conn: Connection, table: Table, *, lock: bool) -> ChainHead:
    return head_of(conn.execute(head_query(table, lock=lock)).first())


def link_use(use: str | None, purpose: str | None) -> tuple[str | None, ...]:
    """What a check's use adds to its usage records' links: nothing for a service check (so the
    links of records kept before audits existed stay as they were), use and purpose for an
    audit's (so an audit check cannot be passed off as a service one, or the reverse)."""
    return () if use in (None, "service") else (use, purpose)
