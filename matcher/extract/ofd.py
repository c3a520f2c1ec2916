"""OFD (GB/T 33190) text pages, read with ``ofdkit``.

ofdkit is standard-library only: it refuses DTDs and entity declarations (no XML bombs), caps
each part it reads, and follows templates, composite objects and transforms. Before handing it
the bytes, the ZIP directory is checked here against tighter limits, because zipfile never yields
more than an entry's declared size: summing the declared sizes bounds what can be inflated.

Text runs come back in millimetres; boxes here are in points (1/72 inch), like a PDF text layer.
A page without text (a scanned OFD) is not rendered: OFD has no renderer here.
"""

from __future__ import annotations

import io
import logging
import zipfile
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from matcher.errors import (
    EncryptedFile,
    FileTooLarge,
    MatcherError,
    TooManyPages,
    UnreadableFile,
    UnsupportedMedia,
)
from matcher.extract.model import Box, PageText, TextLine

if TYPE_CHECKING:
    from matcher.extract.intake import Deadline, Limits

__all__ = ["load_ofd"]

log = logging.getLogger(__name__)

MAX_ENTRIES = 10_000
MAX_XML_PART = 16 * 1024 * 1024  # one XML part, inflated
MAX_INFLATED = 256 * 1024 * 1024  # all parts, inflated
MAX_RATIO = 200  # inflated/compressed for parts over 1 MiB: ordinary XML stays far below
_POINTS_PER_MM = 72 / 25.4
_PAGE_MARGIN_MM = 2.0  # text may stick out of the page box by this much and still count

_NOT_SUPPORTED = "暂不支持 OFD 文件，请上传 PDF 或图片"


def load_ofd(data: bytes, limits: Limits, deadline: Deadline) -> list[PageText]:
    """Text pages of an OFD file, one PageText per page, lines in reading order."""
    try:
        import ofdkit  # type: ignore[import-untyped,unused-ignore]
    except ImportError as exc:  # the reader is an optional dependency: say so, fake nothing
        log.warning("ofdkit is not installed: pip install ofdkit")
        raise UnsupportedMedia(_NOT_SUPPORTED) from exc
    _check_container(data)
    try:
        with ofdkit.open(data) as document:
            count = len(document.pages)
            if count == 0:
                raise UnreadableFile("OFD 文件没有页面")
            if count > limits.max_pages:
                raise TooManyPages(f"文件共 {count} 页，超过上限 {limits.max_pages} 页")
            pages = []
            for page in document.pages:
                deadline.check()
                pages.append(_page_text(page))
    except MatcherError:
        raise
    except MemoryError as exc:
        raise FileTooLarge("OFD 文件解码所需内存过大") from exc
    except Exception as exc:  # OFDError, and whatever a hostile file provokes besides
        log.info("OFD unreadable: %r", exc)
        raise UnreadableFile("OFD 文件已损坏或格式不符合标准，无法读取") from exc
    if not any(page.lines for page in pages):
        raise UnsupportedMedia(
            "OFD 文件中没有可读取的文字（可能是扫描件），暂不支持，请上传 PDF 或图片"
        )
    return pages


def _check_container(data: bytes) -> None:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            infos = archive.infolist()
    except (zipfile.BadZipFile, ValueError, EOFError, OSError) as exc:
        raise UnreadableFile("OFD 文件已损坏，无法打开") from exc
    if len(infos) > MAX_ENTRIES:
        raise FileTooLarge(f"OFD 文件包含 {len(infos)} 个部件，超过上限 {MAX_ENTRIES}")
    if any(info.flag_bits & 0x1 for info in infos):
        raise EncryptedFile("文件已加密，请上传未加密的文件")
    total = 0
    for info in infos:
        total += info.file_size
        large = info.file_size > 1024 * 1024
        if large and info.file_size > MAX_RATIO * max(info.compress_size, 1):
            raise FileTooLarge("OFD 文件压缩比异常（疑似压缩炸弹），已拒绝处理")
        if info.filename.lower().endswith(".xml") and info.file_size > MAX_XML_PART:
            raise FileTooLarge(f"OFD 文件的部件 {info.filename} 过大")
    if total > MAX_INFLATED:
        raise FileTooLarge("OFD 文件解压后过大，已拒绝处理")


def _page_text(page: Any) -> PageText:
    x0, y0, width, height = page.box
    runs = [
        run
        for run in page.runs
        if x0 - _PAGE_MARGIN_MM <= run.x <= x0 + width + _PAGE_MARGIN_MM
        and y0 - _PAGE_MARGIN_MM <= run.y <= y0 + height + _PAGE_MARGIN_MM
        and run.text.strip()
    ]
    lines = [
        TextLine(text, 1.0, Box(*(v * _POINTS_PER_MM for v in box)), page.index)
        for text, box in _lines(runs, x0, y0)
    ]
    return PageText(
        page.index, width * _POINTS_PER_MM, height * _POINTS_PER_MM, lines, "text_layer"
    )


def _lines(
    runs: Sequence[Any], x0: float, y0: float
) -> list[tuple[str, tuple[float, float, float, float]]]:
    """Join runs that sit on one baseline and touch into lines, like a PDF text line.

    Producers write anything from one TextObject per line to one per character; a run's box
    spans from a size above its baseline to a fifth of a size below it.
    """
    ordered = sorted(runs, key=lambda r: (r.y, r.x))
    rows: list[list[Any]] = []
    for run in ordered:
        if rows and abs(rows[-1][-1].y - run.y) <= 0.3 * max(run.size, 0.1):
            rows[-1].append(run)
        else:
            rows.append([run])
    lines: list[tuple[str, tuple[float, float, float, float]]] = []
    for row in rows:
        row.sort(key=lambda r: r.x)
        text, box = "", (0.0, 0.0, 0.0, 0.0)
        for run in row:
            top, bottom = run.y - run.size, run.y + 0.2 * run.size
            if text and run.x - box[2] <= max(run.size, 0.1):
                gap = run.x - box[2]
                text += (" " if gap > 0.4 * run.size else "") + run.text
                box = (
                    box[0],
                    min(box[1], top),
                    max(box[2], run.x + run.width),
                    max(box[3], bottom),
                )
                continue
            if text:
                lines.append((text.strip(), box))
            text, box = run.text, (run.x, top, run.x + run.width, bottom)
        if text:
            lines.append((text.strip(), box))
    return [(text, (b[0] - x0, b[1] - y0, b[2] - x0, b[3] - y0)) for text, b in lines]
