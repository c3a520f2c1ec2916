"""The HTML report in a real headless browser: its charts load and draw, Chinese included."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

from matcher.audit.matching import MaterialMatcher
from matcher.audit.materials import audit_material_rows, load_material_lists, write_material_reports
from matcher.catalog.licences import load_directory
from tests.audit import gen_portal
from tests.audit.gen_common import write_cases

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def report(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("page")
    listing = write_cases(gen_portal.generate(1500), tmp / "list.csv")
    broken = tmp / "broken.csv"
    broken.write_text("事项编码,材料名称\n", encoding="utf-8")  # headings missing: a file problem
    rows, problems = load_material_lists([listing, broken])
    directory = load_directory()
    results = audit_material_rows(rows, MaterialMatcher(directory), "舟山市")
    return write_material_reports(results, problems, tmp / "out", directory)["html"]


def test_the_report_shows_its_charts_in_a_browser(report: Path) -> None:
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1366, "height": 768})
            page.goto(report.as_uri())
            drawn = page.eval_on_selector_all(
                "img.chart", "imgs => imgs.map(i => [i.complete, i.naturalWidth, i.alt])"
            )
            page.screenshot(path=str(report.with_name("report.png")), full_page=False)
            page.locator("h2", has_text="问题行").scroll_into_view_if_needed()
            page.screenshot(path=str(report.with_name("report-problems.png")))
            title = page.title()
            problems = page.locator("h2:has-text('问题行') + table tbody tr").count()
        finally:
            browser.close()

    assert title == "材料清单审计报告"
    assert len(drawn) >= 4
    assert all(complete and width > 300 for complete, width, _ in drawn)
    assert "各部门单材料免提交率" in [alt for *_, alt in drawn]
    assert problems >= 1  # the broken file is listed, not dropped
    assert report.with_name("report.png").stat().st_size > 20_000
