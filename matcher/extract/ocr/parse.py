"""Pure functions turning each engine's raw output into text lines (tested on recorded outputs)."""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from matcher.extract.model import Box, Point, TextLine

__all__ = ["box_from_quad", "lines_from_paddle", "lines_from_rapid"]


def box_from_quad(points: Iterable[Sequence[float]], width: int, height: int) -> Box | None:
    """The axis-aligned box around a quadrilateral (or any polygon), clipped to the image.

    None when the polygon is empty, not finite, or has no area inside the image.
    """
    xs: list[float] = []
    ys: list[float] = []
    for point in points:
        x, y = float(point[0]), float(point[1])
        if not (math.isfinite(x) and math.isfinite(y)):
            return None
        xs.append(x)
        ys.append(y)
    if not xs:
        return None
    x0, x1 = max(0.0, min(xs)), min(float(width), max(xs))
    y0, y1 = max(0.0, min(ys)), min(float(height), max(ys))
    if x1 <= x0 or y1 <= y0:
        return None
    return Box(x0, y0, x1, y1)


def _quad(points: Iterable[Sequence[float]]) -> tuple[Point, Point, Point, Point] | None:
    """The polygon's corners when it is a quadrilateral of finite points, else None."""
    corners = [(float(point[0]), float(point[1])) for point in points]
    if len(corners) != 4 or not all(math.isfinite(v) for corner in corners for v in corner):
        return None
    return corners[0], corners[1], corners[2], corners[3]


def _lines(
    polys: Iterable[Any], texts: Iterable[Any], scores: Iterable[Any], width: int, height: int
) -> list[TextLine]:
    lines: list[TextLine] = []
    for poly, text, score in zip(polys, texts, scores, strict=True):
        clean = str(text).strip()
        conf = float(score)
        box = box_from_quad(poly, width, height)
        if not clean or box is None or not math.isfinite(conf):
            continue
        lines.append(
            TextLine(text=clean, confidence=min(1.0, max(0.0, conf)), box=box, quad=_quad(poly))
        )
    return lines


def lines_from_rapid(raw: Mapping[str, Any], width: int, height: int) -> list[TextLine]:
    """RapidOCR 3.x output as ``{"boxes": [[[x, y]×4], …], "txts": […], "scores": […]}``.

    ``RapidOCROutput`` gives these as attributes; ``boxes``/``txts`` are None when nothing was read.
    """
    boxes, texts, scores = raw.get("boxes"), raw.get("txts"), raw.get("scores")
    if boxes is None or texts is None or scores is None:
        return []
    return _lines(boxes, texts, scores, width, height)


def lines_from_paddle(raw: Mapping[str, Any], width: int, height: int) -> list[TextLine]:
    """A PaddleOCR 3.x ``predict`` result: ``rec_polys``, ``rec_texts``, ``rec_scores``."""
    polys, texts, scores = raw.get("rec_polys"), raw.get("rec_texts"), raw.get("rec_scores")
    if polys is None or texts is None or scores is None:
        return []
    return _lines(polys, texts, scores, width, height)
