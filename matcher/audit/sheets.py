"""Material lists (材料清单) in the portal layout, from XLSX or CSV, row by row.

A bad row is never dropped: its problems are kept with the file, the row number as a
spreadsheet shows it, the column heading and the reason, and the run goes on. A row without a
matter code or material name cannot be classified and is reported as invalid; a row with a bad
份数 or 是否必要 is still classified, that field left unknown.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from matcher.errors import InputError

__all__ = [
    "HEADINGS",
    "MaterialRow",
    "RowProblem",
    "city_of",
    "parse_column_mapping",
    "read_material_rows",
]

# field → the portal's column heading
HEADINGS: dict[str, str] = {
    "matter_code": "事项编码",
    "matter_name": "事项名称",
    "department": "实施部门",
    "name": "材料名称",
    "channel": "来源渠道",
    "channel_note": "来源说明",
    "necessary": "是否必要",
    "form": "材料形式",
    "copies": "份数",
    "city": "所属城市",
    "commitment": "是否支持告知承诺",
}
REQUIRED = ("matter_code", "matter_name", "department", "name")
CHANNELS = {"申请人自备", "政府部门核发", "其他", "中介机构出具", "申请人自备/政府部门核发"}
FORMS = {"纸质", "电子", "纸质/电子", "纸质、电子", "纸质或电子", "电子/纸质"}
_YES = {"是", "必要", "必须", "必需", "y", "yes", "true", "1"}
_NO = {"否", "非必要", "非必须", "容缺", "n", "no", "false", "0"}
_NUMERALS = {
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
# The first place name a department's name starts with: a city, or a county or district named
# without its city (岱山县市场监督管理局 → 岱山县, not 岱山县市: the 市 of 市场).
_CITY = re.compile(r"^(?:.+?省)?(.+?(?:市|自治州|州|盟|地区|县|区))")


@dataclass(frozen=True, slots=True)
class RowProblem:
    file: str
    row: int
    column: str
    reason: str
    fatal: bool = False


@dataclass(slots=True)
class MaterialRow:
    """One material of one matter, as the list gives it (values stripped; unknowns None)."""

    file: str
    row: int
    matter_code: str
    matter_name: str
    department: str
    city: str
    name: str
    channel: str | None = None
    channel_note: str = ""
    necessary: bool | None = None
    form: str | None = None
    copies: int | None = None
    commitment: bool = False
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def valid(self) -> bool:
        return not self.problems or not any(p.fatal for p in self.problems)

    def as_dict(self) -> dict[str, Any]:
        """What ``dataclasses.asdict`` gives, without its deep copy of every value (a tenth of
        the time: a 100,000-row list is turned into chunks in 1 s, not 14)."""
        out = {name: getattr(self, name) for name in _ROW_FIELDS}
        out["problems"] = [{n: getattr(p, n) for n in _PROBLEM_FIELDS} for p in self.problems]
        return out


_ROW_FIELDS = tuple(f.name for f in fields(MaterialRow))
_PROBLEM_FIELDS = tuple(f.name for f in fields(RowProblem))


def city_of(department: str) -> str:
    """The city a department belongs to, from its name (舟山市市场监督管理局 → 舟山市)."""
    found = _CITY.match(department)
    return found.group(1) if found else "未知"


def parse_column_mapping(pairs: list[str] | None) -> dict[str, str]:
    """``["材料名称=名称", …]`` (portal heading = the file's heading) → {field: file heading}."""
    by_heading = {heading: name for name, heading in HEADINGS.items()}
    mapping: dict[str, str] = {}
    for pair in pairs or []:
        portal, sep, theirs = pair.partition("=")
        portal, theirs = portal.strip(), theirs.strip()
        name = by_heading.get(portal) or (portal if portal in HEADINGS else None)
        if not sep or not theirs or name is None:
            known = "、".join(HEADINGS.values())
            raise InputError(f"列映射 {pair!r} 应写作 门户列名=文件列名，门户列名为：{known}")
        mapping[name] = theirs
    return mapping


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


def _csv_rows(path: Path) -> Iterator[list[str]]:
    raw = path.read_bytes()
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            text = raw.decode(encoding)
            break
        except UnicodeDecodeError:
            continue
    else:  # pragma: no cover - gb18030 decodes any byte string
        raise InputError("CSV 文件编码无法识别（应为 UTF-8 或 GB18030）")
    sample = text[:4096]
    try:
        dialect: Any = csv.Sniffer().sniff(sample, delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    yield from csv.reader(io.StringIO(text), dialect)


def _xlsx_rows(path: Path) -> Iterator[list[str]]:
    import openpyxl

    book = openpyxl.load_workbook(path, read_only=True, data_only=True)
    try:
        sheet = book.worksheets[0]
        for values in sheet.iter_rows(values_only=True):
            yield [_cell(v) for v in values]
    finally:
        book.close()


def read_table(path: Path) -> Iterator[list[str]]:
    """Rows of cells as text, from an .xlsx or a .csv (UTF-8 or GB18030)."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xlsm"):
        return _xlsx_rows(path)
    if suffix in (".csv", ".txt"):
        return _csv_rows(path)
    raise InputError(f"{path.name}: 只支持 .xlsx 和 .csv 文件")


@dataclass
class ListBody:
    """A list's rows as read, before each is made a :class:`MaterialRow` (see ``row``)."""

    label: str
    index: dict[str, int]
    headings: dict[str, str]
    cells: list[tuple[int, list[str]]]  # (row number as a spreadsheet shows it, cells)

    def row(self, number: int, cells: list[str]) -> MaterialRow:
        return _material_row(self.label, number, cells, self.index, self.headings)


def read_list_body(
    path: Path, mapping: Mapping[str, str] | None = None, *, label: str | None = None
) -> tuple[ListBody | None, list[RowProblem]]:
    """One list's heading found and its non-empty rows, or the problem that stops the file."""
    label = label or path.name
    headings = {**HEADINGS, **(mapping or {})}
    try:
        table = read_table(path)
        rows = list(table)
    except InputError as exc:
        return None, [RowProblem(label, 0, "", str(exc), fatal=True)]
    except Exception as exc:  # a corrupt workbook: say so, go on with the other files
        return None, [RowProblem(label, 0, "", f"文件无法读取：{type(exc).__name__}", fatal=True)]
    header_at = next(
        (i for i, r in enumerate(rows[:20]) if headings["name"] in [c.strip() for c in r]), None
    )
    if header_at is None:
        reason = f"前20行中找不到表头「{headings['name']}」（可用列映射指定列名）"
        return None, [RowProblem(label, 1, headings["name"], reason, fatal=True)]
    header = [c.strip() for c in rows[header_at]]
    index = {name: header.index(h) for name, h in headings.items() if h in header}
    missing = [headings[name] for name in REQUIRED if name not in index]
    if missing:
        reason = f"缺少必需的列：{'、'.join(missing)}"
        return None, [RowProblem(label, header_at + 1, missing[0], reason, fatal=True)]
    body = [
        (offset, cells)
        for offset, cells in enumerate(rows[header_at + 1 :], start=header_at + 2)
        if "".join(cells).strip()
    ]
    return ListBody(label, index, headings, body), []


def read_material_rows(
    path: Path, mapping: Mapping[str, str] | None = None, *, label: str | None = None
) -> tuple[list[MaterialRow], list[RowProblem]]:
    """The material rows of one list, and problems that concern the whole file."""
    body, problems = read_list_body(path, mapping, label=label)
    if body is None:
        return [], problems
    return [body.row(number, cells) for number, cells in body.cells], []


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _material_row(
    label: str, number: int, cells: list[str], index: dict[str, int], headings: dict[str, str]
) -> MaterialRow:
    if _CONTROL.search("".join(cells)):  # pasted in: no report format can show it
        cells = [_CONTROL.sub("", c) for c in cells]
    width = len(cells)
    get = {name: cells[i].strip() for name, i in index.items() if i < width}.get
    problems: list[RowProblem] = []
    code, name, department = get("matter_code", ""), get("name", ""), get("department", "")
    for key, value in (("matter_code", code), ("name", name)):
        if not value:
            reason = f"{headings[key]}为空，无法归类"
            problems.append(RowProblem(label, number, headings[key], reason, True))
    row = MaterialRow(
        label,
        number,
        code,
        get("matter_name", ""),
        department,
        get("city") or city_of(department),
        name,
        channel_note=get("channel_note", ""),
        problems=problems,
    )
    channel = get("channel")
    if channel:
        if channel in CHANNELS:
            row.channel = channel
        else:
            reason = f"来源渠道「{channel}」不是 {'/'.join(sorted(CHANNELS))} 之一"
            problems.append(RowProblem(label, number, headings["channel"], reason))
    necessary = get("necessary", "").lower()
    if necessary:
        if necessary in _YES:
            row.necessary = True
        elif necessary in _NO:
            row.necessary = False
        else:
            reason = f"是否必要「{necessary}」无法识别（应为 是/否）"
            problems.append(RowProblem(label, number, headings["necessary"], reason))
    form = get("form")
    if form:
        if form in FORMS:
            row.form = form
        else:
            reason = f"材料形式「{form}」不是 纸质/电子"
            problems.append(RowProblem(label, number, headings["form"], reason))
    copies = get("copies")
    if copies:
        row.copies = _copies(copies)
        if row.copies is None:
            reason = f"份数「{copies}」不是0到99之间的整数"
            problems.append(RowProblem(label, number, headings["copies"], reason))
    row.commitment = get("commitment", "").lower() in _YES or "告知承诺" in row.channel_note
    return row


def _copies(text: str) -> int | None:
    text = text.removesuffix("份").strip()
    if text.isdigit():
        value = int(text)
    elif len(text) == 1 and text in _NUMERALS:
        value = _NUMERALS[text]
    else:
        return None
    return value if 0 <= value <= 99 else None
