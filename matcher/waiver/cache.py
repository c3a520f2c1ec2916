"""Registry-answer cache: Redis when configured, else in-process. Keys are keyed hashes.

A cache key never holds a raw ID number: it is a keyed BLAKE2b hash of the registry, the evidence
kind, the holder and the types asked for. A cache fault is a miss, never an error for the caller.
"""

from __future__ import annotations

import hashlib
import logging
import secrets
import time
from collections import OrderedDict
from collections.abc import Sequence
from pathlib import Path
from typing import Protocol

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from adapters.model import EvidenceQuery
from matcher.errors import ConfigError
from matcher.observe import CACHE_LOOKUPS
from matcher.store.keyfiles import write_once

__all__ = [
    "Cache",
    "MemoryCache",
    "RedisCache",
    "cache_key",
    "consent_binding",
    "keyed_hash",
    "stored_secret",
]

log = logging.getLogger(__name__)
KEY_PREFIX = "matcher:reg:"


def keyed_hash(secret: bytes, *parts: str) -> str:
    """Hex keyed hash of ``parts``: stands in for a raw ID number wherever one would be kept
    (cache keys, data-problem keys). Without the secret it cannot be recomputed from a guess.

    Keyed BLAKE2b (RFC 7693's MAC mode): a third of HMAC-SHA256's cost, and every waive-check
    computes one per registry question. A secret longer than BLAKE2b's 64-byte key is hashed
    down to one first."""
    if len(secret) > 64:
        secret = hashlib.blake2b(secret).digest()
    return hashlib.blake2b("\x1f".join(parts).encode(), key=secret, digest_size=32).hexdigest()


def cache_key(
    secret: bytes, registry: str, query: EvidenceQuery, bound_to: tuple[str, ...] = ()
) -> str:
    """Keyed hash of what was asked; the same question gives the same key for one secret.

    ``bound_to`` ties the answer to whoever obtained it: an answer given under a holder's
    consent is kept for that caller, matter and consent token only (see :func:`consent_binding`).
    """
    parts = [registry, query.kind, query.holder.id_type, query.holder.id, *sorted(query.types)]
    if bound_to:
        parts += ["consent", *bound_to]
    return KEY_PREFIX + keyed_hash(secret, *parts)


def consent_binding(requester: str, matter_code: str, consent_token: str | None) -> tuple[str, ...]:
    """What a cached answer is bound to: nothing for a lookup made without consent (the
    registries answer any authorised caller alike), else the caller, the matter (the purpose the
    holder consented to) and a digest of the token — another caller, matter or token never gets
    an answer obtained under this consent, and the registry sees every token."""
    if not consent_token:
        return ()
    return (requester, matter_code, hashlib.sha256(consent_token.encode()).hexdigest())


def new_secret() -> bytes:
    return secrets.token_bytes(32)


SECRET_FILE = "cache-key.secret"


def stored_secret(folder: Path) -> bytes:
    """The cache keys' secret kept in ``folder`` (the state folder), made on first use.

    Workers of one host then hash alike and share what they cache in Redis; hosts that share a
    Redis need ``cache_key_secret`` set to one value instead. The file is made readable by its
    owner only, and appears whole or not at all (written aside, then linked into place), so
    workers starting together agree on one secret.
    """
    path = folder / SECRET_FILE
    write_once(path, lambda: new_secret().hex().encode())
    try:
        secret = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise ConfigError(
            f"{path}: not a cache key secret ({exc}); delete it to make a new one"
        ) from None
    if len(secret) < 16:
        raise ConfigError(f"{path}: the cache key secret is too short; delete it")
    return secret


class Cache(Protocol):
    errors: int  # faults met since start (each degraded to a miss or an answer not cached)

    async def get(self, key: str) -> bytes | None: ...

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]: ...

    async def set(self, key: str, value: bytes, ttl_s: float) -> None: ...

    async def ping(self) -> bool: ...

    async def close(self) -> None: ...


class MemoryCache:
    """Bounded in-process cache with per-entry expiry (the embedded default)."""

    errors = 0  # nothing here can fail

    def __init__(self, max_entries: int = 10_000) -> None:
        self._data: OrderedDict[str, tuple[float, bytes]] = OrderedDict()
        self._max = max_entries

    async def get(self, key: str) -> bytes | None:
        item = self._data.get(key)
        if item is None:
            return None
        expires, value = item
        if expires < time.monotonic():
            self._data.pop(key, None)
            return None
        return value

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        return [await self.get(k) for k in keys]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        self._data[key] = (time.monotonic() + ttl_s, value)
        self._data.move_to_end(key)
        while len(self._data) > self._max:
            self._data.popitem(last=False)

    async def ping(self) -> bool:
        return True

    async def close(self) -> None:
        self._data.clear()


class RedisCache:
    """Redis-backed cache shared by every instance; faults degrade to misses, and are counted.

    The connection pool holds at most ``max_connections``; a check that finds them all busy
    waits up to ``wait_s`` for one (a burst is served from the cache, not sent on to the
    registries), and past that goes on without the cache.
    """

    def __init__(self, url: str, *, max_connections: int = 64, wait_s: float = 2.0) -> None:
        pool = aioredis.BlockingConnectionPool.from_url(
            url,
            max_connections=max_connections,
            timeout=wait_s,
            socket_timeout=0.5,
            socket_connect_timeout=0.5,
        )
        self._redis = aioredis.Redis.from_pool(pool)  # closing the client closes the pool
        self.errors = 0

    @property
    def client(self) -> aioredis.Redis:
        """The pooled client, for other users of the same Redis (rate limits)."""
        return self._redis

    def _fault(self, what: str, exc: Exception) -> None:
        self.errors += 1
        CACHE_LOOKUPS.labels("error").inc()
        log.warning("redis %s failed (%d so far): %s", what, self.errors, exc)

    async def get(self, key: str) -> bytes | None:
        try:
            value = await self._redis.get(key)
        except (RedisError, OSError) as exc:
            self._fault("get, treating as a miss", exc)
            return None
        return value if isinstance(value, bytes) else None

    async def get_many(self, keys: Sequence[str]) -> list[bytes | None]:
        """One round trip (MGET) for every key of a check."""
        if not keys:
            return []
        try:
            values = await self._redis.mget(list(keys))
        except (RedisError, OSError) as exc:
            self._fault("mget, treating as misses", exc)
            return [None] * len(keys)
        return [v if isinstance(v, bytes) else None for v in values]

    async def set(self, key: str, value: bytes, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        try:
            await self._redis.set(key, value, px=max(1, int(ttl_s * 1000)))
        except (RedisError, OSError) as exc:
            self._fault("set, answer not cached", exc)

    async def ping(self) -> bool:
        try:
            return bool(await self._redis.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self._redis.aclose()
