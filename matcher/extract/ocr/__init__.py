"""OCR engines behind one interface, and page orientation on top of any of them.

Concrete engines live in ``rapid`` and ``paddle`` and are found by kind through the factory; their
libraries are imported only when an engine is built.

May import: extract (model), errors; an engine's library only when it is built.
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


def __getattr__(name: str) -> object:
    # Orientation works on numpy arrays, which come with an engine (matcher[ocr]): it is imported
    # on first use, so that the base install can import this package.
    if name in ("read_page", "turn"):
        from matcher.extract.ocr import orient

        return getattr(orient, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


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
