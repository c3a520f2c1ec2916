"""A report as an XLSX workbook: a summary sheet, one sheet per table with its native chart, the
detail sheet and the problem rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from matcher.audit.report import Report, Table
from matcher.problems.export import xlsx_as_text

__all__ = ["write_xlsx"]

_BOLD = Font(bold=True)


def _value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def _write_table(sheet: Worksheet, table: Table, start_row: int = 1) -> int:
    """Writes heading and rows from ``start_row``; returns the row of the heading."""
    sheet.cell(start_row, 1, table.title).font = Font(bold=True, size=13)
    head = start_row + 1
    for col, (_, heading) in enumerate(table.columns, start=1):
        sheet.cell(head, col, heading).font = _BOLD
        sheet.column_dimensions[get_column_letter(col)].width = max(
            10, min(40, 2 * len(heading) + 4)
        )
    for r, row in enumerate(table.rows, start=head + 1):
        for col, (key, _) in enumerate(table.columns, start=1):
            cell = sheet.cell(r, col, _value(row.get(key)))
            xlsx_as_text([cell])  # a material name from an uploaded list is never a formula
            if key == "rate":
                cell.number_format = "0.0%"
    sheet.freeze_panes = f"A{head + 1}"
    return head


def _chart(source: Worksheet, table: Table, head: int) -> BarChart | None:
    """A native bar chart over the table's rows in ``source`` (heading on row ``head``)."""
    spec = table.chart
    if spec is None or not table.rows:
        return None
    keys = [key for key, _ in table.columns]
    n = min(len(table.rows), spec.limit)
    chart = BarChart()
    chart.type = "bar"  # horizontal: long Chinese names stay readable
    chart.style = 10
    chart.title = spec.title
    chart.y_axis.title = spec.value_title
    chart.height = max(7.5, 0.6 * n + 3)
    chart.width = 22
    for key, _label in spec.series:
        col = keys.index(key) + 1
        chart.add_data(
            Reference(source, min_col=col, min_row=head, max_row=head + n), titles_from_data=True
        )
    cat = keys.index(spec.category) + 1
    chart.set_categories(Reference(source, min_col=cat, min_row=head + 1, max_row=head + n))
    chart.x_axis.scaling.orientation = "maxMin"  # first row on top, as in the table
    if spec.percent:
        chart.y_axis.number_format = "0%"
    chart.x_axis.delete = False
    chart.y_axis.delete = False
    return chart


def write_xlsx(report: Report, path: Path) -> None:
    book = Workbook()
    summary = book.create_sheet("汇总", 0)
    del book[book.sheetnames[1]]  # the default empty sheet
    summary["A1"] = report.title
    summary["A1"].font = Font(bold=True, size=15)
    summary["A2"] = report.subtitle
    for i, (label, value) in enumerate(report.headline, start=4):
        summary.cell(i, 1, label).font = _BOLD
        summary.cell(i, 2, value)
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 24
    for i, table in enumerate(report.tables):
        sheet = book.create_sheet(table.sheet[:31])
        assert isinstance(sheet, Worksheet)
        head = _write_table(sheet, table)
        chart = _chart(sheet, table, head)
        if chart is not None:
            sheet.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}2")
        if i == 0 and (again := _chart(sheet, table, head)) is not None:
            assert isinstance(summary, Worksheet)
            summary.add_chart(again, "D4")  # the first chart on the summary sheet too
    for listing in (report.detail, report.problems):
        if listing is not None:
            sheet = book.create_sheet(listing.sheet[:31])
            assert isinstance(sheet, Worksheet)
            _write_table(sheet, listing)
    book.save(path)
