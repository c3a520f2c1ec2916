"""Faults, latency, the API key and the admin endpoints, each on a sandbox of its own."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from typing import Any

import httpx
import pytest

from matcher.sandbox import SampleHolder, SandboxConfig, create_sandbox_app
from matcher.sandbox.gate import GARBAGE_BODY
from matcher.sandbox.serving import ServerThread

Start = Callable[..., httpx.Client]


@pytest.fixture
def start() -> Iterator[Start]:
    """``start(**config)``: a fresh sandbox, and a client for it."""
    with ExitStack() as stack:

        def run(**config: Any) -> httpx.Client:
            server = stack.enter_context(ServerThread(create_sandbox_app(SandboxConfig(**config))))
            return stack.enter_context(httpx.Client(base_url=server.url, timeout=5))

        yield run


def _list(client: httpx.Client, holder: SampleHolder, **kw: Any) -> httpx.Response:
    params = {"holder_id_type": holder.id_type, "holder_id": holder.id}
    return client.get("/v1/licences", params=params, **kw)


def _ask(client: httpx.Client, holder: SampleHolder) -> httpx.Response:
    body = {
        "cert_type": "tax_payment_record",
        "holder": {"id_type": holder.id_type, "id": holder.id},
    }
    return client.post("/v1/certificates", json=body)


def _faults(client: httpx.Client, **changes: Any) -> dict[str, Any]:
    response = client.put("/_sandbox/faults", json=changes)
    assert response.status_code == 200, response.text
    return dict(response.json())


def test_5xx_fault_hits_both_registries_but_not_admin(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start()
    _faults(client, fault_rate=1, fault_mode="5xx")
    for response in (_list(client, holders["zhang_wei"]), _ask(client, holders["zhang_wei"])):
        assert response.status_code >= 500
        assert response.json()["error"] == "unavailable"
    assert client.get("/_sandbox/faults").status_code == 200
    assert client.get("/_sandbox/stats").json()["faults_injected"] == {"5xx": 2}


def test_garbage_fault_is_a_200_that_is_not_json(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start(fault_rate=1, fault_mode="garbage")
    response = _list(client, holders["zhang_wei"])
    assert response.status_code == 200
    assert response.content == GARBAGE_BODY
    with pytest.raises(ValueError):
        json.loads(response.content)


def test_malformed_fault_is_json_of_the_wrong_shape(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start(fault_rate=1, fault_mode="malformed")
    response = _list(client, holders["zhang_wei"])
    assert response.status_code == 200
    assert not isinstance(response.json()["items"], list)
    certificate = _ask(client, holders["zhang_wei"])
    assert certificate.status_code == 200 and "certificate_no" not in certificate.json()


def test_429_fault_says_when_to_retry(start: Start, holders: dict[str, SampleHolder]) -> None:
    client = start(fault_rate=1, fault_mode="429", retry_after_s=3)
    response = _list(client, holders["zhang_wei"])
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


def test_timeout_fault_outlasts_the_client_and_the_server_still_stops(
    holders: dict[str, SampleHolder],
) -> None:
    with ServerThread(create_sandbox_app(SandboxConfig(fault_rate=1, fault_mode="timeout"))) as s:
        with pytest.raises(httpx.ReadTimeout), httpx.Client(base_url=s.url) as client:
            _list(client, holders["zhang_wei"], timeout=0.3)
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3


def test_a_hanging_request_does_not_block_others(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start(fault_rate=1, fault_mode="timeout", hang_s=1.5)
    zhang_wei = holders["zhang_wei"]
    with ThreadPoolExecutor(1) as pool:
        hanging = pool.submit(_list, client, zhang_wei)
        deadline = time.monotonic() + 5
        while client.get("/_sandbox/stats").json()["faults_injected"].get("timeout") != 1:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        _faults(client, fault_rate=0)
        answered = _list(client, zhang_wei)
        assert answered.status_code == 200
        assert not hanging.done()
        assert hanging.result(timeout=5).status_code == 504


def test_mixed_faults_draw_from_every_kind(start: Start, holders: dict[str, SampleHolder]) -> None:
    client = start(fault_rate=1, fault_mode="mixed", hang_s=0.02)
    statuses = {_list(client, holders["zhang_wei"]).status_code for _ in range(60)}
    assert statuses == {200, 429, 503, 504}
    injected = client.get("/_sandbox/stats").json()["faults_injected"]
    assert set(injected) == {"5xx", "timeout", "garbage", "malformed", "429"}
    assert sum(injected.values()) == 60


def test_fault_rate_fails_only_a_share(start: Start, holders: dict[str, SampleHolder]) -> None:
    client = start(fault_rate=0.5)
    failed = sum(_list(client, holders["sun_hao"]).status_code == 503 for _ in range(60))
    assert 10 < failed < 50


def test_latency_is_applied_and_can_be_changed(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start(latency_ms=150)
    began = time.monotonic()
    assert _list(client, holders["sun_hao"]).status_code == 200
    assert time.monotonic() - began >= 0.15
    assert _faults(client, latency_ms=300, jitter_ms=50)["latency_ms"] == 300
    began = time.monotonic()
    assert _ask(client, holders["zhang_wei"]).status_code == 201
    assert time.monotonic() - began >= 0.3


def test_latency_is_per_request_not_a_queue(start: Start, holders: dict[str, SampleHolder]) -> None:
    """Eight requests sent together all answer after about one latency, as from a registry on
    its own machine, and none sooner."""
    client = start(latency_ms=300)
    base = str(client.base_url)

    def timed(_: int) -> tuple[int, float]:
        with httpx.Client(base_url=base, timeout=5) as own:
            began = time.monotonic()
            status = _ask(own, holders["zhang_wei"]).status_code
            return status, time.monotonic() - began

    with ThreadPoolExecutor(8) as pool:
        results = list(pool.map(timed, range(8)))
    assert [status for status, _ in results] == [201] * 8
    assert min(took for _, took in results) >= 0.3
    assert max(took for _, took in results) < 0.3 * 2


def test_api_key_is_required_when_configured(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start(api_key="s3cret")
    missing = _list(client, holders["zhang_wei"])
    assert missing.status_code == 401
    assert missing.json()["error"] == "unauthorized"
    assert missing.headers["WWW-Authenticate"] == "Bearer"
    client.headers["Authorization"] = "Bearer wrong"
    assert _ask(client, holders["zhang_wei"]).status_code == 401
    client.headers["Authorization"] = "Bearer s3cret"
    assert _list(client, holders["zhang_wei"]).status_code == 200
    assert _ask(client, holders["zhang_wei"]).status_code == 201
    del client.headers["Authorization"]
    assert client.get("/_sandbox/stats").json()["unauthorised"] == 2


def test_stats_count_requests_per_endpoint_until_reset(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    client = start()
    for _ in range(3):
        _list(client, holders["zhang_wei"])
    _ask(client, holders["zhang_wei"])
    client.get("/v1/licences/nothing")
    assert client.get("/_sandbox/stats").json()["requests"] == {
        "GET /v1/licences": 3,
        "POST /v1/certificates": 1,
        "GET /v1/licences/{licence_id}": 1,
    }
    assert client.delete("/_sandbox/stats").status_code == 204
    assert client.get("/_sandbox/stats").json()["requests"] == {}


def test_page_size_can_be_changed(start: Start, holders: dict[str, SampleHolder]) -> None:
    client = start()
    _faults(client, page_size=3)
    pages = []
    params = {"holder_id_type": "citizen_id", "holder_id": holders["zhang_wei"].id}
    while True:
        page = client.get("/v1/licences", params=params).json()
        pages.append(len(page["items"]))
        if page["next"] is None:
            break
        params["cursor"] = page["next"]
    assert pages == [3, 3, 2]


@pytest.mark.parametrize(
    "changes",
    [{"fault_rate": 1.5}, {"fault_mode": "flaky"}, {"latency_ms": -1}, {"hang": 1}, [1]],
    ids=["rate", "mode", "latency", "unknown", "not-an-object"],
)
def test_bad_fault_settings_are_400_and_change_nothing(start: Start, changes: Any) -> None:
    client = start()
    before = client.get("/_sandbox/faults").json()
    response = client.put("/_sandbox/faults", json=changes)
    assert response.status_code == 400
    assert response.json()["error"] == "bad_request"
    assert client.get("/_sandbox/faults").json() == before


def test_holders_endpoint_lists_the_named_holders(
    start: Start, holders: dict[str, SampleHolder]
) -> None:
    listed = start().get("/_sandbox/holders").json()
    assert [h["key"] for h in listed] == list(holders)
    assert listed[0]["scenario"]
