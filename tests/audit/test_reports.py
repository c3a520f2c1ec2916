"""The material audit's outputs: XLSX with native charts, HTML with charts, JSON rows, catalog."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openpyxl
import pytest

from matcher.audit.matching import MaterialMatcher
from matcher.audit.materials import (
    audit_material_rows,
    load_material_lists,
    write_material_reports,
)
from matcher.catalog.licences import load_directory
from matcher.catalog.matters import load_catalog
from matcher.sandbox import SandboxConfig, write_trust_store
from matcher.settings import Settings
from matcher.wiring import build_services
from tests.audit import gen_clerk
from tests.audit.gen_common import write_cases


@pytest.fixture(scope="module")
def audited(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]]]:
    tmp = tmp_path_factory.mktemp("report")
    listing = write_cases(gen_clerk.generate(800), tmp / "list.xlsx")
    bad = tmp / "bad.csv"
    bad.write_text(
        "事项编码,事项名称,实施部门,材料名称,份数\nX-9,事项,舟山市民政局,,很多\n", "utf-8"
    )
    rows, problems = load_material_lists([listing, bad])
    directory = load_directory()
    results = audit_material_rows(rows, MaterialMatcher(directory), "舟山市")
    write_material_reports(results, problems, tmp / "out", directory)
    return tmp / "out", results


def test_xlsx_summary_sheets_carry_native_charts(audited: tuple[Path, list[Any]]) -> None:
    out, _ = audited
    book = openpyxl.load_workbook(out / "report.xlsx")

    charted = [ws.title for ws in book.worksheets if ws._charts]  # type: ignore[attr-defined]
    assert {"汇总", "按部门", "免提交率", "按城市", "未匹配高频材料"} <= set(charted)
    assert book["材料明细"].max_row == 2 + 801  # title, heading, one row per material


def test_json_has_one_row_per_material_with_name_type_score_class(
    audited: tuple[Path, list[Any]],
) -> None:
    out, results = audited
    rows = json.loads((out / "materials.json").read_text("utf-8"))

    assert len(rows) == len(results) == 801
    licence = next(r for r in rows if r["type_name"] == "居民身份证")
    assert licence["type_code"] == "11100000000013888E001"
    assert licence["classification"] in {"e_licence", "data_certificate", "city_issued"}
    assert {"name", "score", "classification", "reason"} <= set(licence)
    invalid = [r for r in rows if r["classification"] == "invalid"]
    assert len(invalid) == 1 and invalid[0]["file"] == "bad.csv" and invalid[0]["row"] == 2


def test_html_is_self_contained_with_charts(audited: tuple[Path, list[Any]]) -> None:
    out, _ = audited
    page = (out / "report.html").read_text("utf-8")

    assert page.count('src="data:image/png;base64,') >= 4
    assert "单材料免提交率" in page and "零材料事项" in page
    assert "http://" not in page and "https://" not in page


def test_exported_catalog_loads_in_the_waive_check_service(
    audited: tuple[Path, list[Any]], tmp_path: Path
) -> None:
    out, _ = audited
    catalog = load_catalog(out / "catalog.yaml")
    write_trust_store(SandboxConfig(), tmp_path / "trust.json")
    services = build_services(
        Settings(
            catalog=out / "catalog.yaml",
            trust_store=tmp_path / "trust.json",
            state_dir=tmp_path,
            database_url=f"sqlite:///{tmp_path / 'm.db'}",
        )
    )
    try:
        assert len(services.catalog) == len(catalog) > 10
    finally:
        services.records.close()
    id_cards = [
        spec
        for matter in catalog.matters
        for material in matter.materials
        for spec in material.evidence
        if spec.type == "11100000000013888E001"
    ]
    assert id_cards
