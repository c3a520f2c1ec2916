"""Per-key rate limits: a fixed one-minute window per key, counted in Redis (shared by every
worker and host) or in the process without it. A Redis fault lets the request through (and is
counted): the limit protects the service, it must not become the outage."""

from __future__ import annotations

import logging
import time
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

__all__ = ["MemoryRateLimiter", "RateLimiter", "RedisRateLimiter"]

log = logging.getLogger(__name__)
WINDOW_S = 60


class RateLimiter(Protocol):
    async def hit(self, key_id: str, per_minute: int) -> float | None:
        """Count one request; None when allowed, else the seconds until the window ends."""
        ...


def _window(now: float) -> tuple[int, float]:
    start = int(now // WINDOW_S)
    return start, (start + 1) * WINDOW_S - now


class MemoryRateLimiter:
    def __init__(self) -> None:
        self._counts: dict[str, tuple[int, int]] = {}

    async def hit(self, key_id: str, per_minute: int) -> float | None:
        window, left = _window(time.time())
        seen_window, count = self._counts.get(key_id, (window, 0))
        count = count + 1 if seen_window == window else 1
        self._counts[key_id] = (window, count)
        return None if count <= per_minute else left


class RedisRateLimiter:
    def __init__(self, client: aioredis.Redis) -> None:
        self._redis = client
        self.errors = 0

    async def hit(self, key_id: str, per_minute: int) -> float | None:
        window, left = _window(time.time())
        name = f"matcher:rl:{key_id}:{window}"
        try:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.incr(name)
                pipe.expire(name, WINDOW_S + 5)
                count, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            self.errors += 1
            log.warning("rate limit not counted (redis: %s); request let through", exc)
            return None
        return None if int(count) <= per_minute else left
