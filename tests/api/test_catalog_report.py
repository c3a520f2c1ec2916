"""`matcher catalog report`: per matter, what an applicant the registries know still brings and
types. Checked against what the service really asks of such an applicant (张伟, every record on
file in the sandbox), not against the report's own arithmetic."""

from __future__ import annotations

import json
from typing import Any

import pytest

from matcher.catalog.matters import load_catalog
from matcher.cli import main
from tests.api.conftest import ApiFactory, Sandbox, applicant


def _report(capsys: pytest.CaptureFixture[str], *args: str) -> str:
    assert main(["catalog", "report", *args]) == 0
    return capsys.readouterr().out


def test_the_report_matches_what_a_known_applicant_is_asked(
    sandbox: Sandbox,
    make_api: ApiFactory,
    holders: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> None:
    rows = {r["code"]: r for r in json.loads(_report(capsys, "--json"))}
    assert list(rows) == [m.code for m in load_catalog().matters]

    api = make_api(sandbox)
    app = api.client.post(
        "/v1/applications",
        json={
            "matter_code": "ent-establish",
            # with his real-name account's phone, as the portal sends it
            "applicant": {**applicant(holders["zhang_wei"]), "phone": holders["zhang_wei"].phone},
            "application_id": "REPORT-1",
        },
    ).json()
    asked = [d for d in app["check"]["decisions"]]
    row = rows["ent-establish"]
    # what the check sends him for is what the report says he brings …
    # (the pre-filled application form is confirmed, not brought)
    assert row["to_bring"] == [
        d["material_name"]
        for d in asked
        if d["decision"] == "require" and d["basis"] != "application_form"
    ]
    assert row["to_bring"] == ["公司章程", "法定代表人、董事、监事和高级管理人员的任职文件"]
    assert row["materials"] == len(asked)
    # … and the fields the form leaves for him are the ones it says are typed
    labels = {f["key"]: f["label"] for f in app["form"]["fields"]}
    assert row["typed"] == [labels[k] for k in app["form"]["missing"]]
    assert row["fields"] == len(app["form"]["fields"])
    assert row["typed"] == [] and app["form"]["missing"] == []
    assert row["situational"] == 3 and not row["zero_materials"] and row["zero_fields"]

    # the first exemption: city-issued materials without a source are never on the list
    for code, name in (
        ("re-transfer-sale", "存量房买卖合同（网签备案）"),
        ("construction-permit", "施工图设计文件审查合格书"),
        ("completion-filing", "消防验收意见书或备案凭证"),
        ("hpf-withdraw-purchase", "购房合同（网签备案）"),
    ):
        assert name not in rows[code]["to_bring"]
        # (消防验收 is asked for only of special projects: a situation, counted apart)
        assert rows[code]["obtained_by_window"] >= 1 or code == "completion-filing"
    assert rows["social-insurance-proof"]["zero_materials"] is True
    # 零材料 and 零字段 at once (the demo's SAMPLE-5)
    assert rows["re-change-name"]["zero_materials"] and rows["re-change-name"]["zero_fields"]


def test_the_table_names_every_matter_and_sums_up(capsys: pytest.CaptureFixture[str]) -> None:
    out = _report(capsys)
    matters = load_catalog().matters
    assert all(m.code in out for m in matters)
    assert f"{len(matters)} matters:" in out and "申请零材料" in out and "填报零字段" in out
    assert (
        "ent-establish: brings 公司章程、法定代表人、董事、监事和高级管理人员的任职文件; types —"
        in out
    )
