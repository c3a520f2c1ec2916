"""Text lines laid out on a page, as OCR would report them, read into a kind's fields."""

from __future__ import annotations

import datetime as dt

from matcher.extract.fields import extract_fields
from matcher.extract.kinds import DocKinds
from matcher.extract.model import Box, ExtractedField, PageText, TextLine

TODAY = dt.date(2026, 6, 1)
Item = tuple[str, float, float, float, float]  # text, x0, y0, x1, y1 on a 1654×2339 page


def extract(
    kinds: DocKinds, code: str, *items: Item
) -> tuple[dict[str, ExtractedField], list[str]]:
    """The fields of kind ``code`` read from ``items``, by name, and the document's warnings."""
    lines = [TextLine(t, 0.95, Box(x0, y0, x1, y1)) for t, x0, y0, x1, y1 in items]
    fields, warnings = extract_fields(
        kinds.get(code), [PageText(0, 1654, 2339, lines, "ocr")], today=TODAY
    )
    return {f.name: f for f in fields}, warnings
