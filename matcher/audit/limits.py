"""Registry manners for audits: a per-registry rate limit in front of each adapter.

One process: :class:`LocalRateLimiter` spaces the requests to each registry. Several worker
processes or machines: :class:`RedisRateLimiter` hands out the time slots from Redis, so the rate
holds for all of them together.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from typing import Any, ClassVar, Protocol

from adapters.base import Adapter, AdapterOptions
from adapters.model import Evidence, EvidenceKind, EvidenceQuery, RequestContext

__all__ = ["LocalRateLimiter", "RateLimitedAdapter", "RateLimiter", "RedisRateLimiter"]


class RateLimiter(Protocol):
    async def wait(self, registry: str) -> float:
        """Wait for this registry's next slot; returns the seconds waited."""
        ...


class LocalRateLimiter:
    """Evenly spaced slots per registry, within one event loop."""

    def __init__(self, rates: Mapping[str, float], default: float) -> None:
        self.rates = dict(rates)
        self.default = default
        self._next: dict[str, float] = {}

    async def wait(self, registry: str) -> float:
        interval = 1.0 / self.rates.get(registry, self.default)
        now = time.monotonic()
        slot = max(now, self._next.get(registry, now))
        self._next[registry] = slot + interval
        if slot > now:
            await asyncio.sleep(slot - now)
        return slot - now


# KEYS[1] the registry's next free slot (µs, Redis clock); ARGV[1] the interval in µs.
_SLOT = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local nxt = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(now, nxt)
redis.call('SET', KEYS[1], slot + tonumber(ARGV[1]), 'PX', 60000)
return slot - now
"""


class RedisRateLimiter:
    """Slots from Redis (its clock, one atomic script): the rate holds across processes."""

    def __init__(self, url: str, rates: Mapping[str, float], default: float, prefix: str) -> None:
        import redis.asyncio as aredis

        # Many lookups wait for a slot at once: they queue for one of a few connections rather
        # than open one each.
        pool = aredis.BlockingConnectionPool.from_url(url, max_connections=16, timeout=None)
        self.client: Any = aredis.Redis.from_pool(pool)  # closes the pool with the client
        self.rates = dict(rates)
        self.default = default
        self.prefix = prefix
        self._script = self.client.register_script(_SLOT)

    async def wait(self, registry: str) -> float:
        interval_us = int(1_000_000 / self.rates.get(registry, self.default))
        delay_us = int(
            await self._script(keys=[f"{self.prefix}:rate:{registry}"], args=[interval_us])
        )
        if delay_us > 0:
            await asyncio.sleep(delay_us / 1_000_000)
        return delay_us / 1_000_000

    async def aclose(self) -> None:
        await self.client.aclose()


class RateLimitedAdapter:
    """An adapter that waits for its registry's slot before each lookup.

    The wait is not the registry's fault: the budget the waive-check flow allows this adapter is
    the inner adapter's own plus ``max_wait_s``.
    """

    options_model: ClassVar[type[AdapterOptions]] = AdapterOptions

    def __init__(self, inner: Adapter, limiter: RateLimiter, max_wait_s: float = 30.0) -> None:
        self.inner = inner
        self.limiter = limiter
        self.name = inner.name
        self.kind: EvidenceKind = inner.kind
        inner_options = getattr(inner, "options", None)
        budget = getattr(inner_options, "timeout_s", 5.0) + max_wait_s
        self.options = (
            inner_options.model_copy(update={"timeout_s": budget})
            if isinstance(inner_options, AdapterOptions)
            else None
        )

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]:
        await self.limiter.wait(self.name)
        return await self.inner.lookup(query, context)
