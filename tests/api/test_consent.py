"""Consent and purpose: a matter that needs the holder's consent is refused without it, and
every registry question says what it is for."""

from __future__ import annotations

from typing import Any

import httpx

from tests.api.conftest import ApiFactory, Sandbox, applicant


def _stats(box: Sandbox) -> dict[str, Any]:
    return dict(httpx.get(f"{box.url}/_sandbox/stats", timeout=5).json())


def test_a_matter_needing_consent_is_refused_without_it_and_asks_nothing(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox)
    body = {
        "matter_code": "hpf-withdraw-purchase",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": "HPF-CONSENT-1",
    }
    refused = api.check(body)
    assert refused.status_code == 403
    assert refused.json()["error"] == "consent_required"
    assert refused.json()["field"] == "consent_token"
    assert "授权" in refused.json()["message"]
    assert sum(_stats(faulty_sandbox)["requests"].values()) == 0  # no registry was asked
    # nothing was recorded under the id either: the same application with consent goes through
    allowed = api.check({**body, "consent_token": "ct-7f3a9e"})
    assert allowed.status_code == 200, allowed.text
    stats = _stats(faulty_sandbox)
    asked = stats["purposes"].get("hpf-withdraw-purchase", 0)
    assert asked > 0 and stats["consented"]["hpf-withdraw-purchase"] == asked


def test_every_registry_question_carries_its_purpose(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox)
    r = api.check({"matter_code": "ent-establish", "applicant": applicant(holders["li_na"])})
    assert r.status_code == 200
    stats = _stats(faulty_sandbox)
    assert set(stats["purposes"]) == {"ent-establish"}
    assert stats["consented"] == {}  # no consent token was sent, none is invented
