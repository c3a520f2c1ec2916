"""Data-problem reports as CSV and XLSX: what a department or the drive's office forwards.

Holders appear masked with their keyed hash; no raw ID number is written. A text that a
spreadsheet would take for a formula (it starts with ``=``, ``+``, ``-``, ``@``, a tab or a
carriage return) is written as text: prefixed with ``'`` in CSV, a string cell in XLSX.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from typing import Any

from openpyxl import Workbook  # type: ignore[import-untyped, unused-ignore]
from openpyxl.styles import Font  # type: ignore[import-untyped, unused-ignore]

__all__ = ["COLUMNS", "FORMULA_STARTS", "csv_safe", "to_csv", "to_xlsx", "xlsx_as_text"]

# What a spreadsheet reads as the start of a formula (or a DDE call) in a cell it opens.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(value: Any) -> Any:
    """A CSV cell: a text that could start a formula gets a leading ``'`` (shown as text)."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def xlsx_as_text(cells: Any) -> None:
    """Keep openpyxl from storing a text that starts with ``=`` as a formula: a string cell."""
    for cell in cells:
        if isinstance(cell.value, str) and cell.value.startswith(FORMULA_STARTS):
            cell.data_type = "s"


# (header, report member)
COLUMNS: tuple[tuple[str, str], ...] = (
    ("编号", "id"),
    ("责任部门", "department_name"),
    ("部门代码", "department"),
    ("问题代码", "problem"),
    ("问题说明", "problem_text"),
    ("状态", "status_text"),
    ("证照库", "registry"),
    ("证照标识", "evidence_id"),
    ("证照类型", "evidence_type"),
    ("颁发机构代码", "issuer_code"),
    ("持证主体（脱敏）", "holder_masked"),
    ("持证主体索引（密钥哈希）", "holder_hash"),
    ("发生次数", "occurrences"),
    ("首次发现", "first_seen"),
    ("最近发现", "last_seen"),
    ("整改时间", "fixed_at"),
    ("处理说明", "resolution_note"),
    ("证据", "evidence"),
)


def _cell(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return value


def _rows(reports: Sequence[dict[str, Any]]) -> list[list[Any]]:
    return [[_cell(r.get(key)) for _, key in COLUMNS] for r in reports]


def to_csv(reports: Sequence[dict[str, Any]]) -> bytes:
    """UTF-8 with a byte-order mark, so that Excel shows the Chinese headers."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([header for header, _ in COLUMNS])
    writer.writerows([csv_safe(v) for v in row] for row in _rows(reports))
    return ("\ufeff" + out.getvalue()).encode()


def to_xlsx(reports: Sequence[dict[str, Any]]) -> bytes:
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "数据问题"
    ws.append([header for header, _ in COLUMNS])
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for row in _rows(reports):
        ws.append(row)
        xlsx_as_text(ws[ws.max_row])
    ws.freeze_panes = "A2"
    for column, width in zip(
        "ABCDEFGHIJKLMNOPQR",
        (8, 24, 12, 22, 36, 16, 16, 40, 24, 22, 22, 30, 10, 20, 20, 20, 30, 60),
        strict=True,
    ):
        ws.column_dimensions[column].width = width
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
