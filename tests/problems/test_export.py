"""Exports a department opens in a spreadsheet: a note or name never becomes a live formula."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest

from matcher.problems.export import COLUMNS, to_csv, to_xlsx

HOSTILE = ['=HYPERLINK("http://evil.example","x")', "+1+1", "-2+3", "@SUM(A1)", "\t=1"]


def _report(note: str) -> dict[str, object]:
    return {key: None for _, key in COLUMNS} | {"id": 7, "resolution_note": note}


@pytest.mark.parametrize("note", HOSTILE)
def test_a_formula_in_a_note_is_text_in_csv(note: str) -> None:
    rows = list(csv.reader(io.StringIO(to_csv([_report(note)]).decode("utf-8-sig"))))
    cell = rows[1][[key for _, key in COLUMNS].index("resolution_note")]
    assert cell == "'" + note


@pytest.mark.parametrize("note", HOSTILE)
def test_a_formula_in_a_note_is_a_string_cell_in_xlsx(note: str) -> None:
    sheet = openpyxl.load_workbook(io.BytesIO(to_xlsx([_report(note)]))).active
    assert sheet is not None
    cell = sheet.cell(2, [key for _, key in COLUMNS].index("resolution_note") + 1)
    assert cell.data_type == "s" and cell.value == note


def test_plain_text_and_numbers_are_written_as_they_are() -> None:
    rows = list(csv.reader(io.StringIO(to_csv([_report("已整改")]).decode("utf-8-sig"))))
    assert rows[1][0] == "7"
    assert rows[1][[key for _, key in COLUMNS].index("resolution_note")] == "已整改"
