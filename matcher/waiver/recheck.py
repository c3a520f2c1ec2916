"""The re-check queue: an application answered while a registry was down is checked again.

A check with an ``application_id`` whose answer has a ``registry_unavailable`` decision is queued
in ``rechecks`` in the same transaction that records it (see ``Records._write``): nothing is
answered that the queue does not hold. A :class:`RecheckRunner` in every API process claims the
entries that are due (a lease, so two workers never run one entry at once), runs the check again
through the service — which, for such an answer, asks the registries afresh and records the new
answer in the old one's place — and backs off while the registry stays down. When the answer no
longer meets an unavailable registry the entry is done: the caller fetches it with
``GET /v1/waive-check/{application_id}``, or is told by a signed POST to the callback URL it
registered (``[[callers]] callback_url``).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import hashlib
import hmac
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Protocol

import anyio.to_thread
import httpx
from sqlalchemy import (
    Engine,
    Table,
    func,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from matcher.observe import RECHECK_QUEUE
from matcher.store.rechecks import (
    DONE,
    GAVE_UP,
    PENDING,
    backoff,
    queue_values,
    recheck_context,
    recheck_table,
)
from matcher.store.sealed import Sealer, open_text, seal_text, text_key_id

__all__ = [
    "DONE",
    "GAVE_UP",
    "PENDING",
    "RecheckOptions",
    "RecheckRunner",
    "backoff",
    "queue_values",
    "recheck_table",
    "reseal_requests",
    "sign_callback",
]

log = logging.getLogger(__name__)


def sign_callback(key: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(key, timestamp + "." + body): the receiver recomputes it
    with the key it shares with the service (its own bearer key) and checks the timestamp."""
    mac = hmac.new(key.encode(), timestamp.encode() + b"." + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


@dataclass(frozen=True)
class RecheckOptions:
    first_after_s: float = 60.0  # the first re-check, then doubling
    max_attempts: int = 24
    poll_s: float = 5.0
    lease_s: float = 120.0


@dataclass(frozen=True)
class Due:
    id: int
    requester: str
    application_id: str
    request_json: str
    attempts: int


class Checker(Protocol):
    async def recheck(self, request_json: str, requester: str) -> tuple[bool, bytes]:
        """Run the check again; (still meets an unavailable registry, the answer's bytes)."""
        ...


class RecheckRunner:
    """Claims due entries and checks them again; one per API process."""

    def __init__(
        self,
        engine: Engine,
        table: Table,
        checker: Checker,
        options: RecheckOptions,
        *,
        callbacks: Mapping[str, tuple[str, str]] | None = None,
        client: httpx.AsyncClient | None = None,
        clock: Callable[[], dt.datetime] | None = None,
    ) -> None:
        """``callbacks``: requester → (callback URL, signing key)."""
        self.engine = engine
        self.table = table
        self.checker = checker
        self.options = options
        self.callbacks = dict(callbacks or {})
        self.client = client
        self._now = clock or (lambda: dt.datetime.now(dt.UTC))
        self._task: asyncio.Task[None] | None = None
        self._sending: set[asyncio.Task[None]] = set()

    # -- the queue ---------------------------------------------------------------------------

    def depth(self) -> int:
        with self.engine.connect() as conn:
            return int(
                conn.execute(
                    select(func.count())
                    .select_from(self.table)
                    .where(self.table.c.status == PENDING)
                ).scalar_one()
            )

    def claim_due(self, limit: int = 20) -> list[Due]:
        """Entries due now that no other process holds, each leased to this one."""
        t = self.table
        now = self._now()
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(t.c.id, t.c.requester, t.c.application_id, t.c.request_json, t.c.attempts)
                .where(
                    t.c.status == PENDING,
                    t.c.next_at <= now,
                    (t.c.claimed_until.is_(None)) | (t.c.claimed_until < now),
                )
                .order_by(t.c.next_at)
                .limit(limit)
            ).all()
        claimed: list[Due] = []
        lease = now + dt.timedelta(seconds=self.options.lease_s)
        for row in rows:
            with self.engine.begin() as conn:
                got = conn.execute(
                    update(t)
                    .where(
                        t.c.id == row.id,
                        t.c.status == PENDING,
                        (t.c.claimed_until.is_(None)) | (t.c.claimed_until < now),
                    )
                    .values(claimed_until=lease)
                ).rowcount
            if got == 1:
                claimed.append(Due(*row))
        return claimed

    def _give_up(self, due: Due, why: str) -> None:
        log.warning("re-check of application %s given up: %s", due.application_id, why)
        with self.engine.begin() as conn:
            conn.execute(
                update(self.table)
                .where(self.table.c.id == due.id, self.table.c.status == PENDING)
                .values(status=GAVE_UP, claimed_until=None, updated_at=self._now())
            )

    # -- running -----------------------------------------------------------------------------

    async def run_once(self) -> int:
        """Check every due entry once; how many were checked."""
        try:
            due = await anyio.to_thread.run_sync(self.claim_due)
            RECHECK_QUEUE.set(await anyio.to_thread.run_sync(self.depth))
        except SQLAlchemyError as exc:
            log.warning("re-check queue unreachable: %s", type(exc).__name__)
            return 0
        for entry in due:
            if entry.attempts >= self.options.max_attempts:
                await anyio.to_thread.run_sync(self._give_up, entry, "too many attempts")
                continue
            try:
                still_down, body = await self.checker.recheck(entry.request_json, entry.requester)
            except Exception as exc:  # a request that no longer runs (an upload gone, …)
                await anyio.to_thread.run_sync(self._give_up, entry, str(exc))
                continue
            if not still_down:
                log.info("re-check of application %s answered", entry.application_id)
                self._notify(entry, body)
        return len(due)

    def _notify(self, entry: Due, body: bytes) -> None:
        target = self.callbacks.get(entry.requester)
        if target is None or self.client is None:
            return
        task = asyncio.create_task(self._post(entry, body, *target))
        self._sending.add(task)
        task.add_done_callback(self._sending.discard)

    async def _post(self, entry: Due, body: bytes, url: str, key: str) -> None:
        """POST the new answer, signed; three tries with backoff, never blocking a check."""
        assert self.client is not None
        for attempt in range(3):
            stamp = str(int(time.time()))
            headers = {
                "Content-Type": "application/json",
                "X-Matcher-Event": "recheck.answered",
                "X-Matcher-Application-Id": entry.application_id,
                "X-Matcher-Timestamp": stamp,
                "X-Matcher-Signature": sign_callback(key, stamp, body),
            }
            try:
                r = await self.client.post(url, content=body, headers=headers)
                if r.status_code < 300:
                    return
                log.warning("callback to %s answered %d", entry.requester, r.status_code)
            except httpx.HTTPError as exc:
                log.warning("callback to %s failed: %s", entry.requester, type(exc).__name__)
            await asyncio.sleep(2**attempt)

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:  # the loop must outlive any one entry's trouble
                log.exception("re-check run failed")
            await asyncio.sleep(self.options.poll_s)

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._loop(), name="recheck-runner")

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._sending) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = None


def reseal_requests(engine: Engine, table: Table, sealer: Sealer) -> int:
    """Seal every queued request again under the current key (key rotation); how many."""
    done = 0
    with engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.requester, table.c.request_json)).all()
    for row in rows:
        if text_key_id(row.request_json) == sealer.current:
            continue
        context = recheck_context(row.requester)
        fresh = seal_text(sealer, open_text(sealer, row.request_json, context), context)
        with engine.begin() as conn:
            conn.execute(update(table).where(table.c.id == row.id).values(request_json=fresh))
        done += 1
    return done
