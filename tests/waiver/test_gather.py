"""Stage 2, gather: the cache first, then the registries at once; faults become a status."""

from __future__ import annotations

import asyncio
import json
import time

from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceQuery, RequestContext
from matcher.store.sealed import Sealer
from matcher.waiver.cache import MemoryCache
from matcher.waiver.evidence import TrustStore
from matcher.waiver.gather import Gatherer
from matcher.waiver.plan import Lookup
from tests.waiver.stages import APPLICANT, LICENCE, Registry, record

CONTEXT = RequestContext(requester="t", matter_code="m")


def _gatherer(cache: MemoryCache, ttl: float = 60.0, sealer: Sealer | None = None) -> Gatherer:
    return Gatherer(
        cache=cache,
        trust_store=TrustStore(),
        cache_secret=b"s",
        cache_ttl_s=ttl,
        negative_cache_ttl_s=ttl,
        sealer=sealer,
    )


def _lookup(registry: Registry) -> Lookup:
    query = EvidenceQuery(kind="e_licence", holder=APPLICANT, types=(LICENCE,))
    return Lookup(registry, "applicant", query)  # type: ignore[arg-type]


def test_a_second_check_is_answered_from_the_cache_without_asking() -> None:
    registry = Registry("r-licence", "e_licence", lambda q: [record()])
    gatherer = _gatherer(MemoryCache())
    first, second = _lookup(registry), _lookup(registry)
    asyncio.run(gatherer.gather([first], CONTEXT))
    asyncio.run(gatherer.gather([second], CONTEXT))
    assert len(registry.asked) == 1
    assert (first.status, first.from_cache) == ("answered", False)
    assert (second.status, second.from_cache) == ("answered", True)
    assert [e.id for e in second.items] == ["E1"]
    # an unsigned record: its signature finding travels with it, from the cache too
    assert second.signature_problems == first.signature_problems == ["unsigned"]


def test_with_caching_off_every_check_asks() -> None:
    registry = Registry("r-licence", "e_licence", lambda q: [record()])
    gatherer = _gatherer(MemoryCache(), ttl=0)
    for _ in range(2):
        asyncio.run(gatherer.gather([_lookup(registry)], CONTEXT))
    assert len(registry.asked) == 2


def _raise(exc: Exception) -> Registry:
    def answer(query: EvidenceQuery) -> list:  # type: ignore[type-arg]
        raise exc

    return Registry("r-licence", "e_licence", answer)


def test_faults_become_the_lookups_status_never_an_exception() -> None:
    down = _lookup(_raise(RegistryUnavailable("r-licence", "down", code="http_503")))
    refused = _lookup(_raise(RegistryRejected("r-licence", "no", code="unauthorised")))
    broken = _lookup(_raise(KeyError("a bug in the adapter")))
    asyncio.run(_gatherer(MemoryCache()).gather([down, refused, broken], CONTEXT))
    assert (down.status, down.error_code) == ("unavailable", "http_503")
    assert (refused.status, refused.error_code) == ("rejected", "unauthorised")
    assert (broken.status, broken.error_code) == ("unavailable", "adapter_error")
    assert down.items == refused.items == broken.items == []


def _ask(gatherer: Gatherer, registry: Registry, requester: str, matter: str, token: str) -> Lookup:
    lookup = _lookup(registry)
    context = RequestContext(requester=requester, matter_code=matter, consent_token=token)
    asyncio.run(gatherer.gather([lookup], context))
    return lookup


def test_an_answer_given_under_consent_serves_only_that_caller_matter_and_token() -> None:
    registry = Registry("r-licence", "e_licence", lambda q: [record()])
    gatherer = _gatherer(MemoryCache())
    _ask(gatherer, registry, "sys-a", "re-transfer", "consent-a")
    # the same caller, matter and token again: from the cache
    assert _ask(gatherer, registry, "sys-a", "re-transfer", "consent-a").from_cache
    assert len(registry.asked) == 1
    # another caller with any token, another matter, another token: the registry is asked
    for requester, matter, token in (
        ("sys-b", "re-transfer", "made-up"),
        ("sys-a", "ent-establish", "consent-a"),
        ("sys-a", "re-transfer", "consent-b"),
    ):
        lookup = _ask(gatherer, registry, requester, matter, token)
        assert not lookup.from_cache, (requester, matter, token)
    assert len(registry.asked) == 4


def test_cached_answers_are_sealed_and_a_forged_entry_is_asked_again() -> None:
    cache = MemoryCache()
    registry = Registry("r-licence", "e_licence", lambda q: [record()])
    sealer = Sealer({"k1": b"\x02" * 32}, "k1")
    gatherer = _gatherer(cache, sealer=sealer)
    asyncio.run(gatherer.gather([_lookup(registry)], CONTEXT))
    [(key, (_, stored))] = list(cache._data.items())
    assert APPLICANT.id.encode() not in stored and b"valid" not in stored  # nothing in clear

    # Someone who can write to the cache puts a plain answer there (a revoked licence made
    # valid, say), or changes a byte of the sealed one: neither is used; the registry is asked.
    plain = record().model_copy(update={"status": "valid"}).model_dump(mode="json")
    for forged in (json.dumps([plain]).encode(), stored[:-1] + bytes([stored[-1] ^ 1])):
        cache._data[key] = (time.monotonic() + 60, forged)
        fresh = _gatherer(cache, sealer=sealer)  # another worker: nothing decoded yet
        lookup = _lookup(registry)
        asyncio.run(fresh.gather([lookup], CONTEXT))
        assert not lookup.from_cache and lookup.status == "answered"
    assert len(registry.asked) == 3
