"""The workbench in a real browser (Debian's Chromium via Playwright), as a clerk uses it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.ui.conftest import PASSWORD, Workbench, keep


def test_a_clerk_signs_in_and_opens_an_application(
    workbench: Workbench, page: Any, artifacts_dir: Path
) -> None:
    workbench.add_user("wangfang", "clerk", "ZS-AMR")
    check = workbench.check("BROWSER-1")
    page.goto(f"{workbench.url}/ui/applications")
    assert page.url.startswith(f"{workbench.url}/ui/sign-in")
    page.get_by_label("用户名").fill("wangfang")
    page.get_by_label("密码").fill(PASSWORD)
    page.get_by_role("button", name="登录").click()
    page.get_by_role("link", name="BROWSER-1").click()
    page.wait_for_url(f"**/ui/applications/{check['check_id']}")
    waived = page.locator("tr.d-waive")
    assert waived.count() == check["summary"]["waived"]
    assert "✓ 已核验" in waived.first.inner_text()
    page.screenshot(path=keep(artifacts_dir / "application-page.png"), full_page=False)
