"""Rows of a page: its text lines grouped by vertical overlap, read left to right.

A row is read as one string without blanks, each character with its share of its line's box, so
field extraction (``matcher.extract.fields``) can find labels split over tokens or glued to their
values. On a skewed scan the rows are rebuilt from the lines as if the page were level
(``matcher.extract.skew``): an OCR engine's lines carry their tilted quadrilaterals.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass

from matcher.extract.model import Box, PageText, TextLine
from matcher.extract.skew import Skew

__all__ = ["Char", "Row", "rows_of"]

TALL_BOX = 1.6  # a box this many times the height of a row (or more) does not widen the row


@dataclass(frozen=True)
class Char:
    """One character of a row, its line (for the confidence) and its estimated box."""

    char: str
    line: TextLine
    box: Box


@dataclass(frozen=True)
class Row:
    """One visual row of a page: its characters without blanks, and where each token starts."""

    page: int
    chars: tuple[Char, ...]
    token_starts: frozenset[int]
    top: float
    bottom: float
    skew: Skew | None = None  # the page's skew: boxes are levelled (``Skew.level``)

    @property
    def text(self) -> str:
        return "".join(c.char for c in self.chars)

    @property
    def height(self) -> float:
        return self.bottom - self.top


def rows_of(pages: Sequence[PageText]) -> list[Row]:
    """Every page's rows, top to bottom, page after page."""
    return [row for page in pages for row in _page_rows(page)]


def _page_rows(page: PageText) -> list[Row]:
    # On a skewed scan, rows are rebuilt from the lines as if the page were level.
    skew = Skew.of(page.lines, page.width, page.height)
    lines = [skew.level(line) for line in page.lines] if skew is not None else page.lines
    groups: list[list[TextLine]] = []
    spans: list[tuple[float, float]] = []
    for line in sorted(lines, key=lambda ln: (ln.box.cy, ln.box.x0)):
        if not line.text.strip():
            continue
        if groups:
            top, bottom = spans[-1]
            overlap = min(bottom, line.box.y1) - max(top, line.box.y0)
            if overlap >= 0.5 * min(bottom - top, line.box.height):
                groups[-1].append(line)
                spans[-1] = _widened(top, bottom, line.box)
                continue
        groups.append([line])
        spans.append((line.box.y0, line.box.y1))
    rows = []
    for group, (top, bottom) in zip(groups, spans, strict=True):
        chars: list[Char] = []
        starts: set[int] = set()
        for line in sorted(group, key=lambda ln: ln.box.x0):
            for token in _tokens(line):
                starts.add(len(chars))
                chars.extend(token)
        rows.append(Row(page.index, tuple(chars), frozenset(starts), top, bottom, skew))
    return rows


def _widened(top: float, bottom: float, box: Box) -> tuple[float, float]:
    """A row's vertical extent once ``box`` has joined it.

    A box far taller than the row (a label set down the side of a wrapped value, ``经营`` beside
    both lines of 经营范围's value) joins the row beside it but does not widen it: widened, the row
    took the value's next line in too, and read it first, its left edge being a few pixels further
    left. The other way round, a row far taller than the box joining it (such a box came first)
    takes the box's extent.
    """
    height = bottom - top
    if box.height > TALL_BOX * height:
        return top, bottom
    if height > TALL_BOX * box.height:
        return box.y0, box.y1
    return min(top, box.y0), max(bottom, box.y1)


def _tokens(line: TextLine) -> list[list[Char]]:
    """A line's whitespace-separated runs, each character with its share of the line's box."""
    weights = [_width(ch) for ch in line.text]
    unit = line.box.width / (sum(weights) or 1)
    tokens: list[list[Char]] = []
    x = line.box.x0
    current: list[Char] = []
    for ch, weight in zip(line.text, weights, strict=True):
        right = x + weight * unit
        if ch.isspace():
            if current:
                tokens.append(current)
                current = []
        else:
            box = Box(x, line.box.y0, right, line.box.y1)
            current.append(Char(ch, line, box))
        x = right
    if current:
        tokens.append(current)
    return tokens


def _width(ch: str) -> float:
    # Wide characters take a full em, others about half: a fair guess without the font.
    return 1.0 if unicodedata.east_asian_width(ch) in ("W", "F") else 0.5
