"""The five zeros (五个零) per matter on the assessment page: of the applications the service
kept in the months shown, how many had nothing to bring, nothing to type, met no-touch approval,
and are kept with their records for the archive — counted from the applications themselves."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.applications import zeros
from matcher.sandbox import load_holders
from tests.ui.conftest import PASSWORD, Workbench, keep


def _apply(workbench: Workbench, app_id: str, holder: str, matter: str, phone: bool) -> None:
    h = load_holders()[holder]
    person = {"id_type": h.id_type, "id": h.id, "name": h.name}
    if phone:
        person["phone"] = "13905801234"
    body = {"matter_code": matter, "applicant": person, "application_id": app_id}
    r = httpx.post(f"{workbench.url}/v1/applications", json=body, timeout=60)
    assert r.status_code == 200, r.text


def test_the_assessment_counts_the_five_zeros_per_matter(
    workbench: Workbench, page: Any, artifacts_dir: Path
) -> None:
    # 张伟 has every record: with his account's phone the form needs nothing typed
    _apply(workbench, "Z-1", "zhang_wei", "re-change-name", phone=True)
    # the same without the phone: nothing to bring, but 联系电话 is left to type
    _apply(workbench, "Z-2", "zhang_wei", "re-change-name", phone=False)
    # 杨帆's 不动产权证书 fails its signature (review), and he lacks a record he must bring
    _apply(workbench, "Z-3", "yang_fan", "re-change-name", phone=True)
    # a matter marked for no-touch approval, met
    _apply(workbench, "Z-4", "zhang_wei", "social-insurance-proof", phone=True)
    workbench.add_user("office", "admin")
    workbench.add_user("hrss-officer", "data_officer", "ZS-HRSS")

    with workbench.client() as client:
        workbench.sign_in(client, "office")
        zeros = {
            z["matter_code"]: z for z in client.get("/ui/assessment.json").json()["five_zeros"]
        }
    assert set(zeros) == {"re-change-name", "social-insurance-proof"}
    re = zeros["re-change-name"]
    assert re["applications"] == 3
    assert re["zero_fields"] == 1 and re["has_form"] is True
    assert re["archived"] == 3
    assert re["auto_approval_marked"] is False and re["auto_approval_eligible"] == 0
    si = zeros["social-insurance-proof"]
    assert (si["applications"], si["zero_materials"], si["auto_approval_eligible"]) == (1, 1, 1)
    assert si["has_form"] is False and si["zero_fields"] == 0
    # 杨帆 has something to bring (no record stands in for it); 张伟's two have nothing
    z3 = httpx.get(f"{workbench.url}/v1/applications/Z-3", timeout=30).json()
    assert [
        d
        for d in z3["check"]["decisions"]
        if d["decision"] == "require" and d["basis"] != "application_form"
    ]
    assert re["zero_materials"] == 2

    # a department's officer sees their own matters only
    with workbench.client() as client:
        workbench.sign_in(client, "hrss-officer")
        mine = client.get("/ui/assessment.json").json()["five_zeros"]
    assert [z["matter_code"] for z in mine] == ["social-insurance-proof"]

    page.goto(f"{workbench.url}/ui/sign-in")
    page.get_by_label("用户名").fill("office")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_load_state()
    page.goto(f"{workbench.url}/ui/assessment")
    table = page.locator("#five-zeros-table")
    rows = table.locator("tbody tr")
    assert rows.count() == 2
    first = rows.nth(0).inner_text()
    assert "不动产变更登记" in first and "\t3\t" in first
    assert "2（67%）" in first
    assert "1（33%）" in first and "未开通" in first and "3（100%）" in first
    second = rows.nth(1).inner_text()
    assert "社会保险参保缴费证明开具" in second and "无申请表" in second
    assert second.count("1（100%）") == 3
    page.screenshot(path=keep(artifacts_dir / "assessment-five-zeros.png"), full_page=True)


def test_the_five_zeros_say_when_they_counted_only_the_first_applications(
    workbench: Workbench, monkeypatch: pytest.MonkeyPatch
) -> None:
    # each application is opened to be counted, so a report counts a bounded number of them
    monkeypatch.setattr(zeros, "LIMIT", 2)
    for i in range(3):
        _apply(workbench, f"CAP-{i}", "zhang_wei", "social-insurance-proof", phone=True)
    workbench.add_user("office", "admin")
    with workbench.client() as client:
        workbench.sign_in(client, "office")
        counted = client.get("/ui/assessment.json").json()["five_zeros"]
        page = client.get("/ui/assessment").text
    assert [z["applications"] for z in counted] == [2]
    assert 'id="five-zeros-capped"' in page and "最早的 2 件" in page
