"""The data-problem loop after each check, off the request path.

A check files its problems in its own transaction (matcher.store.records). What follows — noting a
new report, reopening a fixed one met again, verifying a fixed one a later lookup found clean, and
telling the department's webhook — runs here, in a background task fed by a bounded queue: a
waive-check never waits for it. If the queue is full, an observation is dropped and logged; the
next check that meets the same record does the same work.
"""

from __future__ import annotations

import asyncio
import logging
import time

import anyio.to_thread

from matcher.problems.detect import Findings
from matcher.problems.store import Change, ProblemStore
from matcher.problems.webhooks import Notifier

__all__ = ["ProblemLoop"]

log = logging.getLogger(__name__)


class ProblemLoop:
    def __init__(
        self,
        store: ProblemStore,
        notifier: Notifier,
        *,
        refresh_s: float = 5.0,
        max_queue: int = 10_000,
    ) -> None:
        self.store = store
        self.notifier = notifier
        self.refresh_s = refresh_s
        self._queue: asyncio.Queue[tuple[list[str], list[str]]] = asyncio.Queue(max_queue)
        self._task: asyncio.Task[None] | None = None
        self._fixed: set[str] = set()
        self._fixed_at = 0.0
        self._idle = asyncio.Event()
        self._idle.set()

    def load(self) -> None:
        """Read which reports await verification (blocking; at start-up and every refresh_s)."""
        self._fixed = self.store.fixed_keys()
        self._fixed_at = time.monotonic()

    @property
    def watching(self) -> bool:
        """True when some report awaits verification: checks then note what they found clean."""
        return bool(self._fixed)

    def observe(self, findings: Findings) -> None:
        """Queue what a recorded check found; returns at once."""
        self._ensure_worker()
        clean = [k for k in findings.clean if k in self._fixed] if self._fixed else []
        if not findings.problems and not clean:
            return
        try:
            self._queue.put_nowait((list(findings.problems), clean))
            self._idle.clear()
        except asyncio.QueueFull:
            log.error("data-problem queue full: an observation was dropped")

    def changed(self, change: Change) -> None:
        """A department changed a report (API): tell its webhook, re-read the watch list."""
        self._ensure_worker()
        self._fixed_at = 0.0
        if change.report["status"] == "fixed":
            self._fixed.add(str(change.report["key"]))
        self.notifier.notify(change.event, change.report)

    def _ensure_worker(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._work())

    async def _work(self) -> None:
        while True:
            if time.monotonic() - self._fixed_at > self.refresh_s:
                try:
                    await anyio.to_thread.run_sync(self.load)
                except Exception as exc:  # the database may be down for a while
                    log.warning("could not read the reports awaiting verification: %s", exc)
                    self._fixed_at = time.monotonic()
            try:
                filed, clean = await asyncio.wait_for(self._queue.get(), self.refresh_s)
            except TimeoutError:
                continue
            try:
                changes = await anyio.to_thread.run_sync(self.store.after_check, filed, clean)
            except Exception as exc:
                log.error("data-problem follow-up failed: %s", exc)
                changes = []
            for change in changes:
                if change.report["status"] != "fixed":
                    self._fixed.discard(str(change.report["key"]))
                self.notifier.notify(change.event, change.report)
            if self._queue.empty():
                self._idle.set()

    async def settle(self) -> None:
        """Wait until every queued observation is processed and its webhooks delivered."""
        await self._idle.wait()
        await self.notifier.drain()

    async def aclose(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.notifier.aclose()
