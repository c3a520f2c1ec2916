"""Realistic Chinese document images for OCR tests and benchmarks, drawn with PyMuPDF's CJK font.

The documents are fictitious. CJK runs use PyMuPDF's built-in ``cjk`` font and ASCII runs
Helvetica, as printed licences do (the CJK font sets digits in full-width cells).
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from matcher.extract.ocr.base import Image

__all__ = [
    "ID_CARD_KEYS",
    "LICENCE_KEYS",
    "Text",
    "id_card_image",
    "licence_image",
    "normalise",
    "render",
]


@dataclass(frozen=True)
class Text:
    """A line of text at ``(x, y)`` (baseline, in points) on the drawn page."""

    x: float
    y: float
    text: str
    size: float = 12.0


LICENCE_LINES: tuple[Text, ...] = (
    Text(232, 110, "营业执照", 32),
    Text(60, 180, "统一社会信用代码 91330900MA2A0B3C45", 13),
    Text(60, 250, "名称 舟山蓝海建设有限公司", 13),
    Text(60, 290, "类型 有限责任公司（自然人投资或控股）", 13),
    Text(60, 330, "法定代表人 王海明", 13),
    Text(60, 370, "经营范围 房屋建筑工程、港口与航道工程施工；建筑材料销售", 13),
    Text(60, 410, "注册资本 伍仟万元整", 13),
    Text(60, 450, "成立日期 2019年03月18日", 13),
    Text(60, 490, "营业期限 2019年03月18日至长期", 13),
    Text(60, 530, "住所 浙江省舟山市定海区临城街道海天大道100号", 13),
    Text(330, 700, "登记机关 舟山市市场监督管理局", 12),
    Text(380, 730, "2023年05月10日", 12),
)
LICENCE_KEYS = (
    "营业执照",
    "统一社会信用代码",
    "91330900MA2A0B3C45",
    "舟山蓝海建设有限公司",
    "浙江省舟山市定海区临城街道海天大道100号",
    "王海明",
)

ID_CARD_LINES: tuple[Text, ...] = (
    Text(30, 50, "姓名 李晓红", 14),
    Text(30, 90, "性别 女    民族 汉", 14),
    Text(30, 130, "出生 1990年5月12日", 14),
    Text(30, 170, "住址 浙江省舟山市定海区", 14),
    Text(64, 195, "环城南路18号", 14),
    Text(30, 280, "公民身份号码 330902199005120027", 15),
)
ID_CARD_KEYS = ("李晓红", "浙江省舟山市定海区", "公民身份号码", "330902199005120027")


def normalise(text: str) -> str:
    """Text without whitespace: engines differ in where they put spaces."""
    return "".join(text.split())


def render(
    lines: Sequence[Text],
    page_size: tuple[float, float],
    pixels: tuple[int, int],
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
) -> Image:
    """Draw ``lines`` on a page of ``page_size`` points and render it to ``pixels`` (W, H) RGB."""
    import pymupdf

    cjk, latin = pymupdf.Font("cjk"), pymupdf.Font("helv")
    doc = pymupdf.open()
    page = doc.new_page(width=page_size[0], height=page_size[1])
    page.draw_rect(page.rect, color=None, fill=background)
    writer = pymupdf.TextWriter(page.rect)
    for line in lines:
        pos = pymupdf.Point(line.x, line.y)
        for ascii_run, chars in itertools.groupby(line.text, key=lambda c: ord(c) < 128):
            font = latin if ascii_run else cjk
            _, pos = writer.append(pos, "".join(chars), font=font, fontsize=line.size)
    writer.write_text(page)
    matrix = pymupdf.Matrix(pixels[0] / page_size[0], pixels[1] / page_size[1])
    pix = page.get_pixmap(matrix=matrix, alpha=False)
    image = np.frombuffer(pix.samples, dtype=np.uint8).reshape(pix.height, pix.width, pix.n)
    return np.ascontiguousarray(image[: pixels[1], : pixels[0], :3])


def licence_image(pixels: tuple[int, int] = (1654, 2339)) -> Image:
    """A business-licence-like A4 page (200 DPI by default)."""
    return render(LICENCE_LINES, (595.0, 842.0), pixels)


def id_card_image(pixels: tuple[int, int] = (1000, 630)) -> Image:
    """The front of an ID-card-like card."""
    return render(ID_CARD_LINES, (500.0, 315.0), pixels, background=(0.93, 0.95, 0.97))
