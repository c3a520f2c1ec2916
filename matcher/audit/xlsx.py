"""A report as an XLSX workbook: a summary sheet, one sheet per table with its native chart, the
detail sheet and the problem rows."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import Cell
from openpyxl.chart import BarChart, Reference
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from matcher.audit.report import Report, Table
from matcher.problems.export import FORMULA_STARTS, xlsx_as_text

__all__ = ["write_xlsx"]

_BOLD = Font(bold=True)


def _value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, list | tuple):
        return "；".join(str(v) for v in value)
    return value


def _text(sheet: Any, value: Any, font: Font | None = None) -> Cell:
    cell = WriteOnlyCell(sheet, value)
    if font is not None:
        cell.font = font
    xlsx_as_text([cell])  # a material name from an uploaded list is never a formula
    return cell


def _write_table(sheet: Any, table: Table) -> int:
    """Writes the title, the heading and the rows, from the sheet's first row, as a stream
    (a write-only sheet: no cell is kept after its row is written); returns the heading's row."""
    for col, (_, heading) in enumerate(table.columns, start=1):
        sheet.column_dimensions[get_column_letter(col)].width = max(
            10, min(40, 2 * len(heading) + 4)
        )
    head = 2
    sheet.freeze_panes = f"A{head + 1}"
    sheet.append([_text(sheet, table.title, Font(bold=True, size=13))])
    sheet.append([_text(sheet, heading, _BOLD) for _, heading in table.columns])
    keys = [key for key, _ in table.columns]
    rate_at = keys.index("rate") if "rate" in keys else None
    for row in table.rows:
        values = [_value(row.get(key)) for key in keys]
        if rate_at is not None or any(
            isinstance(v, str) and v.startswith(FORMULA_STARTS) for v in values
        ):
            cells = [_text(sheet, v) for v in values]
            if rate_at is not None:
                cells[rate_at].number_format = "0.0%"
            sheet.append(cells)
        else:
            sheet.append(values)
    return head


def _chart(source: Any, table: Table, head: int) -> BarChart | None:
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
    """The workbook, written as a stream (openpyxl's write-only mode): a 100,000-row detail
    sheet costs a pass over its rows, not a cell object each held until the end."""
    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 24
    summary.append([_text(summary, report.title, Font(bold=True, size=15))])
    summary.append([_text(summary, report.subtitle)])
    summary.append([])
    for label, value in report.headline:
        summary.append([_text(summary, label, _BOLD), _text(summary, value)])
    for i, table in enumerate(report.tables):
        sheet = book.create_sheet(table.sheet[:31])
        head = _write_table(sheet, table)
        chart = _chart(sheet, table, head)
        if chart is not None:
            sheet.add_chart(chart, f"{get_column_letter(len(table.columns) + 2)}2")
        if i == 0 and (again := _chart(sheet, table, head)) is not None:
            summary.add_chart(again, "D4")  # the first chart on the summary sheet too
    for listing in (report.detail, report.problems):
        if listing is not None:
            _write_table(book.create_sheet(listing.sheet[:31]), listing)
    book.save(path)
