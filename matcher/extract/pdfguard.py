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

__all__ = ["check_content_streams"]


def check_content_streams(
    doc: pymupdf.Document, page: pymupdf.Page, index: int, limits: Limits
) -> None:
    """Refuse a page whose drawing instructions inflate past ``max_content_bytes``, measured
    before MuPDF reads them: a 200 KB file can otherwise hold 200 MB of instructions (10 s of
    MuPDF's time, and more memory the larger the file). The page's own content streams and the
    forms it draws count together; inflating stops at the limit."""
    xrefs = [*page.get_contents(), *(x[0] for x in page.get_xobjects())]
    left = limits.max_content_bytes
    for xref in dict.fromkeys(xrefs):
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
