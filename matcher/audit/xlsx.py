"""A report as an XLSX workbook: a summary sheet, one sheet per table with its native chart, the
detail sheet and the problem rows."""

from __future__ import annotations

import os
import re
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from matcher.audit.report import Report, Table

if TYPE_CHECKING:
    from openpyxl.cell.cell import Cell
    from openpyxl.chart import BarChart
    from openpyxl.styles import Font

# openpyxl is imported where a workbook is written (0.3 s): the command line writes it in a
# process of its own, beside the others, and a list's reading need not wait for it.

__all__ = ["write_xlsx"]

# What XML 1.0 does not allow in a document: openpyxl refuses such a cell, and an uploaded list
# may hold one (a control character pasted into a name). It is dropped from the cell.
_ILLEGAL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_CELL_MAX = 32_767  # characters a spreadsheet cell holds


def _value(value: Any) -> Any:
    if isinstance(value, bool):
        return "是" if value else ""
    if isinstance(value, list | tuple):
        value = "；".join(str(v) for v in value)
    if isinstance(value, str) and _ILLEGAL.search(value):
        return _ILLEGAL.sub("", value)
    return value


def _column_letter(n: int) -> str:
    """1 → A, 27 → AA (as openpyxl's ``get_column_letter``)."""
    letters = ""
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _text(sheet: Any, value: Any, font: Font | None = None) -> Cell:
    from openpyxl.cell import WriteOnlyCell

    from matcher.problems.export import xlsx_as_text

    cell = WriteOnlyCell(sheet, value)
    if font is not None:
        cell.font = font
    xlsx_as_text([cell])  # a material name from an uploaded list is never a formula
    return cell


def _write_table(sheet: Any, table: Table) -> int:
    """Writes the title, the heading and the first row with openpyxl (widths, frozen heading,
    fonts, the rate's number format); :func:`_fill_rows` streams the rest. Returns the heading's
    row."""
    from openpyxl.styles import Font

    for col, (_, heading) in enumerate(table.columns, start=1):
        sheet.column_dimensions[_column_letter(col)].width = max(10, min(40, 2 * len(heading) + 4))
    head = 2
    sheet.freeze_panes = f"A{head + 1}"
    sheet.append([_text(sheet, table.title, Font(bold=True, size=13))])
    sheet.append([_text(sheet, heading, Font(bold=True)) for _, heading in table.columns])
    keys = [key for key, _ in table.columns]
    rate_at = keys.index("rate") if "rate" in keys else None
    for row in table.rows[:1]:
        cells = [_text(sheet, _value(row.get(key))) for key in keys]
        if rate_at is not None:
            cells[rate_at].number_format = "0.0%"
        sheet.append(cells)
    return head


def _chart(source: Any, table: Table, head: int) -> BarChart | None:
    """A native bar chart over the table's rows in ``source`` (heading on row ``head``)."""
    from openpyxl.chart import BarChart, Reference

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


_FIRST = 3  # the row after the title and the heading
_STYLE = re.compile(rf'<c r="([A-Z]+){_FIRST}"(?: s="(\d+)")?')


def _rows_xml(table: Table, styles: dict[str, str]) -> Iterator[str]:
    """The table's rows after the first, as sheet XML: the cells openpyxl's write-only mode
    writes (inline strings, numbers), each column in the style of its first row's cell. A text
    is always a string cell, so a name that starts with ``=`` is never a formula."""
    keys = [key for key, _ in table.columns]
    refs = [_column_letter(i) for i in range(1, len(keys) + 1)]
    cols = [
        (ref, key, f' s="{styles[ref]}"' if ref in styles else "")
        for ref, key in zip(refs, keys, strict=True)
    ]
    for n, row in enumerate(table.rows[1:], start=_FIRST + 1):
        cells = []
        for ref, key, style in cols:
            value = row.get(key)
            kind = type(value)
            if kind is not str:
                if value is None:
                    continue
                if kind is int or kind is float:
                    cells.append(f'<c r="{ref}{n}"{style}><v>{value!r}</v></c>')
                    continue
                value = _value(value)
            if not value:
                continue
            if len(value) > _CELL_MAX:
                value = value[:_CELL_MAX]
            if "&" in value or "<" in value or ">" in value:
                value = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            cells.append(
                f'<c r="{ref}{n}"{style} t="inlineStr">'
                f'<is><t xml:space="preserve">{value}</t></is></c>'
            )
        xml = f'<row r="{n}">{"".join(cells)}</row>'
        if not xml.isprintable() and _ILLEGAL.search(xml):  # the markup holds none
            xml = _ILLEGAL.sub("", xml)
        yield xml


def _fill_rows(built: Path, path: Path, tables: dict[str, Table]) -> None:
    """Copy the workbook openpyxl wrote, streaming each table's remaining rows into its sheet."""
    with (
        zipfile.ZipFile(built) as src,
        zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as dst,
    ):
        for info in src.infolist():
            data = src.read(info)
            table = tables.get(info.filename)
            if table is None or len(table.rows) < 2:
                dst.writestr(info.filename, data)
                continue
            head, end, tail = data.decode("utf-8").partition("</sheetData>")
            if not end:
                raise RuntimeError(f"{info.filename}: no sheetData to fill")
            styles = {m[1]: m[2] for m in _STYLE.finditer(head) if m[2]}
            with dst.open(info.filename, "w", force_zip64=True) as out:
                out.write(head.encode("utf-8"))
                batch: list[str] = []
                for xml in _rows_xml(table, styles):
                    batch.append(xml)
                    if len(batch) == 2000:
                        out.write("".join(batch).encode("utf-8"))
                        batch.clear()
                out.write("".join(batch).encode("utf-8"))
                out.write((end + tail).encode("utf-8"))


def write_xlsx(report: Report, path: Path) -> None:
    """The workbook, written as a stream. openpyxl (write-only mode) writes the summary, every
    sheet's title, heading and first row, and the native charts; the rows after the first are
    streamed into the sheets as XML, in the first row's cell styles. A 100,000-row list is 1.4
    million cells: openpyxl's write-only cells took 100 s for them, XlsxWriter's constant-memory
    mode 15 s, this about 3 s."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    bold = Font(bold=True)
    book = Workbook(write_only=True)
    summary = book.create_sheet("汇总")
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 24
    summary.append([_text(summary, report.title, Font(bold=True, size=15))])
    summary.append([_text(summary, report.subtitle)])
    summary.append([])
    for label, value in report.headline:
        summary.append([_text(summary, label, bold), _text(summary, value)])
    streamed: dict[str, Table] = {}
    sheets = []
    for i, table in enumerate(report.tables):
        sheet = book.create_sheet(table.sheet[:31])
        sheets.append((sheet, table))
        head = _write_table(sheet, table)
        chart = _chart(sheet, table, head)
        if chart is not None:
            sheet.add_chart(chart, f"{_column_letter(len(table.columns) + 2)}2")
        if i == 0 and (again := _chart(sheet, table, head)) is not None:
            summary.add_chart(again, "D4")  # the first chart on the summary sheet too
    for listing in (report.detail, report.problems):
        if listing is not None:
            sheet = book.create_sheet(listing.sheet[:31])
            _write_table(sheet, listing)
            sheets.append((sheet, listing))
    built = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        book.save(built)
        for sheet, table in sheets:
            streamed[sheet.path.lstrip("/")] = table  # a sheet's part name, known once saved
        _fill_rows(built, path, streamed)
    finally:
        built.unlink(missing_ok=True)
