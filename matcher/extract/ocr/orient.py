"""Page orientation for any engine: read a page turned 90°, 180° or 270° as well as an upright one.

An upright page whose lines are wide and confidently read costs one OCR pass and nothing more.
Otherwise: lines taller than wide mean the page lies on its side, so it is read turned 90° and
270° (the likelier first, the other only when the first is not convincing); wide lines read with
little confidence mean it may be upside down, so it is read turned 180° too. The reading with
the most confidently read characters wins.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from matcher.extract.model import TextLine
from matcher.extract.ocr.base import Image, OcrEngine, check_image

__all__ = ["UPRIGHT_CONFIDENCE", "read_page", "turn"]

UPRIGHT_CONFIDENCE = 0.8
"""A reading whose characters average at least this confidence is taken as it is."""


def turn(image: Image, rotation: int) -> Image:
    """``image`` turned clockwise by ``rotation`` degrees (a multiple of 90)."""
    if rotation % 90:
        raise ValueError(f"rotation must be a multiple of 90, not {rotation}")
    return np.ascontiguousarray(np.rot90(image, k=-(rotation // 90) % 4))


@dataclass(frozen=True)
class _Reading:
    lines: list[TextLine]
    rotation: int

    @property
    def chars(self) -> int:
        return sum(_length(line) for line in self.lines)

    @property
    def mass(self) -> float:
        """Confidently read characters: the measure readings are compared by."""
        return sum(_length(line) * line.confidence for line in self.lines)

    @property
    def confidence(self) -> float:
        return self.mass / self.chars if self.chars else 0.0

    @property
    def sideways(self) -> bool:
        """Most multi-character lines are taller than wide: the text runs down the image."""
        runs = [line for line in self.lines if _length(line) >= 2]
        tall = sum(_length(line) for line in runs if line.box.height > line.box.width)
        return tall * 2 > sum(_length(line) for line in runs)

    @property
    def convincing(self) -> bool:
        return bool(self.lines) and not self.sideways and self.confidence >= UPRIGHT_CONFIDENCE


def _length(line: TextLine) -> int:
    return len("".join(line.text.split()))


def _read(engine: OcrEngine, image: Image, rotation: int) -> _Reading:
    return _Reading(engine.recognise(turn(image, rotation) if rotation else image), rotation)


def read_page(
    engine: OcrEngine, image: Image, before_pass: Callable[[], None] = lambda: None
) -> tuple[list[TextLine], int]:
    """The page's lines and the clockwise rotation (0/90/180/270) that made it upright.

    Boxes are in the pixels of the image turned by that rotation. ``before_pass`` is called
    before each OCR pass (a deadline's check: a page turned on its side takes up to three).
    """
    check_image(image)
    before_pass()
    first = _read(engine, image, 0)
    if first.convincing or not first.lines:
        return first.lines, 0

    readings = [first]
    if first.sideways:
        # Engines turn a tall line crop 90° anticlockwise before recognising it, so tall lines
        # read well when the page lies turned 90° clockwise: 270° more sets it upright.
        order = (270, 90) if first.confidence >= UPRIGHT_CONFIDENCE else (90, 270)
        for rotation in order:
            before_pass()
            reading = _read(engine, image, rotation)
            readings.append(reading)
            if reading.convincing:
                break
    else:
        before_pass()
        readings.append(_read(engine, image, 180))

    # Prefer an upright reading; among equals, the one with more confidently read text.
    best = max(readings, key=lambda r: (not r.sideways, r.mass))
    return best.lines, best.rotation
