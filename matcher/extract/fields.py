"""Label-anchored field extraction over rows rebuilt from line boxes.

Text lines (from a PDF text layer or an OCR engine) are grouped into rows by vertical overlap and
ordered left to right (``matcher.extract.rows``; levelled first on a skewed scan). A row is read
as one string without blanks, so a label split over two OCR tokens (``公民身份`` ``号码``) or
spaced out (``住　所``) is still one label, and a label glued to its value (``姓名张伟``) is found
at the start of the token.

Labels are found by ``matcher.extract.labels``: at the start of a token (exactly or tolerantly),
glued after a short value, or printed in pieces down a column. A field always reports the kind's
canonical label; what was read there is kept as ``label_read``.

A value runs from its label to the next label on the row; when nothing follows the label on its
row it is on the row below; fields allowed several lines continue onto following rows that are
aligned with the value and do not start with a label.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.extract.crosschecks import apply_cross_checks
from matcher.extract.labels import Hit, contains_tolerantly, find_labels, hit_order
from matcher.extract.model import Box, ExtractedField, Extraction, FoundBy, PageText
from matcher.extract.rows import Char, Row, rows_of
from matcher.extract.shapes import find_by_shape

if TYPE_CHECKING:
    from matcher.extract.kinds import DocKind, DocKinds, FieldSpec

__all__ = ["Row", "contains_tolerantly", "extract_document", "extract_fields", "rows_of"]

_VALUE_LEAD = ":：;；,，.。 "  # punctuation between a label and its value


# ── values ───────────────────────────────────────────────────────────────────────────────────

# A value as a list of characters; None stands for the blank between two tokens of one row.
_Value = list[Char | None]

# Distances in row heights. A value's first token may sit far right of its label (table cells);
# later tokens of one value are close together; lines of one value follow each other closely.
_FIRST_GAP = 12.0
_INNER_GAP = 2.0
_LINE_STEP = 1.9
_BESIDE = 1.1  # a label centred between two lines of its value is this close to each


@dataclass(frozen=True)
class _Column:
    """Where a value's lines may lie: right of ``left`` (the label), left of ``right``."""

    label_x0: float
    value_x0: float
    right: float
    tolerance: float


def _value_after(hit: Hit, spec: FieldSpec, rows: Sequence[Row], hits: Sequence[Hit]) -> _Value:
    row = rows[hit.row]
    label_x0, label_x1 = row.chars[hit.start].box.x0, row.chars[hit.end - 1].box.x1
    stop = _next_hit_start(hits, hit.row, hit.end, len(row.chars))
    right = row.chars[stop].box.x0 if stop < len(row.chars) else float("inf")
    if hit.pieces or _vertical(row, hit):
        chars, used = _value_beside_label(hit, rows, hits)
    else:
        chars = _span(row, hit.end, stop, label_x1)
        used = [hit.row]
        if not chars:
            chars, used = _value_around(hit, rows, hits, label_x0, label_x1)
    if not chars:
        return []
    first = next(c for c in chars if c is not None)
    # A tall (vertical) label makes its row tall: measure the value's own line instead.
    height = min(row.height, first.line.box.height)
    column = _Column(label_x0, first.box.x0, right, height * 1.5)
    for _ in range(spec.max_lines - len(used)):
        following = _continuation(rows, hits, used[-1], column)
        if following is None:
            break
        index, more = following
        chars += more
        used.append(index)
    return chars


def _vertical(row: Row, hit: Hit) -> bool:
    """The label was read as one tall line: characters set one under another."""
    box = row.chars[hit.start].line.box
    return hit.end - hit.start > 1 and box.height > 1.5 * box.width


def _value_beside_label(
    hit: Hit, rows: Sequence[Row], hits: Sequence[Hit]
) -> tuple[_Value, list[int]]:
    """A label set down a column — in pieces, or read as one tall line: its value is what lies
    right of it on every row level with it (a value centred on a two-line label sits between
    its halves; the first line of a value beside a tall label may come before its row)."""
    parts = [(hit.row, hit.start, hit.end), *hit.pieces]
    ends = {r: e for r, _, e in parts}
    boxes = [rows[r].chars[i].box for r, s, e in parts for i in range(s, e)]
    top, bottom = min(b.y0 for b in boxes), max(b.y1 for b in boxes)
    label_x1 = max(b.x1 for b in boxes)
    chars: _Value = []
    used: list[int] = []
    for index, row in enumerate(rows):
        centre = (row.top + row.bottom) / 2
        if row.page != rows[hit.row].page or (not top <= centre <= bottom and index not in ends):
            continue
        if index in ends:
            start: int | None = ends[index]
        else:
            start = next((i for i, c in enumerate(row.chars) if c.box.x0 >= label_x1), None)
        if start is None or start >= len(row.chars) or _hit_covers(hits, index, start):
            continue
        stop = _next_hit_start(hits, index, start, len(row.chars))
        # Only the value's first line may begin with what separates it from the label.
        more = _span(row, start, stop, label_x1, lead=not chars)
        if more:
            chars += more
            used.append(index)
    return chars, used


def _value_around(
    hit: Hit, rows: Sequence[Row], hits: Sequence[Hit], label_x0: float, label_x1: float
) -> tuple[_Value, list[int]]:
    """Nothing follows the label on its row: the value is centred on it, or printed below it."""
    above, below = hit.row - 1, hit.row + 1
    beside_above = _beside(rows, hit.row, above) and _orphans(rows, hits, above, label_x1)
    beside_below = _beside(rows, hit.row, below) and _orphans(rows, hits, below, label_x1)
    if beside_above:
        if beside_below:
            return beside_above + beside_below, [above, below]
        return beside_above, [above]
    if not _near(rows, hit.row, below):
        return [], []
    under = rows[below]
    first = next((i for i, c in enumerate(under.chars) if c.box.x1 > label_x0), None)
    if first is None or _hit_covers(hits, below, first):
        return [], []
    stop = _next_hit_start(hits, below, first, len(under.chars))
    return _span(under, first, stop, None), [below]


def _orphans(rows: Sequence[Row], hits: Sequence[Hit], index: int, after_x: float) -> _Value:
    """Text right of ``after_x`` on a row that no label on that row claims."""
    row = rows[index]
    start = next((i for i, c in enumerate(row.chars) if c.box.x0 >= after_x), None)
    if start is None or any(h.row == index and h.start <= start for h in hits):
        return []
    return _span(row, start, _next_hit_start(hits, index, start, len(row.chars)), None)


def _span(row: Row, start: int, stop: int, label_x1: float | None, *, lead: bool = True) -> _Value:
    """The value's characters on one row; ``lead``: skip what separates a label from its value
    (a colon). A wrapped line keeps every character: "；" starting it ended the previous clause."""
    while lead and start < stop and row.chars[start].char in _VALUE_LEAD:
        start += 1
    if start >= stop:
        return []
    if label_x1 is not None and row.chars[start].box.x0 - label_x1 > _FIRST_GAP * row.height:
        return []  # too far from the label to be its value
    out: _Value = []
    for i in range(start, stop):
        char = row.chars[i]
        if i in row.token_starts and out:
            previous = row.chars[i - 1]
            if char.box.x0 - previous.box.x1 > _INNER_GAP * row.height:
                break  # another column's text
            out.append(None)
        out.append(char)
    return out


def _next_hit_start(hits: Sequence[Hit], row: int, after: int, default: int) -> int:
    return min((h.start for h in hits if h.row == row and h.start >= after), default=default)


def _hit_covers(hits: Sequence[Hit], row: int, position: int) -> bool:
    return any(h.row == row and h.start <= position < h.end for h in hits)


def _same_page(rows: Sequence[Row], a: int, b: int) -> bool:
    return 0 <= b < len(rows) and rows[a].page == rows[b].page


def _near(rows: Sequence[Row], upper: int, lower: int) -> bool:
    if not _same_page(rows, upper, lower):
        return False
    height = max(rows[upper].height, rows[lower].height)
    return rows[lower].top - rows[upper].bottom <= 1.5 * height


def _centre_distance(a: Row, b: Row) -> float:
    return abs((a.top + a.bottom) / 2 - (b.top + b.bottom) / 2)


def _beside(rows: Sequence[Row], index: int, other: int) -> bool:
    if not _same_page(rows, index, other):
        return False
    height = max(rows[index].height, rows[other].height)
    return _centre_distance(rows[index], rows[other]) <= _BESIDE * height


def _continuation(
    rows: Sequence[Row], hits: Sequence[Hit], last: int, column: _Column
) -> tuple[int, _Value] | None:
    """The next line of a value, skipping rows with nothing in its column (other columns)."""
    for index in range(last + 1, len(rows)):
        if not _same_page(rows, last, index):
            return None
        row = rows[index]
        height = max(row.height, rows[last].height)
        if _centre_distance(row, rows[last]) > _LINE_STEP * height:
            return None
        low, high = column.value_x0 - column.tolerance, column.right
        if _in_label_column(row, column, low):
            return None  # the next field
        start = next((i for i, c in enumerate(row.chars) if low <= c.box.x0 < high), None)
        if start is None or row.chars[start].box.x0 > column.value_x0 + 2 * column.tolerance:
            continue  # nothing here lines up with the value: another column's row
        if _hit_covers(hits, index, start) or _starts_next_field(rows, hits, index, last, column):
            return None
        stop = _next_hit_start(hits, index, start, len(row.chars))
        stop = next((i for i in range(start, stop) if row.chars[i].box.x0 >= high), stop)
        more = _span(row, start, stop, None, lead=False)
        return (index, more) if more else None
    return None


def _in_label_column(row: Row, column: _Column, low: float) -> bool:
    """Text in the label column: a label (a longer one may start a little left of it), but not
    the end of a line of the column to the left, which starts far from it."""
    left, far = column.label_x0 - column.tolerance, column.label_x0 - 3 * column.tolerance
    starts = sorted(row.token_starts)
    for k, start in enumerate(starts):
        if row.chars[start].box.x0 < far:
            continue
        stop = starts[k + 1] if k + 1 < len(starts) else len(row.chars)
        if any(left <= row.chars[i].box.x0 < low for i in range(start, stop)):
            return True
    return False


def _starts_next_field(
    rows: Sequence[Row], hits: Sequence[Hit], index: int, last: int, column: _Column
) -> bool:
    """The row is the first line of a value whose label, centred on it, is on the next row."""
    following = index + 1
    if not _same_page(rows, index, following):
        return False
    label_column = [
        h
        for h in hits
        if h.row == following
        and column.label_x0 - column.tolerance
        <= rows[following].chars[h.start].box.x0
        < column.value_x0 - column.tolerance
    ]
    closer = _centre_distance(rows[index], rows[following]) < _centre_distance(
        rows[index], rows[last]
    )
    return bool(label_column) and closer


# ── fields ───────────────────────────────────────────────────────────────────────────────────


def extract_fields(
    kind: DocKind, pages: Sequence[PageText], *, today: dt.date | None = None
) -> tuple[list[ExtractedField], list[str]]:
    """The kind's fields found on the pages, and zh-CN warnings (a required field not found, a
    field found by its shape only, a cross-check that failed)."""
    rows = rows_of(pages)
    hits = sorted([*find_labels(kind, rows), *_pattern_hits(kind, rows)], key=hit_order)
    found: dict[str, ExtractedField] = {}
    used: set[int] = set()  # id() of every character a value took
    missing: list[FieldSpec] = []
    for spec in kind.fields:
        read = _read_field(spec, rows, hits, today)
        if read is None:
            missing.append(spec)
            continue
        found[spec.name], chars = read
        used.update(id(c) for c in chars if c is not None)
    claimed = {
        (r, i) for r, row in enumerate(rows) for i, c in enumerate(row.chars) if id(c) in used
    }
    warnings: list[str] = []
    for match in find_by_shape(missing, rows, hits, claimed):
        spec, row = match.spec, rows[match.row]
        value: _Value = list(row.chars[match.start : match.end])
        found[spec.name] = _field(spec, value, row, today, found_by="shape")
        warnings.append(f"未找到“{spec.label}”标签，已按内容格式识别：{spec.title}")
    warnings += [
        f"缺少字段：{spec.title}" for spec in missing if spec.required and spec.name not in found
    ]
    fields, failed = apply_cross_checks(
        kind, [found[spec.name] for spec in kind.fields if spec.name in found]
    )
    return fields, warnings + failed


def _read_field(
    spec: FieldSpec, rows: Sequence[Row], hits: Sequence[Hit], today: dt.date | None
) -> tuple[ExtractedField, _Value] | None:
    """The field and every character of its value run (its pattern may keep only part)."""
    if spec.locate == "pattern":
        found = _pattern_match(spec, rows)
        if found is None:
            return None
        index, start, end = found
        matched: _Value = list(rows[index].chars[start:end])
        return _field(spec, matched, rows[index], today, found_by="pattern"), matched
    own = [hit for hit in hits if hit.label in spec.labels]
    if len(own) < spec.occurrence:
        return None
    hit = own[spec.occurrence - 1]
    chars = _value_after(hit, spec, rows, hits)
    if not chars:
        return None
    return _field(spec, chars, rows[hit.row], today, read=hit.read(rows)), chars


def _pattern_match(spec: FieldSpec, rows: Sequence[Row]) -> tuple[int, int, int] | None:
    """Row, start and end of the first match of a field located by its pattern."""
    assert spec.pattern is not None  # the schema requires a pattern to locate by
    for index, row in enumerate(rows):
        match = spec.pattern.search(row.text)
        if match:
            return index, match.start(), match.end()
    return None


def _pattern_hits(kind: DocKind, rows: Sequence[Row]) -> list[Hit]:
    """Where fields printed without a label lie, as hits of no label: another field's value
    stops there and does not continue onto them (登记机关 runs on to the row of 登记日期 below it
    when a scan makes the rows look closer than they are)."""
    hits = []
    for spec in kind.fields:
        if spec.locate == "pattern":
            found = _pattern_match(spec, rows)
            if found is not None and found[2] > found[1]:
                hits.append(Hit(found[0], found[1], found[2], "", True))
    return hits


def _field(
    spec: FieldSpec,
    chars: _Value,
    row: Row,
    today: dt.date | None,
    *,
    read: str | None = None,
    found_by: FoundBy = "label",
) -> ExtractedField:
    """The field read from ``chars``, the first of them on ``row`` (which gives page and skew)."""
    text = "".join(" " if c is None else c.char for c in chars)
    matched = _matched(spec, chars, text)
    if matched is not None:
        chars = matched
        text = "".join(" " if c is None else c.char for c in chars)
        normalised, reason = spec.judge(text, today=today)
    else:
        normalised, reason = None, f"{spec.title}的格式不正确"
    real = [c for c in chars if c is not None]
    box = _union(c.box for c in real)
    return ExtractedField(
        name=spec.name,
        label=spec.label,
        value=text,
        normalised=normalised,
        confidence=min(c.line.confidence for c in real),
        page=row.page,
        box=row.skew.unlevel(box) if row.skew is not None else box,
        valid=reason is None,
        reason=reason,
        label_read=read,
        found_by=found_by,
    )


def _matched(spec: FieldSpec, chars: _Value, text: str) -> _Value | None:
    """The part of the value the field's pattern picks out; None when it matches nowhere."""
    if spec.pattern is None:
        return chars
    match = spec.pattern.search(text)
    if match:
        return _strip_blanks(chars[match.start() : match.end()])
    # Blanks between tokens may split a number ("330902 1981…"): match without them, then keep
    # the blanks that lie inside the match, as read.
    positions = [i for i, c in enumerate(chars) if c is not None]
    match = spec.pattern.search("".join(c.char for c in chars if c is not None))
    if not match or match.end() == match.start():
        return None
    return chars[positions[match.start()] : positions[match.end() - 1] + 1]


def _strip_blanks(chars: _Value) -> _Value:
    start, stop = 0, len(chars)
    while start < stop and chars[start] is None:
        start += 1
    while stop > start and chars[stop - 1] is None:
        stop -= 1
    return chars[start:stop]


def _union(boxes: Iterable[Box]) -> Box:
    items = list(boxes)
    return Box(
        min(b.x0 for b in items),
        min(b.y0 for b in items),
        max(b.x1 for b in items),
        max(b.y1 for b in items),
    )


def extract_document(
    kinds: DocKinds,
    pages: Sequence[PageText],
    expected: str | None = None,
    *,
    today: dt.date | None = None,
) -> Extraction:
    """Recognise the kind (``expected`` first) and extract its fields."""
    warnings: list[str] = []
    kind = kinds.recognise(pages, expected, warnings=warnings)
    if kind is None:
        warnings.append("未能识别材料类型")
        return Extraction(None, None, list(pages), [], warnings)
    fields, missing = extract_fields(kind, pages, today=today)
    return Extraction(kind.code, kind.name, list(pages), fields, warnings + missing)
