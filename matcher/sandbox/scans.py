"""Sample uploads for the demo: a sandbox holder's ID card (人像面) as a born-digital PDF.

Printed from the registry's own surface fields, with any of them changed — an address the holder
has since moved from, say — so the demo shows an upload that disagrees with the registry.
"""

from __future__ import annotations

import functools
from pathlib import Path

import pymupdf

from matcher.sandbox.samples import load_samples

__all__ = ["ID_CARD_TYPE", "id_card_pdf"]

ID_CARD_TYPE = "11100000000013888E001"
# The card face, in points (85.6 × 54 mm at 3×).
WIDTH, HEIGHT = 728.0, 459.0


@functools.cache
def _cjk() -> pymupdf.Font:
    return pymupdf.Font("cjk")


def id_card_pdf(holder_id: str, data_dir: Path | None = None, **changed: str) -> bytes:
    """The 人像面 of ``holder_id``'s 居民身份证 from the sandbox data, surface fields ``changed``
    (keys as printed: 住址, 姓名 …). KeyError when the holder has no such licence."""
    surface = next(
        dict(e.record["surface"])
        for e in load_samples(data_dir).licences
        if e.record["type_code"] == ID_CARD_TYPE and e.record["holder"]["id"] == holder_id
    )
    surface |= changed
    doc = pymupdf.open()
    page = doc.new_page(width=WIDTH, height=HEIGHT)
    page.insert_font(fontname="cjk", fontbuffer=_cjk().buffer)
    page.draw_rect(
        pymupdf.Rect(8, 8, WIDTH - 8, HEIGHT - 8), color=(0.6, 0.7, 0.8), width=2, radius=0.05
    )
    label, value = (0.2, 0.4, 0.6), (0, 0, 0)

    def put(x: float, y: float, text: str, color: tuple[float, ...], size: float = 22) -> None:
        page.insert_text((x, y), text, fontname="cjk", fontsize=size, color=color)

    put(50, 80, "姓名", label)
    put(150, 80, surface["姓名"], value, 26)
    put(50, 140, "性别", label)
    put(150, 140, surface["性别"], value)
    put(260, 140, "民族", label)
    put(360, 140, surface["民族"], value)
    put(50, 200, "出生", label)
    put(150, 200, surface["出生"], value)
    put(50, 260, "住址", label)
    address = surface["住址"]
    for i in range(0, len(address), 14):
        put(150, 260 + (i // 14) * 34, address[i : i + 14], value)
    put(50, 410, "公民身份号码", label)
    put(250, 410, surface["公民身份号码"], value, 26)
    data: bytes = doc.tobytes(garbage=3, deflate=True)
    doc.close()
    return data
