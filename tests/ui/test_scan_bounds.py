"""The scan view draws a PDF page for the clerk within a pixel budget, whatever its MediaBox."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pymupdf

from matcher.extract.kinds import load_doc_kinds
from matcher.extract.pipeline import ExtractOptions, Extractor
from matcher.ui.scans import VIEW_MAX_PIXELS, _page_image, _Read


def _poster_pdf(points: float) -> bytes:
    """A few hundred bytes: one line of text on a page ``points`` wide and high."""
    doc = pymupdf.open()
    page = doc.new_page(width=points, height=points)
    page.insert_text((72, 72), "Hello", fontsize=24)
    data: bytes = doc.tobytes(garbage=4, deflate=True)
    return data


def test_a_page_with_a_huge_mediabox_is_drawn_within_the_budget() -> None:
    data = _poster_pdf(5000)  # 2x would be 10,000 x 10,000 pixels: 100 MP, 300 MB of RGB
    assert len(data) < 2000
    extractor = Extractor(load_doc_kinds(), ExtractOptions())
    read = _Read(data, "application/pdf", extractor.extract(data, filename="poster.pdf"))
    services: Any = SimpleNamespace(extractor=extractor)
    image = _page_image(read, 0, services)
    assert image is not None
    assert image.width * image.height <= VIEW_MAX_PIXELS
    assert abs(image.width - image.height) <= 1  # the page's shape is kept


def test_an_ordinary_page_is_drawn_at_twice_its_size() -> None:
    data = _poster_pdf(595)
    extractor = Extractor(load_doc_kinds(), ExtractOptions())
    read = _Read(data, "application/pdf", extractor.extract(data, filename="a4.pdf"))
    image = _page_image(read, 0, SimpleNamespace(extractor=extractor))  # type: ignore[arg-type]
    assert image is not None and image.size == (1190, 1190)
