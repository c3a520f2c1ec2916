"""Caller keys: with [[callers]] configured, /v1/ answers only a known key, and the usage
records, idempotency keys and uploaded files belong to the caller that key names."""

from __future__ import annotations

import io
from typing import Any

import pytest

from matcher.api import create_app
from matcher.errors import ConfigError
from matcher.settings import Settings
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant
from tests.extract.corpus import make_samples

KEYS = {"window-system": "k-window-0123456789abcdef", "tax-system": "k-tax-0123456789abcdef"}


@pytest.fixture
def api(sandbox: Sandbox, make_api: ApiFactory, monkeypatch: pytest.MonkeyPatch) -> Api:
    monkeypatch.setenv("WINDOW_KEY", KEYS["window-system"])
    monkeypatch.setenv("TAX_KEY", KEYS["tax-system"])
    return make_api(
        sandbox,
        callers=[
            {"name": "window-system", "api_key_env": "WINDOW_KEY"},
            {"name": "tax-system", "api_key_env": "TAX_KEY"},
        ],
    )


def _as(caller: str, **extra: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {KEYS[caller]}", **extra}


def _body(holders: dict[str, Any]) -> dict[str, Any]:
    return {"matter_code": "ent-establish", "applicant": applicant(holders["zhang_wei"])}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer k-wrong-0123456789abcdef"},
        {"Authorization": KEYS["window-system"]},  # no scheme
        {"Authorization": "Basic " + KEYS["window-system"]},
        {"X-Requester": "window-system"},  # a name is not a key
    ],
    ids=["none", "wrong", "no-scheme", "basic", "name-only"],
)
def test_without_a_callers_key_v1_answers_401(
    api: Api, holders: dict[str, Any], headers: dict[str, str]
) -> None:
    for r in (
        api.check(_body(holders), headers=headers),
        api.client.get("/v1/matters", headers=headers),
    ):
        assert r.status_code == 401, r.text
        assert r.json()["error"] == "unauthorised" and "Bearer" in r.json()["message"]
        assert r.headers["www-authenticate"] == "Bearer"
    assert api.client.get("/healthz").status_code == 200  # health stays open for the platform


def test_a_key_names_the_requester_in_the_usage_records(api: Api, holders: dict[str, Any]) -> None:
    r = api.check(_body(holders), headers=_as("window-system"))
    assert r.status_code == 200, r.text
    assert r.json()["summary"]["waived"] == 3
    usage = api.usage(r.json()["check_id"])
    assert usage and {u["requester"] for u in usage} == {"window-system"}


def test_x_requester_must_agree_with_the_key(api: Api, holders: dict[str, Any]) -> None:
    r = api.check(_body(holders), headers=_as("window-system", **{"X-Requester": "tax-system"}))
    assert r.status_code == 403 and r.json()["error"] == "requester_mismatch"
    r = api.check(_body(holders), headers=_as("window-system", **{"X-Requester": "window-system"}))
    assert r.status_code == 200


def test_one_callers_files_and_applications_are_not_anothers(
    api: Api, holders: dict[str, Any]
) -> None:
    card = make_samples("id_card_front", 1)[0]
    r = api.client.post(
        "/v1/files",
        files={"file": ("card.pdf", io.BytesIO(card.pdf_bytes), "application/pdf")},
        headers=_as("window-system"),
    )
    assert r.status_code == 201, r.text
    file_id = r.json()["file_id"]
    for caller, status in (("tax-system", 404), ("window-system", 200)):
        r = api.client.post("/v1/extract", data={"file_id": file_id}, headers=_as(caller))
        assert r.status_code == status, (caller, r.text)
    body = {**_body(holders), "application_id": "APP-AUTH-1"}
    first = api.check(body, headers=_as("window-system")).json()
    again = api.check(body, headers=_as("window-system")).json()
    other = api.check(body, headers=_as("tax-system")).json()
    assert first["check_id"] == again["check_id"] != other["check_id"]


@pytest.mark.parametrize(
    ("value", "problem"), [(None, "is not set"), ("short", "shorter than 16 characters")]
)
def test_a_callers_missing_or_weak_key_stops_start_up(
    monkeypatch: pytest.MonkeyPatch, value: str | None, problem: str
) -> None:
    if value is None:
        monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    else:
        monkeypatch.setenv("NO_SUCH_KEY", value)
    settings = Settings(callers=[{"name": "window-system", "api_key_env": "NO_SUCH_KEY"}])
    with pytest.raises(ConfigError, match=rf"callers\[window-system\].api_key_env: .*{problem}"):
        create_app(settings)


def test_caller_and_registry_names_are_unique() -> None:
    with pytest.raises(ValueError, match="caller names must be unique; repeated: a"):
        Settings(callers=[{"name": "a", "api_key_env": "A"}, {"name": "a", "api_key_env": "B"}])
    registry = {"name": "r", "adapter": "elicence", "base_url": "http://127.0.0.1:9"}
    with pytest.raises(ValueError, match="registry names must be unique; repeated: r"):
        Settings(registries=[registry, registry])


def test_a_registrys_missing_key_stops_start_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_SUCH_KEY", raising=False)
    registry = {
        "name": "zs-elicence",
        "adapter": "elicence",
        "base_url": "http://127.0.0.1:9",
        "api_key_env": "NO_SUCH_KEY",
    }
    (entry,) = Settings(registries=[registry]).registries
    with pytest.raises(ConfigError, match=r"registries\[zs-elicence\].api_key_env: .*not set"):
        entry.adapter_options()


def test_v1_fails_closed_while_the_key_store_cannot_be_read(
    sandbox: Sandbox, make_api: ApiFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    from matcher.access.keys import KeyStore
    from matcher.errors import RecordsUnavailable

    def down(self: KeyStore) -> object:
        raise RecordsUnavailable("the records database failed: OperationalError")

    monkeypatch.setattr(KeyStore, "known", down)
    api = make_api(sandbox, key_refresh_s=0.05)  # no [[callers]]: keys could only be stored ones
    refused = api.client.get("/v1/matters")
    assert refused.status_code == 503
    assert refused.json()["error"] == "keys_unavailable" and refused.headers["retry-after"]
    monkeypatch.undo()  # the database is back, and it holds no key: the service is open
    import time

    time.sleep(0.1)
    assert api.client.get("/v1/matters").status_code == 200
