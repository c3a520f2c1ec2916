"""A PDF page's drawing instructions measured before MuPDF reads them (content-stream bombs)."""

from __future__ import annotations

import re
import zlib
from typing import TYPE_CHECKING

import pymupdf

from matcher.errors import FileTooLarge, UnsupportedMedia
from matcher.extract.sniff import size_text

if TYPE_CHECKING:
    from matcher.extract.intake import Limits

__all__ = ["check_content_streams", "drawn_streams"]


# Keys not followed from a page: its place in the page tree, links to other pages and actions,
# and fonts' files (not drawing instructions). Fonts are followed: a Type3 font's glyphs are
# drawing instructions. Images are skipped where met (their pixels have a budget of their own).
_NOT_DRAWN = frozenset(
    {
        "Parent",
        "P",
        "Dest",
        "A",
        "Next",
        "Prev",
        "First",
        "Last",
        "FontFile",
        "FontFile2",
        "FontFile3",
        "Metadata",
        "StructParent",
        "StructParents",
        "Popup",
        "IRT",
    }
)
_REF = re.compile(r"(\d+) 0 R")
_MAX_OBJECTS = 5000  # objects one page may reach; past that it is refused, not walked


def drawn_streams(doc: pymupdf.Document, page: pymupdf.Page, index: int) -> list[int]:
    """Every stream a page can draw: its contents, and whatever its resources and annotations
    reach — forms, annotation appearances, patterns, shadings, Type3 glyph procedures — except
    images and font files."""
    todo = [page.xref]
    seen: set[int] = set()
    streams: list[int] = []
    while todo:
        xref = todo.pop()
        if xref in seen or xref <= 0:
            continue
        seen.add(xref)
        if len(seen) > _MAX_OBJECTS:
            raise UnsupportedMedia(f"PDF 第 {index + 1} 页引用的对象过多，请另存为 PDF 后重新上传")
        if doc.xref_is_stream(xref):
            if doc.xref_get_key(xref, "Subtype")[1] == "/Image":
                continue
            streams.append(xref)
        for key in doc.xref_get_keys(xref):
            if key in _NOT_DRAWN:
                continue
            todo += (int(ref) for ref in _REF.findall(doc.xref_get_key(xref, key)[1]))
    return streams


def check_content_streams(
    doc: pymupdf.Document, page: pymupdf.Page, index: int, limits: Limits
) -> None:
    """Refuse a page whose drawing instructions inflate past ``max_content_bytes``, measured
    before MuPDF reads them: a 200 KB file can otherwise hold 200 MB of instructions (10 s of
    MuPDF's time, and more memory the larger the file). Every stream the page can draw counts
    (:func:`drawn_streams`), together; inflating stops at the limit."""
    left = limits.max_content_bytes
    for xref in drawn_streams(doc, page, index):
        kind, value = doc.xref_get_key(xref, "Filter")
        filters = re.findall(r"/(\w+)", value) if kind in ("name", "array") else []
        raw = doc.xref_stream_raw(xref) or b""
        if kind == "null":
            left -= len(raw)
        elif filters == ["FlateDecode"]:
            left -= _inflated_size(raw, left + 1)
        else:
            raise UnsupportedMedia(
                f"PDF 第 {index + 1} 页的内容使用了不支持的压缩方式（{value}），"
                "请另存为 PDF 后重新上传"
            )
        if left < 0:
            raise FileTooLarge(
                f"PDF 第 {index + 1} 页的绘制内容解压后超过上限 "
                f"{size_text(limits.max_content_bytes)}"
            )


def _inflated_size(raw: bytes, cap: int) -> int:
    """How many bytes ``raw`` inflates to, counting no further than ``cap``; a stream that is not
    valid zlib counts what it gave before the error (MuPDF then reads what it can, or refuses)."""
    inflater = zlib.decompressobj()
    size = 0
    try:
        while raw and size < cap:
            size += len(inflater.decompress(raw, 1 << 20))
            raw = inflater.unconsumed_tail
    except zlib.error:
        pass
    return size
