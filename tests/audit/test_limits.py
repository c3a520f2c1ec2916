"""Per-registry rate limits: evenly spaced slots, shared through Redis by several processes."""

from __future__ import annotations

import asyncio
import itertools
import uuid

import pytest

from matcher.audit.limits import LocalRateLimiter, RedisRateLimiter


def test_local_slots_are_spaced_by_the_registry_rate() -> None:
    async def run() -> list[float]:
        limiter = LocalRateLimiter({"slow": 20.0}, default=1000.0)
        return sorted(await asyncio.gather(*(limiter.wait("slow") for _ in range(4))))

    waits = asyncio.run(run())

    assert waits[0] == 0.0
    # four requests at once: each waits for the slot after the previous one, 1/20 s apart
    assert all(b - a == pytest.approx(0.05, abs=0.02) for a, b in itertools.pairwise(waits))


def test_redis_slots_hold_across_limiters(redis_url: str) -> None:
    prefix = f"test-rate-{uuid.uuid4().hex}"

    async def run() -> list[float]:
        one = RedisRateLimiter(redis_url, {}, default=50.0, prefix=prefix)
        two = RedisRateLimiter(redis_url, {}, default=50.0, prefix=prefix)
        try:
            waits = await asyncio.gather(*(lim.wait("reg") for lim in (one, two) * 3))
        finally:
            await one.aclose()
            await two.aclose()
        return sorted(waits)

    waits = asyncio.run(run())

    # six requests from two "processes" at 50/s together: slots 20 ms apart, not 10
    assert waits[-1] >= 0.09
    assert all(b - a >= 0.015 for a, b in itertools.pairwise(waits))


def test_many_lookups_waiting_at_once_share_few_connections(redis_url: str) -> None:
    import redis

    def clients() -> int:
        with redis.Redis.from_url(redis_url) as probe:
            return int(probe.info("clients")["connected_clients"]) - 1  # less the probe itself

    async def run() -> tuple[int, int]:
        limiter = RedisRateLimiter(redis_url, {}, default=20000.0, prefix=uuid.uuid4().hex)
        try:
            waits = await asyncio.gather(*(limiter.wait("reg") for _ in range(400)))
            opened = clients() - before  # the pool's connections are still open here
        finally:
            await limiter.aclose()
        return len(waits), opened

    before = clients()
    answered, opened = asyncio.run(run())
    assert answered == 400
    assert 1 <= opened <= 16  # the pool's bound, not one connection per waiting lookup
