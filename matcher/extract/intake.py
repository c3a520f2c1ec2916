"""File intake: sniff what the bytes are, enforce the limits, decode into pages.

A page comes out either as text (a PDF or OFD text layer, boxes in points) or as an RGB image
for OCR. The declared content type and the file name are never trusted: the bytes decide, and a
declared type that contradicts them is refused with both named. Every refusal is an
``ExtractionError`` (413/415/422) with a Chinese reason; nothing a file contains can take the
worker down, and no image is decoded before its size is known to be within the limits.
"""

from __future__ import annotations

import io
import logging
import math
import re
import threading
import time
import warnings
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from importlib.util import find_spec
from typing import TYPE_CHECKING, Literal

import pymupdf
from PIL import Image, ImageOps, ImageSequence
from pydantic import BaseModel, ConfigDict, Field

from matcher.errors import (
    EncryptedFile,
    FileTooLarge,
    ImageTooLarge,
    MatcherError,
    OcrUnavailable,
    ProcessingTimeout,
    TooManyPages,
    UnreadableFile,
    UnsupportedMedia,
)
from matcher.extract.model import Box, PageText, TextLine
from matcher.extract.ofd import load_ofd
from matcher.extract.pdfguard import check_content_streams
from matcher.extract.sniff import (
    JPEG,
    OFD,
    PDF,
    PNG,
    SUPPORTED,
    SUPPORTED_HINT,
    TIFF,
    check_declared,
    media_name,
    size_text,
    sniff_media_type,
)

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

__all__ = [
    "Deadline",
    "Document",
    "ImagePage",
    "Limits",
    "PageInput",
    "load_document",
    "render_pdf_page",
    "sniff_media_type",
]

log = logging.getLogger(__name__)

MiB = 1024 * 1024

# PyMuPDF is not thread-safe; PDF work is milliseconds, so one lock is the simple fix.
_MUPDF_LOCK = threading.Lock()
_TEXT_FLAGS = (
    pymupdf.TEXT_PRESERVE_WHITESPACE | pymupdf.TEXT_PRESERVE_LIGATURES | pymupdf.TEXT_MEDIABOX_CLIP
)
# A scan often carries a little text of its own (a scanner app's watermark, a page number);
# under a full-page image, fewer characters than this do not make a text layer.
_MIN_TEXT_OVER_SCAN = 20
_FULL_PAGE = 0.9  # an image covering this share of the page is the page
_NUMBER = rb"([-+]?(?:\d+\.?\d*|\.\d+))"
_CM = re.compile(rb"\s+".join([_NUMBER] * 6) + rb"\s+cm\b")  # a content-stream matrix


class Limits(BaseModel):
    """What one uploaded file may cost. Pixel counts are checked before anything is decoded."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_bytes: int = Field(20 * MiB, gt=0)
    max_pages: int = Field(20, gt=0)
    max_pixels: int = Field(40_000_000, gt=0, description="per page or embedded image")
    max_total_pixels: int = Field(200_000_000, gt=0, description="all image pages of one file")
    render_dpi: int = Field(200, ge=72, le=600)
    max_seconds: float = Field(60.0, gt=0)
    max_content_bytes: int = Field(
        16 * MiB, gt=0, description="a PDF page's drawing instructions, once inflated"
    )

    def deadline(self) -> Deadline:
        return Deadline(self.max_seconds)


class Deadline:
    """A time budget checked cooperatively between pages and before OCR; never a hard kill."""

    def __init__(self, seconds: float, *, clock: Callable[[], float] = time.monotonic) -> None:
        self.seconds = seconds
        self._clock = clock
        self._end = clock() + seconds

    @property
    def remaining(self) -> float:
        return max(0.0, self._end - self._clock())

    def check(self) -> None:
        if self._clock() >= self._end:
            raise ProcessingTimeout(f"文件处理超时（超过 {self.seconds:g} 秒），请减少页数后重试")


@dataclass(frozen=True)
class ImagePage:
    """A page that needs OCR: ``image`` is H×W×3 uint8 RGB, upright (EXIF applied)."""

    index: int
    image: NDArray[np.uint8]
    origin: Literal["image", "pdf_embedded", "pdf_render"]
    dpi: float | None = None  # pixels per inch of the PDF page; None for a plain image

    @property
    def width(self) -> int:
        return int(self.image.shape[1])

    @property
    def height(self) -> int:
        return int(self.image.shape[0])


PageInput = PageText | ImagePage


@dataclass(frozen=True)
class Document:
    media_type: str
    pages: list[PageInput]
    filename: str | None = None


def load_document(
    data: bytes,
    *,
    filename: str | None = None,
    declared_type: str | None = None,
    limits: Limits,
    deadline: Deadline | None = None,
) -> Document:
    """Check ``data`` against ``limits`` and decode it into pages, or raise an ExtractionError."""
    if not data:
        raise UnreadableFile("文件为空（0 字节），请重新上传")
    if len(data) > limits.max_bytes:
        raise FileTooLarge(
            f"文件大小 {size_text(len(data))} 超过上限 {size_text(limits.max_bytes)}，"
            "请压缩后重新上传"
        )
    media_type = sniff_media_type(data)
    check_declared(declared_type, media_type)
    if media_type not in SUPPORTED:
        raise UnsupportedMedia(f"不支持的文件类型：{media_name(media_type)}，{SUPPORTED_HINT}")
    if deadline is None:
        deadline = limits.deadline()
    pages: list[PageInput]
    if media_type == PDF:
        pages = _load_pdf(data, limits, deadline)
    elif media_type == OFD:
        pages = list(load_ofd(data, limits, deadline))
    else:
        pages = _load_image(data, media_type, limits, deadline)
    return Document(media_type=media_type, pages=pages, filename=filename)


# --- PDF ----------------------------------------------------------------------------------------


class _PixelBudget:
    """Counts decoded pixels across one file's image pages."""

    def __init__(self, limits: Limits) -> None:
        self.limits = limits
        self.used = 0

    def take(self, pixels: int, page: int) -> None:
        if pixels > self.limits.max_pixels:
            raise ImageTooLarge(
                f"第 {page + 1} 页图像 {pixels / 1e6:.0f} 百万像素，"
                f"超过上限 {self.limits.max_pixels / 1e6:.0f} 百万像素"
            )
        if self.used + pixels > self.limits.max_total_pixels:
            raise ImageTooLarge(
                f"文件图像总像素超过上限 {self.limits.max_total_pixels / 1e6:.0f} 百万像素，"
                "请降低扫描分辨率或减少页数"
            )
        self.used += pixels


def _load_pdf(data: bytes, limits: Limits, deadline: Deadline) -> list[PageInput]:
    # MuPDF quietly rebuilds a cut-off file from what is left; a missing %%EOF is the tell.
    if b"%%EOF" not in data[-2048:]:
        raise UnreadableFile("PDF 文件不完整（可能上传或下载中断），请重新上传完整文件")
    with _MUPDF_LOCK:
        try:
            doc = pymupdf.open(stream=data, filetype="pdf")
        except Exception as exc:  # MuPDF raises several unrelated types for bad input
            raise UnreadableFile("PDF 文件已损坏，无法打开") from exc
        with doc:
            if doc.needs_pass:
                raise EncryptedFile("文件已加密，请上传未加密的文件")
            count = doc.page_count
            if count == 0:
                raise UnreadableFile("PDF 文件没有页面")
            if count > limits.max_pages:
                raise TooManyPages(f"文件共 {count} 页，超过上限 {limits.max_pages} 页")
            budget = _PixelBudget(limits)
            pages: list[PageInput] = []
            for index in range(count):
                deadline.check()
                try:
                    pages.append(_pdf_page(doc, index, limits, budget))
                except MatcherError:
                    raise
                except MemoryError as exc:
                    raise FileTooLarge(f"第 {index + 1} 页解码所需内存过大") from exc
                except Exception as exc:  # MuPDF's failure on hostile input must not be a 500
                    log.info("PDF page %d unreadable: %r", index + 1, exc)
                    raise UnreadableFile(f"PDF 第 {index + 1} 页已损坏，无法读取") from exc
            return pages


def _pdf_page(doc: pymupdf.Document, index: int, limits: Limits, budget: _PixelBudget) -> PageInput:
    page = doc.load_page(index)
    check_content_streams(doc, page, index, limits)
    lines = _text_lines(page, index)
    chars = sum(len(line.text.replace(" ", "")) for line in lines)
    real = _is_real_text(lines)
    if real and chars >= _MIN_TEXT_OVER_SCAN:
        return _text_page(page, index, lines)
    _check_embedded_images(page, index, limits)
    scan = _full_page_image(page)
    if real and scan is None:
        return _text_page(page, index, lines)
    if scan is not None:
        pixmap = pymupdf.Pixmap(doc, scan)
        budget.take(pixmap.width * pixmap.height, index)
        dpi = pixmap.width / (page.rect.width / 72)
        return ImagePage(index, _rgb_array(pixmap), "pdf_embedded", dpi)
    return _render(page, index, limits, budget)


def _text_page(page: pymupdf.Page, index: int, lines: list[TextLine]) -> PageText:
    rect = page.rect
    return PageText(index, rect.width, rect.height, lines, "text_layer", page.rotation)


def _text_lines(page: pymupdf.Page, index: int) -> list[TextLine]:
    """One TextLine per PDF text line, in reading order, boxes in points as the page is shown.

    The characters of a seal (印章) are text too, but reading them into the row they cross would
    corrupt its value: text in seal red is dropped (as ``without_seal_ink`` drops red pixels), and
    only lines written in the page's main direction are kept (the arc of a seal drawn in another
    colour).
    """
    content = page.get_text("dict", flags=_TEXT_FLAGS, sort=True)
    turn = page.rotation_matrix if page.rotation else None
    found: list[tuple[TextLine, tuple[int, int]]] = []
    weight: Counter[tuple[int, int]] = Counter()
    for block in content["blocks"]:
        for line in block.get("lines", ()):
            spans = [span for span in line["spans"] if not _is_seal_red(span.get("color", 0))]
            text = "".join(span["text"] for span in spans).strip()
            if not text:
                continue
            rect = pymupdf.Rect(line["bbox"])
            if len(spans) < len(line["spans"]):
                rect = pymupdf.Rect()
                for span in spans:
                    rect |= pymupdf.Rect(span["bbox"])
            dx, dy = line["dir"]
            if turn is not None:
                rect = rect * turn
                dx, dy = dx * turn.a + dy * turn.c, dx * turn.b + dy * turn.d
            direction = (round(dx * 10), round(dy * 10))  # about 6° steps
            weight[direction] += len(text)
            found.append(
                (TextLine(text, 1.0, Box(rect.x0, rect.y0, rect.x1, rect.y1), index), direction)
            )
    if not weight:
        return []
    main = weight.most_common(1)[0][0]
    return [line for line, direction in found if direction == main]


SEAL_RED_MARGIN = 60
"""Seal ink (印章), in a text layer's colours or a scan's pixels: red above both green and blue
by more than this (0–255). Printed text is black or dark; seals are red."""


def _is_seal_red(srgb: int) -> bool:
    """A span colour (0xRRGGBB) of seal ink."""
    red, green, blue = (srgb >> 16) & 0xFF, (srgb >> 8) & 0xFF, srgb & 0xFF
    return red - max(green, blue) > SEAL_RED_MARGIN


def _is_real_text(lines: list[TextLine]) -> bool:
    """Text that says something: fonts without a Unicode map give U+FFFD or private-use codes."""
    chars = "".join(line.text for line in lines).replace(" ", "")
    if not chars:
        return False
    junk = sum(1 for c in chars if c == "\ufffd" or "\ue000" <= c <= "\uf8ff" or ord(c) < 32)
    return junk / len(chars) < 0.3


def _full_page_image(page: pymupdf.Page) -> int | None:
    """The xref of the one upright image that is the whole page, if the page is such a scan.

    Only then is the embedded image the page as seen; a page that is turned, or whose image is
    masked, turned, flipped, inline or drawn in a form, is rendered instead. Everything here
    reads dictionaries and the content stream: MuPDF's image-info calls would decode the image.
    """
    images = page.get_images(full=True)
    if page.rotation or len(images) != 1 or images[0][1]:  # [1] is the soft mask's xref
        return None
    drawn = [bbox for kind, bbox in page.get_bboxlog() if kind == "fill-image"]
    if len(drawn) != 1:
        return None
    page_rect = page.rect
    covered = pymupdf.Rect(drawn[0]) & page_rect
    if covered.is_empty or covered.get_area() < _FULL_PAGE * page_rect.get_area():
        return None
    # Scanners write "q w 0 0 h x y cm /Im0 Do Q"; with one such matrix, w > 0 and h > 0 and
    # no shear mean the stored pixels are the page as shown.
    matrices = _CM.findall(page.read_contents())
    if len(matrices) != 1:
        return None
    a, b, c, d = (float(v) for v in matrices[0][:4])
    if a <= 0 or d <= 0 or abs(b) > 1e-6 or abs(c) > 1e-6:
        return None
    return int(images[0][0])


def _check_embedded_images(page: pymupdf.Page, index: int, limits: Limits) -> None:
    """Refuse oversized images from their dictionaries, before MuPDF decodes any of them."""
    sizes = [int(image[2]) * int(image[3]) for image in page.get_images(full=True)]
    if max(sizes, default=0) > limits.max_pixels or sum(sizes) > limits.max_total_pixels:
        megapixels = max(sizes) / 1e6
        raise ImageTooLarge(
            f"第 {index + 1} 页嵌入的图像像素过多（{megapixels:.0f} 百万像素），已拒绝处理"
        )


def _render(page: pymupdf.Page, index: int, limits: Limits, budget: _PixelBudget) -> ImagePage:
    rect = page.rect
    inches = max(rect.width / 72, 1e-3) * max(rect.height / 72, 1e-3)
    # A poster-sized page is drawn at a lower resolution rather than refused.
    dpi = min(float(limits.render_dpi), math.sqrt(limits.max_pixels / inches))
    budget.take(round(rect.width / 72 * dpi) * round(rect.height / 72 * dpi), index)
    pixmap = page.get_pixmap(dpi=max(1, int(dpi)), colorspace=pymupdf.csRGB, alpha=False)
    return ImagePage(index, _rgb_array(pixmap), "pdf_render", int(dpi))


def render_pdf_page(data: bytes, index: int, scale: float, max_pixels: int) -> Image.Image:
    """Page ``index`` of a PDF drawn at ``scale`` (1 = 72 DPI) as RGB, for people to look at:
    drawn smaller where that would pass ``max_pixels`` (a page with a huge MediaBox is a few
    hundred bytes), and under the lock all PDF work here takes."""
    with _MUPDF_LOCK, pymupdf.open(stream=data, filetype="pdf") as doc:
        page = doc[index]
        width, height = max(page.rect.width, 1.0), max(page.rect.height, 1.0)
        scale = min(scale, math.sqrt(max_pixels / (width * height)))
        pix = page.get_pixmap(
            matrix=pymupdf.Matrix(scale, scale), colorspace=pymupdf.csRGB, alpha=False
        )
        return Image.frombytes("RGB", (pix.width, pix.height), pix.samples)


def _pixels_readable() -> None:
    """A page that needs OCR is held as a numpy array, and numpy comes with the OCR engines
    (``matcher[ocr]``): without them such a page is refused with the extra to install."""
    if find_spec("numpy") is None:
        raise OcrUnavailable(
            "此文件需要 OCR 识别（扫描件、照片或无文字层的页面），本服务未安装 OCR 组件；"
            "请安装：pip install 'matcher[ocr]'",
            extra="ocr",
        )


def _rgb_array(pixmap: pymupdf.Pixmap) -> NDArray[np.uint8]:
    _pixels_readable()
    import numpy as np

    if pixmap.alpha:
        pixmap = pymupdf.Pixmap(pixmap, 0)
    if pixmap.n != 3:
        pixmap = pymupdf.Pixmap(pymupdf.csRGB, pixmap)
    rows = np.frombuffer(pixmap.samples_mv, dtype=np.uint8).reshape(pixmap.height, pixmap.stride)
    # A copy, so the array does not point into MuPDF memory that is freed with the pixmap.
    return rows[:, : pixmap.width * 3].reshape(pixmap.height, pixmap.width, 3).copy()


# --- images -------------------------------------------------------------------------------------

_PILLOW_FORMATS = {PNG: "PNG", JPEG: "JPEG", TIFF: "TIFF"}


def _load_image(
    data: bytes, media_type: str, limits: Limits, deadline: Deadline
) -> list[PageInput]:
    budget = _PixelBudget(limits)
    pages: list[PageInput] = []
    try:
        with warnings.catch_warnings():
            # Pillow's own bomb guard warns first and raises past twice its threshold.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data), formats=[_PILLOW_FORMATS[media_type]]) as image:
                frames = ImageSequence.Iterator(image) if media_type == TIFF else [image]
                for index, frame in enumerate(frames):
                    if index >= limits.max_pages:
                        raise TooManyPages(f"图片超过 {limits.max_pages} 页，请拆分后上传")
                    deadline.check()
                    width, height = frame.size  # from the header: nothing decoded yet
                    budget.take(width * height, index)
                    pages.append(ImagePage(index, _decode_frame(frame), "image"))
    except (Image.DecompressionBombWarning, Image.DecompressionBombError) as exc:
        raise ImageTooLarge("图片像素过多，疑似解压炸弹，已拒绝处理") from exc
    except MatcherError:
        raise
    except MemoryError as exc:
        raise FileTooLarge("图片解码所需内存过大") from exc
    except Exception as exc:  # truncated/corrupt data surfaces as OSError, SyntaxError, …
        log.info("image unreadable: %r", exc)
        raise UnreadableFile(f"{media_name(media_type)}已损坏或不完整，无法读取") from exc
    return pages


def _decode_frame(frame: Image.Image) -> NDArray[np.uint8]:
    _pixels_readable()
    frame.load()
    ImageOps.exif_transpose(frame, in_place=True)  # a copy of every page otherwise
    return _to_rgb(frame)


def _to_rgb(image: Image.Image) -> NDArray[np.uint8]:
    """The page's pixels as an H×W×3 array. An RGB page's array is read-only: it is Pillow's own
    bytes, not a copy of them (an A4 page is 11.6 MB); nothing writes into a page's pixels."""
    import numpy as np

    mode = image.mode
    if mode == "RGB":
        return np.asarray(image, dtype=np.uint8)
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and float scans: scale into 0..255 instead of clipping everything to white.
        values = np.asarray(image, dtype=np.float64)
        top = float(values.max()) if values.size else 0.0
        scale = 255.0 / (65535.0 if top > 255 and mode.startswith("I;16") else max(top, 255.0))
        grey = np.clip(values * scale, 0, 255).astype(np.uint8)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "P":
        image = image.convert("RGBA")
        mode = "RGBA"
    if mode in ("LA", "La", "PA", "RGBA", "RGBa"):
        # Text drawn on transparency would vanish on black; scans are read on white paper.
        rgba = image.convert("RGBA")
        paper = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        image = Image.alpha_composite(paper, rgba)
    return np.array(image.convert("RGB"), dtype=np.uint8)
