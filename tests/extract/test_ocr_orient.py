"""Pages turned 90°, 180° and 270°, and slightly skewed, are read as well as upright ones."""

from __future__ import annotations

from typing import ClassVar

import numpy as np
import pytest
from PIL import Image as PILImage

from matcher.extract.model import Box, TextLine
from matcher.extract.ocr import OcrEngine, OcrOptions, get_engine, read_page, turn
from matcher.extract.ocr.base import Image
from matcher.extract.ocr.testing import ID_CARD_KEYS, LICENCE_KEYS, id_card_image, licence_image
from matcher.extract.ocr.testing import normalise as norm

# --- the decision, on a scripted engine ---------------------------------------------------------


class Scripted:
    """Reads a marked page well only when it is upright; counts its passes."""

    kind: ClassVar[str] = "scripted"
    options_model: ClassVar[type[OcrOptions]] = OcrOptions

    def __init__(self, upright: Image, sideways_confidence: float = 0.9) -> None:
        self.upright = upright
        self.sideways_confidence = sideways_confidence
        self.calls = 0

    def recognise(self, image: Image) -> list[TextLine]:
        self.calls += 1
        if np.array_equal(image, self.upright):
            return [TextLine("统一社会信用代码", 0.99, Box(10, 10, 90, 20))]
        if np.array_equal(image, turn(self.upright, 180)):
            return [TextLine("码代用", 0.4, Box(10, 10, 90, 20))]
        if np.array_equal(image, turn(self.upright, 90)):
            # lying turned 90° clockwise: engines read tall lines as if turned back
            return [TextLine("统一社会信用代码", self.sideways_confidence, Box(10, 10, 20, 90))]
        return [TextLine("码代", 0.3, Box(10, 10, 20, 90))]


@pytest.fixture
def page() -> Image:
    rng = np.random.default_rng(7)
    return rng.integers(0, 255, size=(40, 60, 3), dtype=np.uint8)


def test_upright_confident_page_takes_one_pass(page: Image) -> None:
    engine = Scripted(page)
    lines, rotation = read_page(engine, page)
    assert (rotation, engine.calls, lines[0].text) == (0, 1, "统一社会信用代码")


@pytest.mark.parametrize(("turned", "calls"), [(90, 2), (180, 2), (270, 2)])
def test_turned_page_is_set_upright(page: Image, turned: int, calls: int) -> None:
    engine = Scripted(page)
    lines, rotation = read_page(engine, turn(page, turned))
    assert (turned + rotation) % 360 == 0
    assert lines[0].text == "统一社会信用代码"
    assert engine.calls == calls


def test_sideways_page_tries_the_other_side_when_the_first_is_wrong(page: Image) -> None:
    engine = Scripted(page, sideways_confidence=0.2)  # the hint points the wrong way
    _, rotation = read_page(engine, turn(page, 90))
    assert (rotation, engine.calls) == (270, 3)


def test_the_deadline_is_checked_before_each_pass_within_a_page(page: Image) -> None:
    from matcher.errors import ProcessingTimeout
    from matcher.extract.intake import Deadline

    now = [0.0]

    class Slow(Scripted):
        def recognise(self, image: Image) -> list[TextLine]:
            now[0] += 10.0  # each pass takes 10 s
            return super().recognise(image)

    engine = Slow(page, sideways_confidence=0.2)  # a page that needs three passes
    deadline = Deadline(15.0, clock=lambda: now[0])
    with pytest.raises(ProcessingTimeout):
        read_page(engine, turn(page, 90), deadline.check)
    assert engine.calls == 2  # the third pass was never started


def test_page_with_no_text_takes_one_pass(page: Image) -> None:
    class Blank(Scripted):
        def recognise(self, image: Image) -> list[TextLine]:
            self.calls += 1
            return []

    engine = Blank(page)
    assert read_page(engine, page) == ([], 0)
    assert engine.calls == 1


def test_turn_is_clockwise() -> None:
    image = np.zeros((2, 3, 3), np.uint8)
    image[0, 0] = 255  # top left
    turned = turn(image, 90)
    assert turned.shape == (3, 2, 3) and turned[0, 1, 0] == 255  # now top right
    assert np.array_equal(turn(turned, 270), image)
    with pytest.raises(ValueError):
        turn(image, 45)


# --- real engines ------------------------------------------------------------------------------


@pytest.fixture(scope="module", params=["paddleocr", "rapidocr"])
def engine(request: pytest.FixtureRequest) -> OcrEngine:
    return get_engine({"kind": request.param})


@pytest.fixture(scope="module")
def licence() -> Image:
    return licence_image()


@pytest.mark.parametrize("turned", [90, 180, 270])
def test_turned_licence_reads_like_the_upright_one(
    engine: OcrEngine, licence: Image, turned: int
) -> None:
    lines, rotation = read_page(engine, turn(licence, turned))
    assert (turned + rotation) % 360 == 0
    text = norm("".join(line.text for line in lines))
    for key in LICENCE_KEYS:
        assert norm(key) in text
    # boxes are in the upright image: the title is at the top, centred
    title = next(line for line in lines if line.text == "营业执照")
    assert title.box.y1 < 400 and 500 < title.box.cx < 1100


def test_upside_down_id_card_is_read(engine: OcrEngine) -> None:
    lines, rotation = read_page(engine, turn(id_card_image(), 180))
    assert rotation == 180
    text = norm("".join(line.text for line in lines))
    for key in ID_CARD_KEYS:
        assert norm(key) in text


def test_a_photo_skewed_by_two_degrees_is_read_upright(engine: OcrEngine) -> None:
    card = PILImage.fromarray(id_card_image()).rotate(2.0, expand=True, fillcolor=(255, 255, 255))
    lines, rotation = read_page(engine, np.asarray(card.convert("RGB")))
    assert rotation == 0
    text = norm("".join(line.text for line in lines))
    for key in ID_CARD_KEYS:
        assert norm(key) in text
