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


def test_xlsx_detail_sheet_holds_every_row_as_the_json_does(
    audited: tuple[Path, list[Any]],
) -> None:
    from matcher.audit.report import MATERIAL_DETAIL_COLUMNS

    out, _ = audited
    rows = json.loads((out / "materials.json").read_text("utf-8"))
    sheet = openpyxl.load_workbook(out / "report.xlsx", read_only=True)["材料明细"]
    table = list(sheet.iter_rows(values_only=True))

    assert table[1] == tuple(heading for _, heading in MATERIAL_DETAIL_COLUMNS)
    assert len(table) == 2 + len(rows)
    keys = [key for key, _ in MATERIAL_DETAIL_COLUMNS]
    for row, cells in zip(rows, table[2:], strict=True):
        cells = cells + (None,) * (len(keys) - len(cells))  # trailing empty cells are not kept
        for key, cell in zip(keys, cells, strict=True):
            if key not in row:
                continue
            want = row[key]
            if isinstance(want, bool):
                want = "是" if want else None
            elif isinstance(want, list):
                want = "；".join(str(v) for v in want) or None
            elif want == "":
                want = None
            assert cell == want, (key, row["row"])


def test_xlsx_keeps_hostile_names_as_text(tmp_path: Path) -> None:
    listing = tmp_path / "list.csv"
    names = ['=HYPERLINK("http://x")', "A & B <营业执照>", " 前后空格 ", "控制\x07字符", "+1"]
    listing.write_text(
        "事项编码,事项名称,实施部门,材料名称\n"
        + "".join(f'X-1,事项,舟山市民政局,"{n.replace(chr(34), chr(34) * 2)}"\n' for n in names),
        "utf-8",
    )
    rows, problems = load_material_lists([listing])
    directory = load_directory()
    results = audit_material_rows(rows, MaterialMatcher(directory), "舟山市")
    write_material_reports(results, problems, tmp_path / "out", directory)
    sheet = openpyxl.load_workbook(tmp_path / "out" / "report.xlsx")["材料明细"]

    cells = [sheet.cell(row=3 + i, column=7) for i in range(len(rows))]
    assert sheet.cell(row=2, column=7).value == "材料名称"
    assert [c.data_type for c in cells] == ["s"] * len(rows)  # no formula among them
    assert [c.value for c in cells] == [r.name for r in rows]
    assert rows[3].name == "控制字符"  # the pasted control character is dropped on reading


def test_catalog_yaml_loads_back_to_the_exported_catalog(
    audited: tuple[Path, list[Any]],
) -> None:
    import yaml

    from matcher.audit.export import catalog_from_rows

    out, results = audited
    loaded = yaml.safe_load((out / "catalog.yaml").read_text("utf-8"))

    assert loaded == catalog_from_rows(results, load_directory())
    assert sum(len(m["materials"]) for m in loaded["matters"]) == 800  # the invalid row is left out


@pytest.mark.parametrize("count", [0, 1, 4999, 5000, 5001, 10000])
def test_json_rows_file_is_one_valid_array_whatever_the_count(tmp_path: Path, count: int) -> None:
    from matcher.audit.materials import write_json_rows

    rows = [{"row": i, "name": f"材料{i}", "evidence": [], "score": i / 3} for i in range(count)]
    write_json_rows(iter(rows), tmp_path / "rows.json")

    text = (tmp_path / "rows.json").read_text("utf-8")
    assert json.loads(text) == rows
    assert text.count("\n") == count + 2  # "[", one row a line, "]"
