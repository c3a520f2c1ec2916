"""Situations (情形): a material asked for only in a situation (夫妻共同出资, 法人股东,
委托代理) is asked for only when the application names it; a situation the matter lacks is
refused."""

from __future__ import annotations

from typing import Any

from tests.api.conftest import ApiFactory, Sandbox, applicant


def _codes(body: dict[str, Any]) -> list[str]:
    return [d["material_code"] for d in body["decisions"]]


def test_a_situational_material_is_asked_for_only_when_its_situation_is_named(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    zhang = applicant(holders["zhang_wei"])
    plain = api.check({"matter_code": "ent-establish", "applicant": zhang})
    assert plain.status_code == 200, plain.text
    assert "legal-rep-marriage" not in _codes(plain.json())
    assert "corporate-shareholder-licence" not in _codes(plain.json())
    assert "agent-authorisation" not in _codes(plain.json())

    joint = api.check(
        {
            "matter_code": "ent-establish",
            "applicant": zhang,
            "situations": ["spouses-joint-investment"],
        }
    ).json()
    assert _codes(joint) == [*_codes(plain.json()), "legal-rep-marriage"]
    marriage = joint["decisions"][-1]
    assert (marriage["decision"], marriage["basis"]) == ("waive", "e_licence")  # 结婚证 on file
    assert joint["summary"]["waived"] == plain.json()["summary"]["waived"] + 1

    # 有法人股东, with no shareholder among the parties: asked for, and nobody to look up
    corporate = api.check(
        {
            "matter_code": "ent-establish",
            "applicant": zhang,
            "situations": ["corporate-shareholder"],
        }
    ).json()
    licence = next(
        d for d in corporate["decisions"] if d["material_code"] == "corporate-shareholder-licence"
    )
    assert (licence["decision"], licence["basis"]) == ("require", "party_missing")


def test_a_situation_the_matter_does_not_have_is_refused_naming_the_field(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    r = api.check(
        {
            "matter_code": "ent-establish",
            "applicant": applicant(holders["zhang_wei"]),
            "situations": ["agent", "moon-landing"],
        }
    )
    assert r.status_code == 422
    assert r.json()["field"] == "situations[1]" and "moon-landing" in r.json()["message"]
    listed = api.client.get("/v1/matters/ent-establish").json()
    assert {s["code"] for s in listed["situations"]} == {
        "spouses-joint-investment",
        "corporate-shareholder",
        "agent",
    }
