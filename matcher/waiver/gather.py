"""Stage 2, gather: answer each planned lookup from the cache where it can (one round trip),
ask the registries the rest at once, each within its adapter's budget. A registry's fault
becomes the lookup's status, never an exception; every record's signature is checked once.

Cached answers are sealed (AES-GCM with the data key, bound to their cache key): whoever can
write to Redis can neither read a holder's records there nor change one (a revoked licence made
valid) without the entry being refused as unreadable, and asked for again."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import OrderedDict
from collections.abc import Sequence

from adapters.errors import RegistryError, RegistryRejected
from adapters.model import Evidence, RequestContext
from matcher.observe import (
    BREAKER_OPEN,
    CACHE_LOOKUPS,
    REGISTRY_ERRORS,
    REGISTRY_LATENCY,
    labelled,
)
from matcher.store.sealed import Sealer, SealError
from matcher.waiver.cache import Cache, cache_key, consent_binding
from matcher.waiver.evidence import TrustStore, signature_problem
from matcher.waiver.plan import Lookup

__all__ = ["Gatherer"]

log = logging.getLogger(__name__)

# Cached answers decoded (and their signatures checked) in this process, by cache key.
_DECODED_MEMO = 4096


class Gatherer:
    """Fills in lookups: their records, signature findings, status and error code."""

    def __init__(
        self,
        *,
        cache: Cache,
        trust_store: TrustStore,
        cache_secret: bytes,
        cache_ttl_s: float,
        negative_cache_ttl_s: float,
        sealer: Sealer | None = None,
    ) -> None:
        self.cache = cache
        self.sealer = sealer
        self.trust_store = trust_store
        self.cache_secret = cache_secret
        self.cache_ttl_s = cache_ttl_s
        self.negative_cache_ttl_s = negative_cache_ttl_s
        self._decoded_memo: OrderedDict[str, tuple[bytes, list[Evidence], list[str | None]]] = (
            OrderedDict()
        )

    async def gather(self, lookups: list[Lookup], context: RequestContext) -> None:
        """Answer what the cache holds (one round trip), ask the registries the rest at once."""
        bound = consent_binding(context.requester, context.matter_code, context.consent_token)
        keys = [cache_key(self.cache_secret, lk.adapter.name, lk.query, bound) for lk in lookups]
        misses: list[tuple[Lookup, str]] = []
        for lookup, key, cached in zip(lookups, keys, await self.cache.get_many(keys), strict=True):
            if cached is not None:
                try:
                    lookup.items, lookup.signature_problems = self._decoded(key, cached)
                    lookup.status, lookup.from_cache = "answered", True
                    continue
                except ValueError:
                    log.warning("ignoring an unreadable cache entry for %s", lookup.adapter.name)
            misses.append((lookup, key))
        hits = len(lookups) - len(misses)
        if hits:
            labelled(CACHE_LOOKUPS, "hit").inc(hits)
        if misses:
            labelled(CACHE_LOOKUPS, "miss").inc(len(misses))
            await asyncio.gather(*(self._ask(lk, key, context) for lk, key in misses))

    def signatures(self, items: Sequence[Evidence]) -> list[str | None]:
        """What checking each record's signature against the trust store found (None: sound)."""
        return [signature_problem(e.raw, self.trust_store, e.issuer.code) for e in items]

    def _decoded(self, key: str, stored: bytes) -> tuple[list[Evidence], list[str | None]]:
        """Evidence and signature findings for a cached answer; the same bytes decode once.
        ValueError for an entry this service did not seal (or one changed since)."""
        known = self._decoded_memo.get(key)
        if known is not None and known[0] == stored:
            self._decoded_memo.move_to_end(key)
            return known[1], known[2]
        items = [Evidence.model_validate(x) for x in json.loads(self._open(key, stored))]
        return self._remember(key, stored, items)

    def _open(self, key: str, stored: bytes) -> bytes:
        if self.sealer is None:
            return stored
        if Sealer.key_id_of(stored) is None:  # plain: not written by this service
            raise ValueError("an unsealed cache entry")
        try:
            return self.sealer.open(stored, key.encode())
        except SealError as exc:
            raise ValueError(str(exc)) from None

    def _seal(self, key: str, payload: bytes) -> bytes:
        return payload if self.sealer is None else self.sealer.seal(payload, key.encode())

    def _remember(
        self, key: str, payload: bytes, items: list[Evidence]
    ) -> tuple[list[Evidence], list[str | None]]:
        sigs = self.signatures(items)
        self._decoded_memo[key] = (payload, items, sigs)
        if len(self._decoded_memo) > _DECODED_MEMO:
            self._decoded_memo.popitem(last=False)
        return items, sigs

    async def _ask(self, lookup: Lookup, key: str, context: RequestContext) -> None:
        """One registry question, within the adapter's budget; faults become a status."""
        name = lookup.adapter.name
        started = time.perf_counter()
        try:
            items = await self._lookup(lookup, context)
        finally:
            labelled(REGISTRY_LATENCY, name, lookup.status).observe(time.perf_counter() - started)
            if lookup.error_code is not None:
                REGISTRY_ERRORS.labels(name, lookup.error_code).inc()
            labelled(BREAKER_OPEN, name).set(1 if lookup.error_code == "circuit_open" else 0)
        if items is None:
            return
        ttl = self.cache_ttl_s if items else self.negative_cache_ttl_s
        if ttl <= 0:  # caching is off: nothing to serialise or remember
            lookup.items = list(items)
            lookup.signature_problems = self.signatures(items)
            return
        payload = json.dumps(
            [e.model_dump(mode="json") for e in items], ensure_ascii=False
        ).encode()
        stored = self._seal(key, payload)
        lookup.items, lookup.signature_problems = self._remember(key, stored, list(items))
        await self.cache.set(key, stored, ttl)

    async def _lookup(self, lookup: Lookup, context: RequestContext) -> Sequence[Evidence] | None:
        """The adapter's answer, or None with the lookup's status and error code set."""
        budget = getattr(getattr(lookup.adapter, "options", None), "timeout_s", 5.0)
        try:
            # The adapter keeps its own budget; this is the backstop for one that does not.
            # (asyncio.timeout, not wait_for: no extra task per registry question.)
            async with asyncio.timeout(budget + 0.25):
                items = await lookup.adapter.lookup(lookup.query, context)
        except TimeoutError:
            lookup.status, lookup.error_code = "unavailable", "timeout"
            log.warning("registry %s overran its budget", lookup.adapter.name)
            return None
        except RegistryRejected as exc:
            lookup.status, lookup.error_code = "rejected", exc.code
            log.error("registry %s rejected the request: %s", lookup.adapter.name, exc.message)
            return None
        except RegistryError as exc:
            lookup.status, lookup.error_code = "unavailable", exc.code
            log.warning("registry %s unavailable: %s", lookup.adapter.name, exc.message)
            return None
        except Exception:  # an adapter's own bug: as good as no answer, never a 500
            lookup.status, lookup.error_code = "unavailable", "adapter_error"
            log.exception("adapter %s failed", lookup.adapter.name)
            return None
        lookup.status = "answered"
        return items
