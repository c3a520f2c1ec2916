"""The waive-check's short road (matcher.api.fastpath) answers as FastAPI's route does.

An ordinary JSON request is answered by the shortcut; a ``+json`` content type still reaches the
FastAPI route. Both must give the same decisions, and every unusual request — a body in pieces,
too large, refused, or with a header the route refuses — the answer it always had.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.api.conftest import Api, ApiFactory, Sandbox, applicant


@pytest.fixture
def api(sandbox: Sandbox, make_api: ApiFactory) -> Api:
    return make_api(sandbox)


def _post(api: Api, body: Any, content_type: str, **headers: str) -> httpx.Response:
    raw = json.dumps(body, ensure_ascii=False).encode()
    return api.client.post(
        "/v1/waive-check", content=raw, headers={"content-type": content_type, **headers}
    )


def _answer(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code == 200, r.text
    answer = r.json()
    answer.pop("check_id")
    answer.pop("checked_at")
    return answer


@pytest.mark.parametrize("who", ["zhang_wei", "li_na", "wang_fang"])
def test_the_shortcut_and_the_route_decide_alike(
    api: Api, holders: dict[str, Any], who: str
) -> None:
    body = {"matter_code": "ent-establish", "applicant": applicant(holders[who])}
    short = _post(api, body, "application/json", **{"x-requester": "window-1"})
    route = _post(api, body, "application/merge-patch+json", **{"x-requester": "window-1"})
    assert _answer(short) == _answer(route)
    assert short.headers["content-type"] == "application/json"
    assert short.headers["x-request-id"]
    # each was recorded for its caller, with its usage records
    for r in (short, route):
        usage = api.usage(r.json()["check_id"])
        assert usage and all(u["requester"] == "window-1" for u in usage)


@pytest.mark.parametrize(
    ("content_type", "encoding"),
    [
        ("application/json;charset=UTF-8", "utf-8"),
        ("Application/JSON", "utf-8"),
        ("application/json; charset=utf-16", "utf-16"),  # not the model's: the route reads it
    ],
)
def test_json_in_any_spelling_or_encoding_is_checked(
    api: Api, holders: dict[str, Any], content_type: str, encoding: str
) -> None:
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}
    raw = json.dumps(body, ensure_ascii=False).encode(encoding)
    r = api.client.post("/v1/waive-check", content=raw, headers={"content-type": content_type})
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["waived"] >= 3


def test_a_body_sent_in_pieces_is_read_whole(api: Api, holders: dict[str, Any]) -> None:
    raw = json.dumps(
        {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])},
        ensure_ascii=False,
    ).encode()

    def pieces() -> Iterator[bytes]:
        for i in range(0, len(raw), 7):
            yield raw[i : i + 7]

    r = api.client.post(
        "/v1/waive-check", content=pieces(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["waived"] >= 3


def test_a_large_body_in_pieces_is_413_json(api: Api, holders: dict[str, Any]) -> None:
    head = json.dumps({"matter_code": "ent-establish", "consent_token": "x" * (2 << 20)})

    def pieces() -> Iterator[bytes]:
        raw = head.encode()
        for i in range(0, len(raw), 64 << 10):
            yield raw[i : i + (64 << 10)]

    r = api.client.post(
        "/v1/waive-check", content=pieces(), headers={"content-type": "application/json"}
    )
    assert r.status_code == 413
    assert r.json()["error"] == "http_413"
    assert r.headers["x-request-id"]


@pytest.mark.parametrize(
    ("headers", "field"),
    [
        ({"x-requester": "bad name!"}, "x-requester"),
        ({"x-requester": "a" * 129}, "x-requester"),
    ],
)
def test_a_requester_the_route_refuses_is_still_refused(
    api: Api, holders: dict[str, Any], headers: dict[str, str], field: str
) -> None:
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}
    r = _post(api, body, "application/json", **headers)
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_request"
    assert field in r.json()["message"]


def test_service_errors_keep_their_answers(api: Api, holders: dict[str, Any]) -> None:
    person = applicant(holders["zhang_wei"])
    unknown = _post(api, {"matter_code": "no-such", "applicant": person}, "application/json")
    assert unknown.status_code == 404
    assert unknown.json()["error"] == "unknown_matter"
    assert unknown.headers["x-request-id"]
    wrong = dict(person, id=person["id"][:-1] + ("0" if person["id"][-1] != "0" else "1"))
    refused = _post(api, {"matter_code": "ent-establish", "applicant": wrong}, "application/json")
    assert refused.status_code == 422
    assert refused.json()["error"] == "invalid_identifier"
    assert refused.json()["field"] == "applicant.id"


def test_the_latency_metric_names_the_route(api: Api, holders: dict[str, Any]) -> None:
    body = {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}
    assert _post(api, body, "application/json").status_code == 200
    metrics = api.client.get("/metrics").text
    assert (
        'matcher_http_request_duration_seconds_count{method="POST",route="/v1/waive-check",'
        'status="200"}' in metrics
    )
