"""Skewed scans: the angle of a page's text, and its lines' boxes as if the page were level.

A scan or photo turned by a degree or two tilts every text line; rows rebuilt from axis-aligned
boxes then mix (on an A4 page at 200 DPI, 2° lift the right end of a row by a whole line height),
so a label takes the next row's value. OCR engines return each line's quadrilateral, which keeps
the tilt: the page's skew is the length-weighted median angle of its wide lines, and levelling a
line turns its quadrilateral by minus that angle about the page centre and takes the box around
it. Boxes found in levelled coordinates are turned back for reporting (``Skew.unlevel``).

Lines the engine boxed axis-aligned (short ones often are, even on a skewed page) count with
angle 0; they carry too little length to outweigh the long tilted lines of a skewed page, and on
a level page they are nearly all there is, so its stray tilted quadrilaterals change nothing.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

from matcher.extract.model import Box, Point, TextLine

__all__ = ["MAX_SKEW", "MIN_SKEW", "Skew", "line_angle", "page_skew"]

MIN_SKEW = 0.1
"""Degrees: a smaller skew is left alone (boxes stay exactly as the engine gave them)."""

MAX_SKEW = 20.0
"""Degrees: a line tilted more than this is not taken as the page's text direction (a seal's arc
of characters, a stamp); larger turns are the orientation check's business (multiples of 90°)."""

_WIDE = 2.0  # a line whose quadrilateral is at least this many times longer than high has a tilt


def line_angle(quad: Sequence[Point]) -> tuple[float, float] | None:
    """The tilt of a line's quadrilateral in degrees (clockwise positive, as the image's y axis
    points down) and its length; None when it is not clearly longer than high.

    The corners may come in any rotational order: the longer pair of opposite sides is the text
    direction.
    """
    if len(quad) != 4:
        return None
    sides = [
        (quad[(i + 1) % 4][0] - quad[i][0], quad[(i + 1) % 4][1] - quad[i][1]) for i in range(4)
    ]
    first = math.hypot(*sides[0]) + math.hypot(*sides[2])
    second = math.hypot(*sides[1]) + math.hypot(*sides[3])
    long_pair, short = ((0, 2), second) if first >= second else ((1, 3), first)
    if short <= 0 or max(first, second) < _WIDE * short:
        return None
    # Opposite sides run in opposite directions round the polygon: their difference adds them up.
    a, b = sides[long_pair[0]], sides[long_pair[1]]
    dx, dy = a[0] - b[0], a[1] - b[1]
    if dx < 0:
        dx, dy = -dx, -dy
    return math.degrees(math.atan2(dy, dx)), max(first, second) / 2


def page_skew(lines: Iterable[TextLine]) -> float:
    """The page's text angle in degrees: the length-weighted median tilt of its wide lines (0 when
    no line has a quadrilateral)."""
    tilts: list[tuple[float, float]] = []
    for line in lines:
        if line.quad is None:
            continue
        measured = line_angle(line.quad)
        if measured is not None and abs(measured[0]) <= MAX_SKEW:
            tilts.append(measured)
    if not tilts:
        return 0.0
    tilts.sort()
    half = sum(length for _, length in tilts) / 2
    running = 0.0
    for angle, length in tilts:
        running += length
        if running >= half:
            return angle
    return tilts[-1][0]  # pragma: no cover - the loop always reaches half


@dataclass(frozen=True)
class Skew:
    """A page turned by ``angle`` degrees about its centre (``cx``, ``cy``), within ``width`` ×
    ``height``."""

    angle: float
    cx: float
    cy: float
    width: float
    height: float

    @classmethod
    def of(cls, lines: Sequence[TextLine], width: float, height: float) -> Skew | None:
        """The page's skew, or None when it is too small to matter."""
        angle = page_skew(lines)
        if abs(angle) < MIN_SKEW:
            return None
        return cls(angle, width / 2, height / 2, width, height)

    def _turn(self, x: float, y: float, sign: float) -> Point:
        rad = math.radians(self.angle) * sign
        cos, sin = math.cos(rad), math.sin(rad)
        dx, dy = x - self.cx, y - self.cy
        return self.cx + dx * cos - dy * sin, self.cy + dx * sin + dy * cos

    def level(self, line: TextLine) -> TextLine:
        """The line with its box in levelled coordinates: the box around its turned
        quadrilateral, or its box moved with its centre when it has none."""
        if line.quad is not None:
            points = [self._turn(x, y, -1.0) for x, y in line.quad]
            return replace(line, box=_hull(points))
        box = line.box
        cx, cy = self._turn(box.cx, box.cy, -1.0)
        half_w, half_h = box.width / 2, box.height / 2
        return replace(line, box=Box(cx - half_w, cy - half_h, cx + half_w, cy + half_h))

    def unlevel(self, box: Box) -> Box:
        """A box in levelled coordinates as the box around it on the page, clipped to the page."""
        corners = [(box.x0, box.y0), (box.x1, box.y0), (box.x1, box.y1), (box.x0, box.y1)]
        hull = _hull([self._turn(x, y, 1.0) for x, y in corners])
        return Box(
            max(0.0, hull.x0),
            max(0.0, hull.y0),
            min(self.width, hull.x1),
            min(self.height, hull.y1),
        )


def _hull(points: Sequence[Point]) -> Box:
    xs = [x for x, _ in points]
    ys = [y for _, y in points]
    return Box(min(xs), min(ys), max(xs), max(ys))
