"""Caches: the in-process one and real Redis; keys never hold a raw ID number."""

import asyncio
import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import redis

from adapters.model import EvidenceQuery, Holder
from matcher.errors import ConfigError
from matcher.waiver.cache import SECRET_FILE, MemoryCache, RedisCache, cache_key, stored_secret

pytestmark = pytest.mark.anyio
ID = "330902198101011230"


def _query(holder_id: str = ID) -> EvidenceQuery:
    return EvidenceQuery(
        kind="e_licence", holder=Holder(id_type="citizen_id", id=holder_id), types=("T1", "T2")
    )


def test_key_is_keyed_hash_without_the_id() -> None:
    key = cache_key(b"s1", "zs", _query())
    assert ID not in key and ID[-6:] not in key
    assert key == cache_key(b"s1", "zs", _query())
    assert key != cache_key(b"s2", "zs", _query())
    assert key != cache_key(b"s1", "zs", _query("11010519491231002X"))


async def test_memory_cache_expires() -> None:
    cache = MemoryCache()
    await cache.set("k", b"v", 0.05)
    assert await cache.get("k") == b"v"
    await asyncio.sleep(0.08)
    assert await cache.get("k") is None


async def test_memory_cache_is_bounded() -> None:
    cache = MemoryCache(max_entries=2)
    for k in ("a", "b", "c"):
        await cache.set(k, b"v", 60)
    assert await cache.get("a") is None
    assert await cache.get("c") == b"v"


async def test_redis_cache_round_trip_with_ttl(redis_url: str) -> None:
    cache = RedisCache(redis_url)
    key = cache_key(b"s", "zs", _query())
    await cache.set(key, b"payload", 30)
    assert await cache.get(key) == b"payload"
    raw = redis.Redis.from_url(redis_url)
    assert 0 < raw.pttl(key) <= 30_000
    assert all(ID.encode() not in k for k in raw.keys("*"))
    raw.close()
    await cache.close()


async def test_redis_down_is_a_miss_not_an_error_and_is_counted() -> None:
    cache = RedisCache("redis://127.0.0.1:1/0")
    await cache.set("k", b"v", 30)
    assert await cache.get("k") is None
    assert await cache.get_many(["k", "l"]) == [None, None]
    assert await cache.ping() is False
    assert cache.errors == 3
    await cache.close()


async def test_more_concurrent_users_than_connections_wait_for_one(redis_url: str) -> None:
    """A burst larger than the pool is served from the cache, one connection at a time, instead
    of being refused ("Too many connections") and sent on to the registries."""
    cache = RedisCache(redis_url, max_connections=3, wait_s=5)
    keys = [cache_key(b"s", "zs", _query(f"33090219810101{i:04d}")) for i in range(200)]
    await asyncio.gather(*(cache.set(k, k.encode(), 30) for k in keys))
    got = await asyncio.gather(*(cache.get_many([k, keys[0]]) for k in keys))
    assert got == [[k.encode(), keys[0].encode()] for k in keys]
    assert cache.errors == 0
    await cache.close()


async def test_a_full_pool_past_the_wait_degrades_to_a_miss(redis_url: str) -> None:
    cache = RedisCache(redis_url, max_connections=1, wait_s=0.05)
    # Hold the one connection with a blocking read that lasts longer than the wait.
    blocker = asyncio.create_task(cache._redis.blpop(["matcher:test:never"], timeout=0.3))
    await asyncio.sleep(0.05)
    assert await cache.get("k") is None
    assert cache.errors == 1
    await blocker
    await cache.close()


# -- the secret kept in the state folder ------------------------------------------------------


def test_workers_of_one_host_share_one_secret_kept_private(tmp_path: Path) -> None:
    folder = tmp_path / "state"
    with ThreadPoolExecutor(8) as pool:  # workers starting together
        secrets_ = set(pool.map(lambda _: stored_secret(folder), range(16)))
    assert len(secrets_) == 1 and len(secrets_.pop()) == 32
    path = folder / SECRET_FILE
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert [p.name for p in folder.iterdir()] == [SECRET_FILE]  # nothing left aside
    assert stored_secret(folder) == stored_secret(folder)  # and it lasts


@pytest.mark.parametrize("content", ["not hex", "abcd", ""])
def test_a_damaged_secret_file_stops_start_up_naming_it(tmp_path: Path, content: str) -> None:
    (tmp_path / SECRET_FILE).write_text(content)
    with pytest.raises(ConfigError, match=rf"{SECRET_FILE}: .*delete it"):
        stored_secret(tmp_path)
