"""The shared HTTP machinery: what the contract suite cannot reach through a mocked registry."""

import datetime as dt
import socket
import time
from collections.abc import AsyncIterator
from typing import Any

import anyio
import httpx
import pytest
import respx

from adapters._http import CircuitBreaker, mask_id, parse_json, retry_after_seconds
from adapters.elicence import ElicenceAdapter
from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceQuery, Holder, RequestContext
from adapters.testing import ContractClock
from tests.adapters.conftest import BASE_URL

HOLDER = Holder(id_type="citizen_id", id="330902199001011237")
QUERY = EvidenceQuery(kind="e_licence", holder=HOLDER, types=("113300000000000000001",))
CONTEXT = RequestContext(requester="zs-gov-hall", matter_code="330900-JY-001")


def make(client: httpx.AsyncClient, base_url: str = BASE_URL, **options: Any) -> ElicenceAdapter:
    return ElicenceAdapter("zs-elicence", {"base_url": base_url, **options}, client)


@pytest.mark.parametrize(
    ("value", "masked"),
    [
        ("330902199001011237", "3309**********1237"),
        ("91330900MA2A0XXXX1", "9133**********XXX1"),
        ("3309 0219 9001 0112 37", "3309**********1237"),
        ("E1234567", "********"),
    ],
)
def test_mask_id_keeps_only_the_ends(value: str, masked: str) -> None:
    assert mask_id(value) == masked


@pytest.mark.parametrize(
    ("header", "seconds"),
    [
        ("3", 3.0),
        (" 0 ", 0.0),
        ("1.5", 1.5),
        ("Fri, 27 Nov 2026 10:00:30 GMT", 30.0),
        ("Fri, 27 Nov 2026 09:59:00 GMT", 0.0),
        ("-1", None),
        ("soon", None),
        ("nan", None),
        ("", None),
        (None, None),
    ],
)
def test_retry_after_is_read_as_seconds_or_a_date(
    header: str | None, seconds: float | None
) -> None:
    now = dt.datetime(2026, 11, 27, 10, 0, 0, tzinfo=dt.UTC)
    assert retry_after_seconds(header, now=now) == seconds


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b'{"a": 1, "a": 2}', "appears twice"),
        (b'{"a": Infinity}', "not JSON"),
        (b'{"a": "\xff"}', "not UTF-8"),
        (b"[" * 100_000 + b"]" * 100_000, "nests too deeply"),
        (b"  ", "empty"),
    ],
)
def test_parse_json_refuses_what_a_signature_cannot_be_checked_over(
    body: bytes, problem: str
) -> None:
    with pytest.raises(ValueError, match=problem):
        parse_json(body)


class _Trickle(httpx.AsyncByteStream):
    """A body without Content-Length, as a chunked response arrives."""

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for _ in range(64):
            yield b" " * 1024


@pytest.mark.anyio
async def test_body_without_content_length_is_cut_off_at_the_limit(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    registry.get("/v1/licences").mock(
        side_effect=lambda request: httpx.Response(200, stream=_Trickle())
    )

    with pytest.raises(RegistryUnavailable) as raised:
        await make(http_client, max_body_bytes=4096).lookup(QUERY, CONTEXT)

    assert raised.value.code == "response_too_large"


@pytest.mark.anyio
@pytest.mark.parametrize("token", ["tok\r\nX-Injected: 1", "tok\x00"])
async def test_header_value_with_control_characters_is_refused_before_sending(
    registry: respx.MockRouter, http_client: httpx.AsyncClient, token: str
) -> None:
    route = registry.get("/v1/licences").mock(
        return_value=httpx.Response(200, json={"items": [], "next": None})
    )
    context = RequestContext(requester="zs-gov-hall", matter_code="M", consent_token=token)

    with pytest.raises(RegistryRejected) as raised:
        await make(http_client).lookup(QUERY, context)

    assert raised.value.code == "bad_request"
    assert route.call_count == 0


@pytest.mark.anyio
async def test_requester_named_in_chinese_goes_out_as_utf8(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.get("/v1/licences").mock(
        return_value=httpx.Response(200, json={"items": [], "next": None})
    )
    context = RequestContext(requester="舟山市政务服务中心", matter_code="M")

    await make(http_client).lookup(QUERY, context)

    raw = dict(route.calls.last.request.headers.raw)
    assert raw[b"X-Requester"].decode("utf-8") == "舟山市政务服务中心"


@pytest.mark.anyio
async def test_persistent_faults_never_overrun_the_budget(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    route = registry.get("/v1/licences").mock(return_value=httpx.Response(503))
    started = time.monotonic()

    with pytest.raises(RegistryUnavailable):
        await make(http_client, timeout_s=0.15, max_retries=5).lookup(QUERY, CONTEXT)

    assert time.monotonic() - started < 0.15 + 0.1
    assert 1 <= route.call_count <= 6


@pytest.mark.anyio
async def test_base_url_with_another_scheme_is_a_misconfiguration() -> None:
    async with httpx.AsyncClient() as client:
        with pytest.raises(RegistryRejected) as raised:
            await make(client, base_url="ftp://registry.test").lookup(QUERY, CONTEXT)

    assert raised.value.code == "misconfigured"


@pytest.mark.anyio
async def test_nothing_listening_is_unavailable_within_the_budget() -> None:
    with socket.socket() as sock:  # a port that was free a moment ago
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    started = time.monotonic()

    async with httpx.AsyncClient() as client:
        with pytest.raises(RegistryUnavailable) as raised:
            await make(client, base_url=f"http://127.0.0.1:{port}", timeout_s=0.5).lookup(
                QUERY, CONTEXT
            )

    assert raised.value.code == "network_error"
    assert time.monotonic() - started < 0.5 + 0.2


def test_half_open_breaker_lets_exactly_one_trial_through() -> None:
    clock = ContractClock()
    breaker = CircuitBreaker("zs", failures=1, reset_s=10, clock=clock)
    breaker.record(trial=breaker.admit() is True, ok=False)
    assert breaker.state == "open"

    clock.advance(10)
    trial = breaker.admit()
    assert trial is True
    assert breaker.admit() is None  # a second caller while the trial runs

    breaker.record(trial=True, ok=None)  # the trial was cancelled: no verdict
    assert breaker.admit() is True  # so another caller may try


@pytest.mark.anyio
async def test_no_more_than_max_in_flight_requests_reach_the_registry_at_once(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    busy = peak = 0

    async def slow(request: httpx.Request) -> httpx.Response:
        nonlocal busy, peak
        busy += 1
        peak = max(peak, busy)
        await anyio.sleep(0.02)
        busy -= 1
        return httpx.Response(200, json={"items": [], "next": None})

    registry.get("/v1/licences").mock(side_effect=slow)
    adapter = make(http_client, max_in_flight=3)
    results: list[list[Any]] = []

    async def one() -> None:
        results.append(await adapter.lookup(QUERY, CONTEXT))

    async with anyio.create_task_group() as tg:
        for _ in range(10):
            tg.start_soon(one)
    assert results == [[]] * 10
    assert peak == 3


@pytest.mark.anyio
async def test_waiting_for_a_free_slot_counts_against_the_budget(
    registry: respx.MockRouter, http_client: httpx.AsyncClient
) -> None:
    async def stuck(request: httpx.Request) -> httpx.Response:
        await anyio.sleep(5)
        return httpx.Response(200, json={"items": [], "next": None})

    registry.get("/v1/licences").mock(side_effect=stuck)
    adapter = make(http_client, max_in_flight=1, timeout_s=0.3, max_retries=0)
    started = time.monotonic()
    outcomes: list[str] = []

    async def one() -> None:
        try:
            await adapter.lookup(QUERY, CONTEXT)
        except RegistryUnavailable as exc:
            outcomes.append(exc.code)

    async with anyio.create_task_group() as tg:
        for _ in range(3):
            tg.start_soon(one)
    assert outcomes == ["timeout"] * 3
    assert time.monotonic() - started < 0.3 + 0.2
