"""Bad input gets a clear 4xx, never a 500; idempotency; the catalog and health endpoints."""

from __future__ import annotations

from typing import Any

import pytest

from tests.api.conftest import Api, ApiFactory, Sandbox, applicant


@pytest.fixture
def sqlite_api(sandbox: Sandbox, make_api: ApiFactory) -> Api:
    return make_api(sandbox)


def test_wrong_check_digit_is_422_with_a_reason(sqlite_api: Api, holders: dict[str, Any]) -> None:
    person = applicant(holders["zhang_wei"])
    person["id"] = person["id"][:-1] + ("0" if person["id"][-1] != "0" else "1")
    r = sqlite_api.check({"matter_code": "ent-establish", "applicant": person})
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_identifier"
    assert r.json()["field"] == "applicant.id"
    assert "校验码" in r.json()["message"]


def test_lowercase_x_is_accepted(sqlite_api: Api, holders: dict[str, Any]) -> None:
    person = applicant(holders["li_na"])
    assert person["id"].endswith("X")
    person["id"] = person["id"].lower()
    r = sqlite_api.check({"matter_code": "seafarer-service-book", "applicant": person})
    assert r.status_code == 200
    d = {m["material_code"]: m for m in r.json()["decisions"]}
    assert d["id-card"]["decision"] == "waive"


def test_bad_credit_code_of_a_party_names_the_party(
    sqlite_api: Api, holders: dict[str, Any]
) -> None:
    body = {
        "matter_code": "construction-permit",
        "applicant": {"id_type": "uscc", "id": "91330900MA2A0B3C45", "name": "某公司"},
        "parties": [
            {
                "role": "contractor",
                "id_type": "uscc",
                "id": "91330900MA2A0B3C46",
                "name": "某建设公司",
            }
        ],
    }
    r = sqlite_api.check(body)
    assert r.status_code == 422
    assert r.json()["field"] == "parties[0].id"


def test_pre_standard_credit_code_is_accepted_and_flagged_when_configured(
    sandbox: Sandbox, make_api: ApiFactory
) -> None:
    api = make_api(sandbox, accept_pre_standard_uscc=True)
    body = {
        "matter_code": "ent-change",
        "applicant": {"id_type": "uscc", "id": "91330900MA2A0B3C46", "name": "某公司"},
    }
    r = api.check(body)
    assert r.status_code == 200
    assert r.json()["warnings"] == ["applicant.id: uscc_check_failed"]


def test_unknown_matter_is_404(sqlite_api: Api, holders: dict[str, Any]) -> None:
    r = sqlite_api.check({"matter_code": "no-such", "applicant": applicant(holders["zhang_wei"])})
    assert r.status_code == 404
    assert r.json()["error"] == "unknown_matter"


def test_malformed_json_is_400(sqlite_api: Api) -> None:
    r = sqlite_api.client.post(
        "/v1/waive-check", content=b'{"matter_code": ', headers={"content-type": "application/json"}
    )
    assert r.status_code == 400
    assert r.json()["error"] == "malformed_json"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"matter_code": "ent-establish"},
        {
            "matter_code": "ent-establish",
            "applicant": {"id_type": "passport", "id": "1", "name": "x"},
        },
        {
            "matter_code": "ent-establish",
            "applicant": {"id_type": "citizen_id", "id": "1", "name": "x"},
            "unexpected": 1,
        },
        [1, 2, 3],
        "text",
    ],
)
def test_wrong_shape_is_422_naming_the_field(sqlite_api: Api, body: Any) -> None:
    r = sqlite_api.check(body)
    assert r.status_code == 422
    assert r.json()["error"] in ("invalid_request", "invalid_identifier")
    assert r.json()["message"]


def test_oversized_body_is_413(sqlite_api: Api, holders: dict[str, Any]) -> None:
    body = {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "consent_token": "x" * (2 << 20),
    }
    r = sqlite_api.check(body)
    assert r.status_code == 413


def test_same_application_id_returns_the_same_check(
    sqlite_api: Api, holders: dict[str, Any]
) -> None:
    body = {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": "APP-IDEM-1",
    }
    first = sqlite_api.check(body).json()
    again = sqlite_api.check(body).json()
    assert again == first


def test_same_application_id_with_another_request_is_409(
    sqlite_api: Api, holders: dict[str, Any]
) -> None:
    body = {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": "APP-IDEM-2",
    }
    assert sqlite_api.check(body).status_code == 200
    body["applicant"] = applicant(holders["sun_hao"])
    r = sqlite_api.check(body)
    assert r.status_code == 409
    assert r.json()["error"] == "conflict"


def test_matters_are_listed_and_shown(sqlite_api: Api) -> None:
    listed = sqlite_api.client.get("/v1/matters").json()
    assert len(listed) >= 10
    code = listed[0]["code"]
    matter = sqlite_api.client.get(f"/v1/matters/{code}").json()
    assert matter["code"] == code and matter["materials"]
    assert sqlite_api.client.get("/v1/matters/no-such").status_code == 404


def test_readyz_reports_every_part(sqlite_api: Api) -> None:
    r = sqlite_api.client.get("/readyz")
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ready"
    assert body["database"] == "up"
    assert body["registries"] == {"zs-elicence": "up", "zs-datacert": "up"}
    assert sqlite_api.client.get("/healthz").json() == {"status": "ok"}


def test_readyz_degrades_when_redis_is_down(sandbox: Sandbox, make_api: ApiFactory) -> None:
    api = make_api(sandbox, redis_url="redis://127.0.0.1:1/0")
    body = api.client.get("/readyz").json()
    assert (body["status"], body["cache"]) == ("degraded", "down")


def test_redis_down_still_answers_checks(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox, redis_url="redis://127.0.0.1:1/0")
    r = api.check({"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])})
    assert r.status_code == 200
    assert r.json()["summary"]["waived"] == 3
