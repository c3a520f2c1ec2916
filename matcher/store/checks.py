"""The checks' tables: checks, idempotency keys, usage records (用证记录) and their chain, the
re-check queue and the callers' keys; and the rows a check writes into them."""

from __future__ import annotations

import datetime as dt
import os
import time
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
)

from matcher.store.callers import keys_table
from matcher.store.engine import metadata
from matcher.store.problems import DataProblem
from matcher.store.rechecks import recheck_table
from matcher.store.usage_chain import chain_table

__all__ = [
    "CHECK_COLUMNS",
    "USAGE_COLUMNS",
    "USAGE_FIELDS",
    "CheckRecord",
    "StoredCheck",
    "UsageRecord",
    "api_keys",
    "checks",
    "idempotency_keys",
    "new_check_id",
    "rechecks",
    "usage_chain",
    "usage_records",
]


def new_check_id() -> str:
    """A check's id: a time-ordered UUID (version 7, RFC 9562), 48 bits of Unix milliseconds
    and 74 random bits. New checks' keys then land at the end of the checks table's key index
    and the usage records' check index, instead of on a random page of each: a batch of checks
    dirties a few index pages rather than one per check (measured: the commit's CPU per check
    0.081 → 0.050 ms on SQLite). The time it shows is the check's checked_at, already in the
    answer. Python 3.14's uuid.uuid7 makes the same."""
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10))
    # version 7 in bits 76-79 and variant 0b10 in bits 62-63 take 6 of the 80 random bits
    value = (value & ~(0xF << 76)) | 0x7 << 76
    value = (value & ~(0x3 << 62)) | 0x2 << 62
    h = f"{value:032x}"  # str(uuid.UUID(int=value)), without building the object
    return f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"


checks = Table(
    "checks",
    metadata,
    Column("check_id", String(36), primary_key=True),
    Column("requester", String(128), nullable=False),
    Column("application_id", String(128)),
    Column("matter_code", String(64), nullable=False),
    Column("request_hash", String(64), nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # "service" for a waive-check; "audit" for a check an audit made, with its purpose: the usage
    # records (用证记录) of a check say which use they were.
    Column("use", String(16), nullable=False, server_default="service"),
    Column("purpose", String(256)),
)

idempotency_keys = Table(
    "idempotency_keys",
    metadata,
    Column("requester", String(128), primary_key=True),
    Column("application_id", String(128), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("check_id", String(36), nullable=False),
)

usage_records = Table(
    "usage_records",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    # Who asked, for which matter and application, and when: on the check (join by check_id).
    Column("check_id", String(36), ForeignKey("checks.check_id"), nullable=False),
    Column("holder_role", String(32), nullable=False),
    Column("holder_id_type", String(16), nullable=False),
    # The holder's blind index entry (matcher.store.sealed.HolderIndex), never the number.
    Column("holder_key", String(64), nullable=False),
    Column("registry", String(64), nullable=False),
    Column("evidence_kind", String(32), nullable=False),
    Column("evidence_type", String(64), nullable=False),
    Column("evidence_id", String(256)),
    Column("outcome", String(32), nullable=False),
    Column("verified", Boolean),
    Column("from_cache", Boolean, nullable=False),
    # The hash chain (matcher.store.usage_chain): place in it, and this record's link.
    Column("seq", BigInteger),
    Column("row_hash", String(64)),
    # Records made before revision 0010 were chained over the number itself: it is kept here,
    # sealed, so their links can still be checked. Null for every later record.
    Column("holder_sealed", Text),
    Index("ix_usage_holder_key", "holder_key"),
    Index("ix_usage_check", "check_id"),
    Index("ux_usage_seq", "seq", unique=True),
)

usage_chain = chain_table(metadata)
rechecks = recheck_table(metadata)
api_keys = keys_table(metadata)


class UsageRecord(NamedTuple):
    """One evidence lookup's record (用证记录). A tuple in the table's column order after
    ``check_id``: a check writes one per record found, so they are built and stored cheaply.
    The check knows the holder's number; the row keeps its blind index entry in its place."""

    holder_role: str
    holder_id_type: str
    holder_id: str  # stored as holder_key
    registry: str
    evidence_kind: str
    evidence_type: str
    evidence_id: str | None
    outcome: str  # found | none | unavailable | rejected
    verified: bool | None
    from_cache: bool


@dataclass(frozen=True)
class CheckRecord:
    check_id: str
    requester: str
    application_id: str | None
    matter_code: str
    request_hash: str
    response_json: str
    created_at: dt.datetime
    usage: tuple[UsageRecord, ...]
    problems: tuple[DataProblem, ...]
    # False for an application's check (matcher.applications.service): the application keeps its own
    # idempotency key, and the application_id stays free for a waive-check of the same number.
    claims_key: bool = True
    use: str = "service"  # or "audit"
    purpose: str | None = None
    # Set when the answer met an unavailable registry (and has an application_id): the request,
    # as JSON, for the re-check queue (matcher.waiver.recheck), and the first wait before it runs.
    recheck_request: str | None = None
    recheck_after_s: float = 60.0


@dataclass(frozen=True)
class StoredCheck:
    check_id: str
    request_hash: str
    response_json: str


# Column orders of the rows that save_checks writes (see _bulk_insert).
CHECK_COLUMNS = (
    "check_id",
    "requester",
    "application_id",
    "matter_code",
    "request_hash",
    "response_json",
    "created_at",
    "use",
    "purpose",
)
USAGE_FIELDS = tuple("holder_key" if f == "holder_id" else f for f in UsageRecord._fields)
USAGE_COLUMNS = ("check_id", *USAGE_FIELDS, "seq", "row_hash")
