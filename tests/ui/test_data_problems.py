"""The data-problem pages: a department's queue, a report with its evidence, the status actions,
the assessment with its chart — over real HTTP and in a real browser."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx

from matcher.sandbox import load_holders
from tests.ui.conftest import PASSWORD, Workbench, csrf_of, keep


def _file_reports(workbench: Workbench) -> None:
    """Three checks: two reports for 舟山市自然资源和规划局, one for 舟山市公安局."""
    holders = load_holders()
    for key, matter in (
        ("yang_fan", "indiv-establish"),  # tampered 不动产权证书 → zs-nrp
        ("sun_hao", "indiv-establish"),  # no record of his premises → zs-nrp
        ("wang_fang", "social-insurance-proof"),  # ID card past its end date → zs-psb
    ):
        h = holders[key]
        body = {
            "matter_code": matter,
            "applicant": {"id_type": h.id_type, "id": h.id, "name": h.name},
        }
        r = httpx.post(f"{workbench.url}/v1/waive-check", json=body, timeout=30)
        assert r.status_code == 200, r.text
    # the background follow-up notes each new report ("发现数据问题") shortly after
    deadline = time.monotonic() + 10
    while True:
        items = httpx.get(f"{workbench.url}/v1/data-problems", timeout=10).json()["items"]
        histories = [
            httpx.get(f"{workbench.url}/v1/data-problems/{i['id']}", timeout=10).json()["history"]
            for i in items
        ]
        if len(items) == 3 and all(histories):
            return
        assert time.monotonic() < deadline, items
        time.sleep(0.05)


def test_an_officer_sees_only_their_departments_reports_and_acts_on_them(
    workbench: Workbench,
) -> None:
    _file_reports(workbench)
    workbench.add_user("nrp-officer", "data_officer", "ZS-NRP")
    workbench.add_user("clerk1", "clerk", "ZS-AMR")
    with workbench.client() as client:
        assert workbench.sign_in(client, "nrp-officer").headers["location"] == "/ui/data-problems"
        queue = client.get("/ui/data-problems.json").json()
        assert queue["total"] == 2
        assert {r["department"] for r in queue["items"]} == {"zs-nrp"}
        other = client.get("/v1/data-problems", params={"department": "zs-psb"}).json()["items"]
        assert client.get(f"/ui/data-problems/{other[0]['id']}").status_code == 404
        report = next(r for r in queue["items"] if r["problem"] == "signature_invalid")
        page = client.get(f"/ui/data-problems/{report['id']}")
        assert page.status_code == 200
        assert "签名验证失败" in page.text and report["evidence_id"] in page.text
        token = csrf_of(page.text)
        url = f"/ui/data-problems/{report['id']}/status"
        no_reason = client.post(url, data={"csrf_token": token, "status": "rejected"})
        assert no_reason.status_code == 422 and "驳回须说明理由" in no_reason.text
        forged = client.post(url, data={"csrf_token": "forged", "status": "acknowledged"})
        assert forged.status_code == 403
        done = client.post(url, data={"csrf_token": token, "status": "acknowledged"})
        assert done.status_code == 303
        after = client.get(f"/ui/data-problems/{report['id']}.json").json()
        assert after["status"] == "acknowledged"
        assert after["history"][-1]["actor"] == "nrp-officer"
        assessment = client.get("/ui/assessment.json").json()
        assert {r["department"] for r in assessment["rows"]} == {"zs-nrp"}
        assert sum(r["found"] for r in assessment["rows"]) == 2
    with workbench.client() as client:
        workbench.sign_in(client, "clerk1")
        assert client.get("/ui/data-problems").status_code == 403


def test_an_officer_acknowledges_a_report_and_sees_the_assessment_chart_in_a_browser(
    workbench: Workbench, page: Any, artifacts_dir: Path
) -> None:
    _file_reports(workbench)
    workbench.add_user("nrp-officer", "data_officer", "ZS-NRP")

    page.goto(f"{workbench.url}/ui/data-problems")
    assert page.url.startswith(f"{workbench.url}/ui/sign-in")
    page.get_by_label("用户名").fill("nrp-officer")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.wait_for_url("**/ui/data-problems")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 2
    assert "舟山市公安局" not in page.locator("table.list").inner_text()
    page.screenshot(path=keep(artifacts_dir / "data-problems-queue.png"))

    row = rows.filter(has_text="电子签名验证失败")
    row.get_by_role("link").click()
    page.wait_for_url("**/ui/data-problems/*")
    assert "待处理" in page.locator("h1").inner_text()
    assert "11100000MB1D08888P001" in page.locator("table.evidence-table").inner_text()
    page.get_by_role("button", name="驳回").click()  # without a reason: refused, said where
    summary = page.locator(".error-summary")
    assert "驳回须说明理由" in summary.inner_text()
    page.screenshot(path=keep(artifacts_dir / "data-problem-error.png"))
    page.get_by_role("button", name="确认收到").click()
    page.wait_for_url("**msg=status_changed**")
    assert "状态已更新" in page.locator(".notice").inner_text()
    assert "已确认" in page.locator("h1").inner_text()
    history = page.locator("table.list").last.inner_text()
    assert "nrp-officer" in history and "待处理 → 已确认" in history
    page.screenshot(path=keep(artifacts_dir / "data-problem-report.png"), full_page=True)

    page.get_by_role("link", name="考核").first.click()
    page.wait_for_url("**/ui/assessment")
    chart = page.locator("#assessment-chart")
    chart.wait_for()
    page.wait_for_function(
        "() => { const i = document.getElementById('assessment-chart');"
        " return i.complete && i.naturalWidth > 0; }"
    )
    assert chart.evaluate("i => i.naturalWidth") >= 800
    table = page.locator("table.list").first.inner_text()
    assert "舟山市自然资源和规划局" in table
    page.screenshot(path=keep(artifacts_dir / "data-problem-assessment.png"), full_page=True)
