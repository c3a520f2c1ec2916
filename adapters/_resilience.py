"""Time and failure for the HTTP adapters: a clock (real or a test's), one time budget per lookup,
and a per-registry circuit breaker. Re-exported by :mod:`adapters._http`."""

from __future__ import annotations

import asyncio
import logging
import time
from typing import Literal, Protocol

__all__ = ["Budget", "CircuitBreaker", "Clock", "SystemClock"]

_log = logging.getLogger("adapters.http")


class Clock(Protocol):
    """Monotonic time and sleeping; tests pass one whose sleep only moves time forward."""

    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    """The real clock."""

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Budget:
    """The time left for one lookup, shared by its attempts, backoffs and pages."""

    def __init__(self, seconds: float, clock: Clock) -> None:
        self.seconds = seconds
        self._clock = clock
        self._ends = clock.monotonic() + seconds

    def remaining(self) -> float:
        return max(0.0, self._ends - self._clock.monotonic())


class CircuitBreaker:
    """Closed → ``failures`` consecutive failures → open for ``reset_s`` → half-open, where one
    trial call decides: success closes it, failure opens it again."""

    def __init__(self, registry: str, failures: int, reset_s: float, clock: Clock) -> None:
        self._registry = registry
        self._threshold = failures
        self._reset_s = reset_s
        self._clock = clock
        self._failures = 0
        self._opened_at: float | None = None
        self._trial_running = False

    @property
    def state(self) -> Literal["closed", "open", "half_open"]:
        if self._opened_at is None:
            return "closed"
        if self._clock.monotonic() - self._opened_at >= self._reset_s:
            return "half_open"
        return "open"

    def retry_in(self) -> float:
        """Seconds until the breaker lets a trial call through (0 when it would now)."""
        if self._opened_at is None:
            return 0.0
        return max(0.0, self._opened_at + self._reset_s - self._clock.monotonic())

    def admit(self) -> bool | None:
        """None: refused. True: admitted as the half-open trial. False: admitted, closed."""
        state = self.state
        if state == "closed":
            return False
        if state == "half_open" and not self._trial_running:
            self._trial_running = True
            return True
        return None

    def record(self, *, trial: bool, ok: bool | None) -> None:
        """Outcome of an admitted call; ``ok`` None when it ended without an answer (cancelled)."""
        if trial:
            self._trial_running = False
        if ok is None:
            return
        if ok:
            if self._opened_at is not None:
                _log.info("%s: circuit closed", self._registry)
            self._failures = 0
            self._opened_at = None
            return
        self._failures += 1
        if trial or (self._opened_at is None and self._failures >= self._threshold):
            _log.warning(
                "%s: circuit open after %d consecutive failures; next trial in %g s",
                self._registry,
                self._failures,
                self._reset_s,
            )
            self._opened_at = self._clock.monotonic()
