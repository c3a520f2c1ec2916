"""Skewed scans: the page's text angle from the engines' quadrilaterals, and fields read from rows
rebuilt as if the page were level."""

from __future__ import annotations

import datetime as dt
import math
import unicodedata

import pymupdf
import pytest

from matcher.extract.fields import extract_fields, rows_of
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import Box, PageText, Point, TextLine
from matcher.extract.skew import Skew, line_angle, page_skew
from tests.extract.corpus import make_samples

TODAY = dt.date(2026, 6, 1)

Quad = tuple[Point, Point, Point, Point]


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def _turned(points: list[Point], degrees: float, cx: float, cy: float) -> list[Point]:
    rad = math.radians(degrees)
    cos, sin = math.cos(rad), math.sin(rad)
    return [
        (cx + (x - cx) * cos - (y - cy) * sin, cy + (x - cx) * sin + (y - cy) * cos)
        for x, y in points
    ]


def _quad(box: Box, degrees: float = 0.0, cx: float = 0.0, cy: float = 0.0) -> Quad:
    corners = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
    a, b, c, d = _turned(corners, degrees, cx, cy)
    return a, b, c, d


def _line(text: str, box: Box, degrees: float = 0.0, cx: float = 0.0, cy: float = 0.0) -> TextLine:
    """A line as an OCR engine gives it on a page turned by ``degrees``: quadrilateral and the
    axis-aligned box around it."""
    quad = _quad(box, degrees, cx, cy)
    xs, ys = [x for x, _ in quad], [y for _, y in quad]
    return TextLine(text, 0.95, Box(min(xs), min(ys), max(xs), max(ys)), quad=quad)


def _skewed_scan(kind: str, index: int, degrees: float) -> tuple[PageText, dict[str, str]]:
    """A generated document's text layer (in pixels at 200 DPI) as an engine reads it from a scan
    turned by ``degrees`` about the page centre: tilted quadrilaterals, boxes around them. The
    seal's characters (turned along its arc) are left out, as the pipeline removes red ink."""
    sample = make_samples(kind, index + 1)[index]
    scale = 200 / 72
    with pymupdf.open(stream=sample.pdf_bytes) as doc:
        page = doc[0]
        width, height = page.rect.width * scale, page.rect.height * scale
        spans = [
            (span["text"].strip(), Box(*(v * scale for v in span["bbox"])))
            for block in page.get_text("dict")["blocks"]
            for line in block.get("lines", [])
            if abs(line["dir"][1]) < 1e-3
            for span in line["spans"]
            if span["text"].strip()
        ]
    lines = [_line(text, box, degrees, width / 2, height / 2) for text, box in spans]
    return PageText(0, width, height, lines, "ocr"), sample.truth


def _read(kinds: DocKinds, kind: str, page: PageText) -> dict[str, str | None]:
    fields, _ = extract_fields(kinds.get(kind), [page], today=TODAY)
    return {f.name: f.normalised for f in fields}


def _nfkc(value: str | None) -> str | None:
    return None if value is None else unicodedata.normalize("NFKC", value)


# ── the page's angle ─────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("start", range(4))
def test_a_line_angle_does_not_depend_on_where_the_corners_start(start: int) -> None:
    quad = list(_quad(Box(100, 100, 500, 140), 2.0, 300, 120))
    angle = line_angle(quad[start:] + quad[:start])
    assert angle is not None
    assert angle[0] == pytest.approx(2.0)
    assert angle[1] == pytest.approx(400.0)


def test_a_square_box_has_no_line_angle() -> None:
    assert line_angle(_quad(Box(0, 0, 40, 44), 5.0)) is None


def test_page_skew_is_the_length_weighted_median_of_wide_lines() -> None:
    lines = [
        _line("统一社会信用代码", Box(100, 100, 500, 140), -2.0),
        _line("名称", Box(100, 200, 180, 240)),  # short, boxed axis-aligned by the engine
        _line("住所浙江省舟山市", Box(100, 300, 600, 340), -1.8),
        _line("男", Box(100, 400, 130, 440), 12.0),  # too square to say anything
    ]
    assert page_skew(lines) == pytest.approx(-1.8)


def test_stray_tilted_lines_do_not_skew_a_level_page() -> None:
    lines = [_line("统一社会信用代码", Box(100, 100 + 60 * i, 700, 140 + 60 * i)) for i in range(6)]
    lines.append(_line("舟山市市场监督", Box(100, 600, 400, 640), 3.0))
    assert page_skew(lines) == 0.0
    assert Skew.of(lines, 1654, 2339) is None


def test_lines_without_quadrilaterals_have_no_skew() -> None:
    lines = [TextLine("统一社会信用代码", 1.0, Box(10, 10, 200, 30))]
    assert Skew.of(lines, 595, 842) is None


def test_levelling_a_line_gives_the_box_it_had_before_the_turn() -> None:
    box = Box(900, 1200, 1500, 1250)
    line = _line("浙江省舟山市定海区临城街道", box, 2.5, 827, 1169.5)
    skew = Skew.of([line], 1654, 2339)
    assert skew is not None and skew.angle == pytest.approx(2.5)
    level = skew.level(line).box
    assert (level.x0, level.y0, level.x1, level.y1) == pytest.approx((900, 1200, 1500, 1250))
    back = skew.unlevel(level)
    assert (back.x0, back.y0, back.x1, back.y1) == pytest.approx(
        (line.box.x0, line.box.y0, line.box.x1, line.box.y1)
    )


# ── fields on skewed pages ───────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("degrees", [-3.0, -2.0, 2.0, 3.0])
@pytest.mark.parametrize("kind", ["seafarer_competency", "business_licence"])
def test_every_field_of_a_skewed_scan_is_read(kinds: DocKinds, kind: str, degrees: float) -> None:
    # Rows rebuilt from the axis-aligned boxes mix on these pages: the right column's labels
    # land on the left column's rows, and English sub-labels beside Chinese values.
    page, truth = _skewed_scan(kind, 0, degrees)
    got = _read(kinds, kind, page)
    assert {name: _nfkc(got.get(name)) for name in truth} == {
        name: _nfkc(value) for name, value in truth.items()
    }


def test_a_skewed_field_box_is_reported_in_page_pixels(kinds: DocKinds) -> None:
    page, truth = _skewed_scan("seafarer_competency", 0, 3.0)
    fields, _ = extract_fields(kinds.get("seafarer_competency"), [page], today=TODAY)
    number = next(f for f in fields if f.name == "certificate_number")
    printed = next(line for line in page.lines if line.text == truth["certificate_number"])
    assert number.box is not None
    assert number.box.x0 == pytest.approx(printed.box.x0, abs=3)
    assert number.box.y0 == pytest.approx(printed.box.y0, abs=3)
    assert number.box.x1 == pytest.approx(printed.box.x1, abs=3)
    assert number.box.y1 == pytest.approx(printed.box.y1, abs=3)


def test_rows_of_a_skewed_page_keep_label_and_value_together() -> None:
    # Turned 3°, the right column sinks by more than a line height against the left one.
    def turned(text: str, x0: float, y0: float, x1: float) -> TextLine:
        return _line(text, Box(x0, y0, x1, y0 + 45), 3.0, 827.0, 1169.5)

    page = PageText(
        0,
        1654,
        2339,
        [
            turned("注册资本", 1150, 930, 1282),
            turned("伍仟万元整", 1320, 930, 1480),
            turned("名称", 160, 930, 268),
            turned("舟山蓝海建设有限公司", 355, 930, 673),
            turned("类型", 160, 1010, 268),
            turned("有限责任公司", 355, 1010, 600),
            turned("成立日期", 1150, 1010, 1282),
            turned("2016年03月18日", 1320, 1010, 1555),
        ],
        "ocr",
    )
    assert [row.text for row in rows_of([page])] == [
        "名称舟山蓝海建设有限公司注册资本伍仟万元整",
        "类型有限责任公司成立日期2016年03月18日",
    ]


def test_a_value_does_not_run_on_to_a_row_an_unlabelled_field_claims(kinds: DocKinds) -> None:
    # 登记机关 may take two lines; the date under it, printed without a label, is 登记日期's.
    # Close rows (a scan, a skewed page) used to put the date into the authority.
    page = PageText(
        0,
        1654,
        2339,
        [
            TextLine("登记机关", 0.99, Box(880, 1900, 1012, 1950)),
            TextLine("舟山市市场监督管理局", 0.99, Box(1060, 1895, 1380, 1945)),
            TextLine("2016年03月18日", 0.99, Box(1085, 1975, 1360, 2025)),
        ],
        "ocr",
    )
    got = _read(kinds, "business_licence", page)
    assert (got["registration_authority"], got["registered_on"]) == (
        "舟山市市场监督管理局",
        "2016-03-18",
    )
