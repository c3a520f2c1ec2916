"""The pure parsers, on raw engine outputs recorded from real runs (ocr_recordings/record.py)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from matcher.extract.model import Box, TextLine
from matcher.extract.ocr.parse import box_from_quad, lines_from_paddle, lines_from_rapid
from matcher.extract.ocr.testing import ID_CARD_KEYS, LICENCE_KEYS, normalise

RECORDINGS = Path(__file__).resolve().parent / "ocr_recordings"
PARSERS = {"rapidocr": lines_from_rapid, "paddleocr": lines_from_paddle}
KEYS = {"licence": LICENCE_KEYS, "id_card": ID_CARD_KEYS}


def _recording(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def _parse(record: dict[str, Any]) -> list[TextLine]:
    size = record["image"]
    return PARSERS[record["engine"]](record["raw"], width=size["width"], height=size["height"])


ALL = sorted(RECORDINGS.glob("*.json"))


def test_every_engine_has_recordings() -> None:
    assert {_recording(p)["engine"] for p in ALL} == set(PARSERS)


@pytest.mark.parametrize("path", ALL, ids=lambda p: p.stem)
def test_parsed_lines_are_well_formed(path: Path) -> None:
    record = _recording(path)
    for line in _parse(record):
        assert line.text == line.text.strip() and line.text
        assert 0.0 <= line.confidence <= 1.0
        assert 0 <= line.box.x0 < line.box.x1 <= record["image"]["width"]
        assert 0 <= line.box.y0 < line.box.y1 <= record["image"]["height"]
        assert line.page == 0


@pytest.mark.parametrize(
    "path", [p for p in ALL if _recording(p)["image"]["name"] in KEYS], ids=lambda p: p.stem
)
def test_recorded_documents_parse_to_their_key_strings(path: Path) -> None:
    record = _recording(path)
    text = normalise("".join(line.text for line in _parse(record)))
    for key in KEYS[record["image"]["name"]]:
        assert normalise(key) in text


def _first_line(engine: str) -> tuple[TextLine, list[list[float]]]:
    """The first parsed line of a recorded licence, and the engine's quadrilateral for it."""
    record = _recording(RECORDINGS / f"{engine}_licence.json")
    raw = record["raw"]
    quads = raw["boxes"] if engine == "rapidocr" else raw["rec_polys"]
    return _parse(record)[0], quads[0]


@pytest.mark.parametrize("engine", sorted(PARSERS))
def test_box_is_the_hull_of_the_recorded_quadrilateral(engine: str) -> None:
    first, quad = _first_line(engine)
    xs = [p[0] for p in quad]
    ys = [p[1] for p in quad]
    assert first.box == Box(min(xs), min(ys), max(xs), max(ys))
    assert first.text == "营业执照"


@pytest.mark.parametrize("engine", sorted(PARSERS))
def test_lines_keep_the_recorded_quadrilateral(engine: str) -> None:
    # The quadrilateral says how a line is tilted on a skewed scan (matcher.extract.skew).
    first, quad = _first_line(engine)
    assert first.quad == tuple((float(x), float(y)) for x, y in quad)


@pytest.mark.parametrize("engine", sorted(PARSERS))
def test_lines_keep_the_engines_reading_order(engine: str) -> None:
    lines = _parse(_recording(RECORDINGS / f"{engine}_id_card.json"))
    assert [normalise(line.text)[:2] for line in lines] == [
        "姓名",
        "性别",
        "出生",
        "住址",
        "环城",
        "公民",
    ]


@pytest.mark.parametrize("engine", sorted(PARSERS))
def test_a_blank_image_gives_no_lines(engine: str) -> None:
    assert _parse(_recording(RECORDINGS / f"{engine}_blank.json")) == []


def test_rapid_nothing_detected_is_no_lines() -> None:
    assert lines_from_rapid({"boxes": None, "txts": None, "scores": None}, 100, 100) == []


def test_paddle_missing_keys_is_no_lines() -> None:
    assert lines_from_paddle({}, 100, 100) == []


def test_blank_texts_and_bad_scores_are_dropped_and_scores_clamped() -> None:
    quad = [[10, 10], [50, 10], [50, 20], [10, 20]]
    raw = {
        "rec_polys": [quad, quad, quad, quad],
        "rec_texts": ["  名称 ", "   ", "住所", "X"],
        "rec_scores": [1.2, 0.9, math.nan, -0.1],
    }
    lines = lines_from_paddle(raw, 100, 100)
    assert [(line.text, line.confidence) for line in lines] == [("名称", 1.0), ("X", 0.0)]


def test_box_is_clipped_to_the_image() -> None:
    assert box_from_quad([[-5, -3], [120, -3], [120, 40], [-5, 40]], 100, 30) == Box(0, 0, 100, 30)


@pytest.mark.parametrize(
    "quad",
    [[], [[math.inf, 0], [1, 1]], [[200, 10], [300, 10], [300, 20], [200, 20]], [[5, 5], [5, 5]]],
    ids=["empty", "infinite", "outside", "no-area"],
)
def test_degenerate_quadrilaterals_give_no_box(quad: list[list[float]]) -> None:
    assert box_from_quad(quad, 100, 100) is None


def test_mismatched_lengths_are_an_error() -> None:
    with pytest.raises(ValueError):
        lines_from_rapid(
            {"boxes": [[[0, 0], [1, 0], [1, 1], [0, 1]]], "txts": [], "scores": []}, 9, 9
        )
