"""Group commit: checks finishing together share one transaction, each still durable before its
answer. A request waits for the commit that holds its record, never for a later one."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

import anyio.to_thread

from matcher.errors import RecordsUnavailable
from matcher.store.records import CheckRecord, Records, StoredCheck

__all__ = ["Recorder"]

# Loop turns between the first record of a batch and its write. A request read from its socket
# takes two turns to reach the recorder (protocol callback, then the request task); measured
# under 16 concurrent clients, batches grew from ~8 checks to all 16 and throughput by ~7%.
GATHER_TURNS = 2

Pending = tuple[CheckRecord, str | None, "asyncio.Future[StoredCheck]"]


class Recorder:
    """Batches :meth:`Records.save_checks` calls from concurrent requests on one event loop.

    For SQLite the batch is written on the event loop itself: a local commit costs less than
    handing the batch to a worker thread and back. A networked database (PostgreSQL) is written
    from a worker thread so the loop never waits on the network.
    """

    def __init__(self, records: Records, max_batch: int = 256) -> None:
        self.records = records
        self.max_batch = max_batch
        self.inline = records.is_local
        self._pending: list[Pending] = []
        self._flushing: asyncio.Task[None] | None = None
        self._scheduled = False

    async def save(self, record: CheckRecord, *, replaces: str | None = None) -> StoredCheck:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[StoredCheck] = loop.create_future()
        self._pending.append((record, replaces, future))
        if self.inline:
            if not self._scheduled:
                # Write the batch a few loop turns from now, so that the checks whose requests
                # were already read from their sockets reach this point and join it: one disk
                # flush then serves them all (a turn with nothing to do costs microseconds).
                self._scheduled = True
                loop.call_soon(self._flush_after, loop, GATHER_TURNS)
        elif self._flushing is None or self._flushing.done():
            self._flushing = asyncio.create_task(self._flush_in_thread())
        return await asyncio.shield(future)

    def _take(self) -> list[Pending]:
        batch = self._pending[: self.max_batch]
        del self._pending[: self.max_batch]
        return batch

    def _settle(
        self,
        batch: list[Pending],
        stored: Sequence[StoredCheck | RecordsUnavailable] | BaseException,
    ) -> None:
        """Answer each waiter with its own outcome: one record's failure is only its own."""
        for i, (_, _, future) in enumerate(batch):
            if future.done():
                continue
            outcome = stored if isinstance(stored, BaseException) else stored[i]
            if isinstance(outcome, BaseException):
                future.set_exception(outcome)
            else:
                future.set_result(outcome)

    def _flush_after(self, loop: asyncio.AbstractEventLoop, turns: int) -> None:
        if turns > 0:
            loop.call_soon(self._flush_after, loop, turns - 1)
        else:
            self._flush_inline()

    def _flush_inline(self) -> None:
        self._scheduled = False
        while self._pending:
            batch = self._take()
            try:
                stored = self.records.save_checks([(r, rep) for r, rep, _ in batch])
            except Exception as exc:  # every waiter must hear of the failure
                self._settle(batch, exc)
                continue
            self._settle(batch, stored)

    async def _flush_in_thread(self) -> None:
        while self._pending:
            batch = self._take()
            try:
                stored = await anyio.to_thread.run_sync(
                    self.records.save_checks, [(r, rep) for r, rep, _ in batch]
                )
            except Exception as exc:  # every waiter must hear of the failure
                self._settle(batch, exc)
                continue
            self._settle(batch, stored)
