"""OCR engines behind one interface, and page orientation on top of any of them.

Concrete engines live in ``rapid`` and ``paddle`` and are found by kind through the factory; their
libraries are imported only when an engine is built.
"""

from matcher.extract.ocr.base import (
    ENTRY_POINT_GROUP,
    Image,
    OcrEngine,
    OcrOptions,
    SerialEngine,
    check_image,
    engine_class,
    engine_kinds,
    get_engine,
    make_engine,
    parse_options,
    register_engine,
)
from matcher.extract.ocr.orient import read_page, turn

__all__ = [
    "ENTRY_POINT_GROUP",
    "Image",
    "OcrEngine",
    "OcrOptions",
    "SerialEngine",
    "check_image",
    "engine_class",
    "engine_kinds",
    "get_engine",
    "make_engine",
    "parse_options",
    "read_page",
    "register_engine",
    "turn",
]
