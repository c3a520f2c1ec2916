"""What operators see: /metrics for Prometheus, a request id on every answer and log line, and
no ID number in either."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.api.conftest import Api, ApiFactory, Sandbox, Served, applicant


def _samples(text: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def _value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_requests_decisions_registries_and_cache(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api: Api = make_api(sandbox)
    before = _samples(api.client.get("/metrics").text)
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}
    first = api.check(body).json()
    api.check(body)  # the second is answered from the cache
    response = api.client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    after = _samples(response.text)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert (
        grew(
            "matcher_http_request_duration_seconds_count",
            route="/v1/waive-check",
            method="POST",
            status="200",
        )
        == 2
    )
    waived = sum(d["decision"] == "waive" for d in first["decisions"])
    assert (
        grew("matcher_decisions_total", decision="waive", basis="e_licence")
        + grew("matcher_decisions_total", decision="waive", basis="data_certificate")
        == 2 * waived
    )
    asked = grew(
        "matcher_registry_request_duration_seconds_count",
        registry="zs-elicence",
        outcome="answered",
    )
    assert asked >= 1
    assert grew("matcher_cache_lookups_total", result="hit") >= 1
    assert grew("matcher_cache_lookups_total", result="miss") >= 1
    assert _value(after, "matcher_registry_breaker_open", registry="zs-datacert") == 0
    assert all(h.id not in response.text for h in holders.values())


def test_a_stalled_registry_shows_as_errors_and_an_open_breaker(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, timeout_s=0.5)
    faulty_sandbox.faults(fault_rate=1.0, fault_mode="5xx")
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["li_na"])}
    for _ in range(8):  # enough failures to open the breaker (5 by default)
        r = api.check(body)
        assert r.status_code == 200
        assert all(d["decision"] != "waive" for d in r.json()["decisions"])
    after = _samples(api.client.get("/metrics").text)
    errors = sum(
        v
        for (name, labels), v in after.items()
        if name == "matcher_registry_errors_total" and ("registry", "zs-elicence") in labels
    )
    assert errors >= 8
    assert _value(after, "matcher_registry_breaker_open", registry="zs-elicence") == 1


def test_every_answer_carries_a_request_id(sandbox: Sandbox, make_api: ApiFactory) -> None:
    api = make_api(sandbox)
    made = api.client.get("/v1/matters").headers["x-request-id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)
    assert api.client.get("/v1/matters").headers["x-request-id"] != made
    given = api.client.get("/v1/matters", headers={"X-Request-Id": "gw-7f3a:0001"})
    assert given.headers["x-request-id"] == "gw-7f3a:0001"
    hostile = api.client.get("/v1/matters", headers={"X-Request-Id": "a\u0007b" * 40})
    assert re.fullmatch(r"[0-9a-f]{32}", hostile.headers["x-request-id"])
    refused = api.client.post(
        "/v1/waive-check", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert refused.status_code == 400 and refused.headers["x-request-id"]


def test_served_logs_are_json_with_the_request_id_and_metrics_sum_the_workers(
    served: Served, tmp_path: Path, holders: dict[str, Any]
) -> None:
    """``matcher serve --workers 2``: one JSON object per log line, the request id of each
    request in its lines, no ID number in the clear; /metrics counts both workers' checks."""
    url = served(f"sqlite:///{tmp_path / 'm.db'}", None)
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}
    for i in range(12):  # fresh connections: both workers answer some
        r = httpx.post(f"{url}/v1/waive-check", json=body, headers={"X-Request-Id": f"t-{i}"})
        assert r.status_code == 200 and r.headers["x-request-id"] == f"t-{i}"
    holder_id = holders["zhang_wei"].id
    httpx.get(f"{url}/v1/matters", params={"holder_id": holder_id}, headers={"X-Request-Id": "q"})
    samples = _samples(httpx.get(f"{url}/metrics").text)
    checks = _value(
        samples,
        "matcher_http_request_duration_seconds_count",
        route="/v1/waive-check",
        method="POST",
        status="200",
    )
    assert checks == 12
    lines = (tmp_path / "serve.log").read_text(encoding="utf-8").splitlines()
    entries = [json.loads(line) for line in lines if line.strip()]
    assert entries and all({"time", "level", "logger", "message"} <= e.keys() for e in entries)
    tagged = {e.get("request_id") for e in entries}
    assert {f"t-{i}" for i in range(12)} <= tagged
    query = [e for e in entries if e.get("request_id") == "q"]
    assert query and all(holder_id not in e["message"] for e in query)
    assert any("330902********0314" in e["message"] for e in query)
    assert holder_id not in "\n".join(lines)


def test_readyz_says_where_the_data_key_lives(
    sandbox: Sandbox, make_api: ApiFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # SQLite in the state folder, and no data_keys_env: one backup would hold both.
    monkeypatch.setenv("MATCHER_STATE_DIR", str(tmp_path))
    beside = make_api(sandbox, database_url=f"sqlite:///{tmp_path / 'matcher.db'}")
    assert beside.client.get("/readyz").json()["data_key"] == "beside_database"
    monkeypatch.setenv("TEST_DATA_KEYS", "k1:" + "AQ" * 21 + "A=")
    apart = make_api(
        sandbox,
        database_url=f"sqlite:///{tmp_path / 'other' / 'matcher.db'}",
        data_keys_env="TEST_DATA_KEYS",
    )
    assert apart.client.get("/readyz").json()["data_key"] == "environment"
