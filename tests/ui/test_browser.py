"""The workbench in a real browser (Debian's Chromium via Playwright), as a clerk uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pymupdf

from tests.extract.corpus import make_samples
from tests.ui.conftest import PASSWORD, Workbench, keep


def test_a_clerk_settles_and_confirms_a_sandbox_application(
    workbench: Workbench, page: Any, artifacts_dir: Path
) -> None:
    workbench.add_user("wangfang", "clerk", "ZS-AMR")
    # The sandbox's 张伟 registers a company; the scan uploaded for 法定代表人身份证明 is somebody
    # else's ID card, so the registry's verified record and the upload disagree.
    other = make_samples("id_card_front", 3)[2]
    file_id = workbench.upload(other.pdf_bytes)
    app = workbench.submit(
        "BROWSER-1", uploads=[{"material_code": "legal-rep-id", "file_id": file_id}]
    )
    conflicts = [f for f in app["form"]["fields"] if f["conflict"]]
    assert conflicts and app["form"]["missing"] == ["lr_mobile"]

    page.goto(f"{workbench.url}/ui/applications")
    assert page.url.startswith(f"{workbench.url}/ui/sign-in")
    page.get_by_label("用户名").fill("wangfang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="BROWSER-1").click()
    page.wait_for_url(f"**/ui/applications/{app['id']}")

    # a waived material and its evidence
    # the pre-filled 申请书 is confirmed on line, not counted as a paper to bring
    form_row = page.locator("tr.d-require").filter(has_text="公司登记（备案）申请书")
    assert "在线确认" in form_row.inner_text() and "需提交" not in form_row.inner_text()
    assert "需提交 2" in page.locator("#checklist-h").inner_text()
    waived = page.locator("tr.d-waive").filter(has_text="住所（经营场所）使用证明")
    assert "免交" in waived.inner_text() and "✓ 已核验" in waived.inner_text()
    assert "不动产权证书" in waived.inner_text()
    # every conflict is highlighted with both candidates
    name_row = page.locator("#f-lr_name")
    assert "张伟" in name_row.inner_text() and other.truth["name"] in name_row.inner_text()
    assert "上传材料识别" in name_row.inner_text() and "电子证照" in name_row.inner_text()
    shot = keep(artifacts_dir / "application-page.png")
    page.screenshot(path=shot)

    # confirming too early: an error summary on top that links to each field
    page.get_by_role("link", name="核对并确认").click()
    page.get_by_role("button", name="确认无误，提交").click()
    summary = page.locator(".error-summary")
    assert "尚不能确认" in summary.inner_text() and "移动电话" in summary.inner_text()
    page.screenshot(path=keep(artifacts_dir / "application-error.png"))
    summary.get_by_role("link", name="移动电话", exact=False).click()
    assert page.url.endswith("#f-lr_mobile")

    # the uploaded scan, its fields boxed
    page.get_by_role("link", name="法定代表人身份证明").last.click()
    page.wait_for_url("**/uploads/**")
    page.wait_for_load_state("load")  # the page's images too
    assert other.truth["name"] in page.locator("table.form").inner_text()
    assert page.locator(".scan img").evaluate("i => i.naturalWidth") > 100
    page.screenshot(path=keep(artifacts_dir / "upload-page.png"))
    # Back to the application by its address: going back in history would land on the
    # confirm form's error answer, which no cache keeps (no-store), so the browser would have
    # to post the form again.
    page.goto(f"{workbench.url}/ui/applications/{app['id']}")

    for f in conflicts:  # keep the verified registry's value
        row = page.locator(f"#f-{f['key']}")
        row.locator('input[name="choice"][value="0"]').check()
        row.get_by_role("button", name="采用所选").click()
        page.wait_for_url("**msg=saved**")
        assert page.locator(f"#f-{f['key']}.fs-edited").count() == 1

    # the missing field, checked as it is typed
    mobile = page.locator("#in-lr_mobile")
    mobile.fill("1380")
    page.locator("#chk-lr_mobile.bad").wait_for()
    mobile.fill("13805801234")
    page.locator("#chk-lr_mobile.ok").wait_for()
    page.locator("#f-lr_mobile").get_by_role("button", name="保存").click()
    page.wait_for_url("**msg=saved**")

    page.get_by_role("link", name="核对并确认").click()
    assert "13805801234" in page.locator("table.review").inner_text()
    page.get_by_role("button", name="确认无误，提交").click()
    page.wait_for_url("**msg=confirmed**")
    assert "申请表已确认并记录" in page.locator(".notice").first.inner_text()
    page.screenshot(path=keep(artifacts_dir / "application-confirmed.png"), full_page=True)

    with page.expect_popup() as popup:
        page.get_by_role("link", name="打印视图").click()
    printed = popup.value
    printed.wait_for_load_state("load")
    assert "13805801234" in printed.locator("table.print-form").inner_text()
    printed.screenshot(path=keep(artifacts_dir / "print-view.png"), full_page=True)
    printed.close()

    with page.expect_download() as download:
        page.get_by_role("link", name="下载申请表 PDF").click()
    pdf = artifacts_dir / "BROWSER-1.pdf"
    download.value.save_as(pdf)
    text = "".join(p.get_text() for p in pymupdf.open(pdf))
    for value in ("13805801234", "张伟", "舟山港伟船舶服务有限公司"):
        assert value in text
    assert other.truth["name"] not in text
