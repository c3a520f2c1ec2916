"""The extraction data model shared by every stage: pages of text lines, fields, results.

Coordinates: a box is ``(x0, y0, x1, y1)`` in the unit of its page — pixels for a scanned page
or image, PDF points for a PDF text layer — with the origin at the top left; ``PageText`` carries
the page's width and height in that same unit. An OCR line also keeps the engine's quadrilateral
(``quad``, same unit), which says how the line is tilted on a skewed scan.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

Point = tuple[float, float]

__all__ = ["Box", "ExtractedField", "Extraction", "FoundBy", "PageText", "TextLine"]

TextSource = Literal["text_layer", "ocr"]
FoundBy = Literal["label", "pattern", "shape"]


@dataclass(frozen=True)
class Box:
    x0: float
    y0: float
    x1: float
    y1: float

    @property
    def width(self) -> float:
        return self.x1 - self.x0

    @property
    def height(self) -> float:
        return self.y1 - self.y0

    @property
    def cx(self) -> float:
        return (self.x0 + self.x1) / 2

    @property
    def cy(self) -> float:
        return (self.y0 + self.y1) / 2


@dataclass(frozen=True)
class TextLine:
    """One line (or word run) of text as a text layer or an OCR engine gave it."""

    text: str
    confidence: float  # 0..1; 1.0 for a text layer
    box: Box
    page: int = 0
    # The engine's quadrilateral around the line, four corners in its order (None from a text
    # layer, whose lines are level): on a skewed scan it says how the line is tilted.
    quad: tuple[Point, Point, Point, Point] | None = None


@dataclass
class PageText:
    """All text of one page, in reading order where the source knows it."""

    index: int
    width: float
    height: float
    lines: list[TextLine]
    source: TextSource
    rotation: int = 0  # degrees the page was turned (clockwise) before reading: 0/90/180/270


@dataclass(frozen=True)
class ExtractedField:
    """One field of a document kind: what was read, its normal form and whether it is valid.

    A field that fails validation keeps its value and says why; it is never silently corrected.
    """

    name: str  # canonical field name, e.g. "id_number"
    label: str  # the kind's canonical label, e.g. "公民身份号码", whatever variant was printed
    value: str  # as read
    normalised: str | None  # after the kind's normalisers; None when it could not be normalised
    confidence: float
    page: int
    box: Box | None
    valid: bool
    reason: str | None = None  # zh-CN, when not valid
    # What was read where the label is (公民身份证号码, 名 for a spaced 名　称 that lost a
    # character): detail for a person looking at the page, never a key. None when no label was
    # read: a field located by its pattern or found by its shape.
    label_read: str | None = None
    # How the field was found: after its label, by the pattern of an unlabelled field, or — its
    # label nowhere to be read — by the shape of its value (an 18-character ID number).
    found_by: FoundBy = "label"


@dataclass
class Extraction:
    """What one file yielded."""

    kind: str | None  # document kind code, e.g. "id_card_front"; None when not recognised
    kind_name: str | None
    pages: list[PageText]
    fields: list[ExtractedField] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
