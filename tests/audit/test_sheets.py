"""Material lists in the portal layout from CSV and XLSX; bad rows are reported, never dropped."""

from __future__ import annotations

from pathlib import Path

import openpyxl
import pytest

from matcher.audit.sheets import parse_column_mapping, read_material_rows
from matcher.errors import InputError

HEADER = [
    "事项编码",
    "事项名称",
    "实施部门",
    "材料名称",
    "来源渠道",
    "来源说明",
    "是否必要",
    "材料形式",
    "份数",
]
GOOD = [
    "X-1",
    "食品经营许可",
    "舟山市市场监督管理局",
    "营业执照",
    "政府部门核发",
    "",
    "是",
    "纸质",
    "1",
]


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    path.write_text("\n".join(",".join(r) for r in rows) + "\n", encoding=encoding)
    return path


def test_csv_rows_are_read_with_their_spreadsheet_row_numbers(tmp_path: Path) -> None:
    rows, problems = read_material_rows(write_csv(tmp_path / "a.csv", [HEADER, GOOD, GOOD]))

    assert problems == []
    assert [r.row for r in rows] == [2, 3]
    assert rows[0].city == "舟山市" and rows[0].necessary is True and rows[0].copies == 1


def test_gb18030_csv_is_read(tmp_path: Path) -> None:
    rows, _ = read_material_rows(write_csv(tmp_path / "a.csv", [HEADER, GOOD], "gb18030"))

    assert rows[0].name == "营业执照"


def test_bad_rows_are_kept_with_row_column_and_reason(tmp_path: Path) -> None:
    bad_copies = [*GOOD[:8], "很多"]
    no_name = [*GOOD[:3], "", *GOOD[4:]]
    rows, _ = read_material_rows(write_csv(tmp_path / "a.csv", [HEADER, bad_copies, no_name, GOOD]))

    assert len(rows) == 3
    first, second, third = rows
    assert first.valid and first.copies is None
    assert [(p.row, p.column) for p in first.problems] == [(2, "份数")]
    assert not second.valid and second.problems[0].column == "材料名称"
    assert third.valid and not third.problems


def test_xlsx_with_a_title_row_and_numeric_cells(tmp_path: Path) -> None:
    book = openpyxl.Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["舟山市政务服务事项材料清单"])
    sheet.append(HEADER)
    sheet.append([*GOOD[:8], 2])
    path = tmp_path / "a.xlsx"
    book.save(path)

    rows, problems = read_material_rows(path)

    assert problems == []
    assert rows[0].row == 3 and rows[0].copies == 2


def test_other_headings_with_a_column_mapping(tmp_path: Path) -> None:
    header = ["编码", "事项", "部门", "材料"]
    path = write_csv(tmp_path / "a.csv", [header, ["X-1", "事项甲", "舟山市民政局", "结婚证"]])
    mapping = parse_column_mapping(
        ["事项编码=编码", "事项名称=事项", "实施部门=部门", "材料名称=材料"]
    )

    rows, problems = read_material_rows(path, mapping)

    assert problems == [] and rows[0].name == "结婚证"


def test_a_file_without_the_headings_is_one_problem_and_no_rows(tmp_path: Path) -> None:
    rows, problems = read_material_rows(write_csv(tmp_path / "a.csv", [["a", "b"], ["1", "2"]]))

    assert rows == []
    assert problems[0].fatal and "材料名称" in problems[0].reason


def test_a_bad_mapping_says_how_to_write_it() -> None:
    with pytest.raises(InputError, match="门户列名=文件列名"):
        parse_column_mapping(["材料=名称"])


def test_a_departments_place_is_the_first_place_its_name_starts_with() -> None:
    from matcher.audit.sheets import city_of

    assert city_of("舟山市市场监督管理局") == "舟山市"
    assert city_of("岱山县市场监督管理局") == "岱山县"  # not 岱山县市 (the 市 of 市场)
    assert city_of("浙江省舟山市定海区住房和城乡建设局") == "舟山市"
    assert city_of("嵊泗县市场监督管理局") == "嵊泗县"
    assert city_of("市场监督管理局") == "未知"
