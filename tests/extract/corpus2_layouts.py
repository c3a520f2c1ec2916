"""Page layouts of the second test corpus: other styles than the first corpus draws.

Each layout takes the printed values (``p``, field name → text as printed, plus the labels this
sample prints in ``p["labels"]``) and draws a page with Pillow. Sizes are pixels: cards at 300
DPI (1012 × 638), A4 pages at 200 DPI (1654 × 2339).
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping
from typing import Any

from tests.extract.corpus2_draw import INK, LABEL_BLUE, Canvas

__all__ = ["A4", "CARD", "LAYOUTS"]

CARD = (1012, 638)
A4 = (1654, 2339)
Printed = Mapping[str, Any]
Layout = Callable[[Canvas, Printed, random.Random], None]


# ── 居民身份证 ────────────────────────────────────────────────────────────────────────────────


def _card_background(c: Canvas, rng: random.Random) -> None:
    d = c.draw
    for k in range(0, CARD[1], 9):  # a faint guilloche of lines
        d.line([(0, k), (CARD[0], k + rng.randint(-6, 6))], fill=(226, 232, 236), width=1)
    d.rounded_rectangle(
        [4, 4, CARD[0] - 5, CARD[1] - 5], radius=36, outline=(180, 190, 200), width=3
    )


def card_front(c: Canvas, p: Printed, rng: random.Random) -> None:
    """The 2nd-generation card: blue labels, the birth date spaced out, a mono-face number."""
    _card_background(c, rng)
    c.draw.rectangle([690, 70, 950, 400], fill=(232, 236, 240))
    c.draw.ellipse([760, 120, 880, 250], fill=(200, 205, 212))
    c.draw.ellipse([720, 250, 920, 420], fill=(200, 205, 212))
    labels = p["labels"]
    c.label(60, 64, labels["name"], 30, fill=LABEL_BLUE, width=80)
    c.text(190, 58, p["name"], 40)
    c.label(60, 144, labels["sex"], 30, fill=LABEL_BLUE, width=80)
    c.text(190, 140, p["sex"], 36)
    c.label(330, 144, labels["ethnicity"], 30, fill=LABEL_BLUE, width=80)
    c.text(440, 140, p["ethnicity"], 36)
    c.label(60, 224, labels["birth_date"], 30, fill=LABEL_BLUE, width=80)
    year, month, day = p["birth_parts"]
    x = c.text(190, 220, year, 36, face="mono")
    x = c.text(x + 10, 220, "年", 34)
    x = c.text(x + 22, 220, month, 36, face="mono")
    x = c.text(x + 10, 220, "月", 34)
    x = c.text(x + 22, 220, day, 36, face="mono")
    c.text(x + 10, 220, "日", 34)
    c.label(60, 304, labels["address"], 30, fill=LABEL_BLUE, width=80)
    c.wrapped(190, 300, p["address"], 440, 34, 50)
    c.label(60, 530, labels["id_number"], 30, fill=LABEL_BLUE)
    c.text(330, 524, p["id_number"], 42, face="mono", gap=0.08)


def card_front_specimen(c: Canvas, p: Printed, rng: random.Random) -> None:
    """A sample card as some systems print it: black labels with colons, other label words."""
    _card_background(c, rng)
    labels = p["labels"]
    y = 60
    for name in ("name", "sex", "ethnicity", "birth_date"):
        x = c.label(56, y, f"{labels[name]}：", 30)
        c.text(x + 6, y - 2, p[name], 34)
        y += 76
    x = c.label(56, y, f"{labels['address']}：", 30)
    c.wrapped(x + 6, y - 2, p["address"], 560, 32, 46)
    c.label(56, 540, labels["id_number"], 28)
    c.text(330, 536, p["id_number"], 38, face="mono")


def card_back(c: Canvas, p: Printed, rng: random.Random) -> None:
    _card_background(c, rng)
    c.draw.ellipse([60, 50, 230, 220], outline=(190, 150, 40), width=8)
    c.draw.ellipse([115, 105, 175, 165], fill=(190, 150, 40))
    c.text(320, 70, "中华人民共和国", 50, face=c.label_face)
    c.text(330, 150, "居民身份证", 70, face=c.label_face, gap=0.3)
    c.label(150, 420, p["labels"]["issuer"], 30, width=124)
    c.text(320, 416, p["issuer"], 34)
    c.label(150, 500, p["labels"]["valid_period"], 30, width=124)
    c.text(320, 496, p["valid_period"], 34)


# ── 营业执照 ──────────────────────────────────────────────────────────────────────────────────


def _licence_frame(c: Canvas, rng: random.Random) -> None:
    c.frame(70, 70, A4[0] - 70, A4[1] - 70, width=10, fill=(150, 110, 50))
    c.frame(95, 95, A4[0] - 95, A4[1] - 95, width=3, fill=(150, 110, 50))
    c.text(540, 160, "营业执照", 120, face=c.label_face, gap=0.4)
    c.text(740, 310, "（副　本）", 36)


def _authority_block(c: Canvas, p: Printed, x: int, y: int) -> None:
    c.label(x, y, "登记机关", 32)
    c.text(x + 190, y, p["registration_authority"], 34)
    c.text(x + 260, y + 80, p["registered_on"], 34)
    c.seal(x + 420, y + 60, 150, p["registration_authority"])


def licence_2019(c: Canvas, p: Printed, rng: random.Random) -> None:
    """Two columns, wide-spaced labels, the code beside its label, a seal over the date."""
    _licence_frame(c, rng)
    labels = p["labels"]
    c.label(150, 400, "统一社会信用代码", 30)
    c.text(430, 396, p["uscc"], 36, face="mono")
    c.qr(1290, 360, 200, rng)
    left = [n for n in ("name", "company_type", "legal_representative") if n in p]
    right = [n for n in ("registered_capital", "established_on", "business_term") if n in p]

    def pair(x: int, y: int, name: str, value_x: int, width: int, size: int = 32) -> None:
        label = labels[name]
        end = c.label(x, y, label, 32, width=150 if len(label) <= 4 else 0)
        start = max(value_x, int(end) + 24)  # a long label (执行事务合伙人) pushes its value right
        c.wrapped(start, y - 2, p[name], width - (start - value_x), size, 44)

    for k, name in enumerate(left):
        pair(150, 620 + 110 * k, name, 340, 480)
    for k, name in enumerate(right):
        pair(880, 620 + 110 * k, name, 1080, 430)
    pair(150, 620 + 110 * len(left), "business_scope", 340, 480, size=30)
    pair(880, 620 + 110 * len(right), "address", 1080, 430)
    _authority_block(c, p, 880, 1880)
    c.text(200, 2130, "国家企业信用信息公示系统网址：http://www.gsxt.gov.cn", 24)
    c.text(660, 2200, "国家市场监督管理总局监制", 26)


def licence_2015(c: Canvas, p: Printed, rng: random.Random) -> None:
    """One column, labels with a full-width colon glued to the value."""
    _licence_frame(c, rng)
    labels = p["labels"]
    c.text(880, 380, f"统一社会信用代码　{p['uscc']}", 30)
    y = 520
    order = (
        "name",
        "company_type",
        "address",
        "legal_representative",
        "registered_capital",
        "established_on",
        "business_term",
        "business_scope",
    )
    for name in order:
        if name not in p:
            continue
        x = c.label(220, y, f"{labels[name]}：", 34)
        lines = c.wrapped(x + 4, y, p[name], 1420 - x, 34, 50)
        y += 50 * lines + 44
    _authority_block(c, p, 820, max(y + 80, 1850))


def licence_table(c: Canvas, p: Printed, rng: random.Random) -> None:
    """A ruled table with a narrow label column: long labels wrap, 经营范围 is set vertically."""
    _licence_frame(c, rng)
    labels = p["labels"]
    x0, xl, x1 = 160, 330, 1500
    y = 430
    order = (
        "uscc",
        "name",
        "company_type",
        "legal_representative",
        "registered_capital",
        "established_on",
        "business_term",
        "address",
        "business_scope",
    )
    c.rule(x0, y, x1, y)
    for name in order:
        if name not in p:
            continue
        label = labels[name] if name != "uscc" else "统一社会信用代码"
        value = p[name]
        if name == "business_scope":
            lines = max(len(label), 1 + int(len(value) * 32 / 1100))
            height = 56 * lines + 40
            c.vertical(
                225, y + 30, label, 32, (height - 60) / (len(label) - 1) if len(label) > 1 else 0
            )
            c.wrapped(xl + 30, y + 30, value, 1100, 32, 52)
        else:
            height = 120
            if len(label) > 4:  # two lines in the narrow cell: 法定代 / 表人, 统一社会 / 信用代码
                half = (len(label) + 1) // 2
                c.label(x0 + 20, y + 18, label[:half], 30)
                c.label(x0 + 20, y + 66, label[half:], 30)
            else:
                c.label(x0 + 20, y + 42, label, 32, width=128)
            face = "mono" if name == "uscc" else None
            c.text(xl + 30, y + 40, value, 34, face=face)
        y += height
        c.rule(x0, y, x1, y)
    c.rule(x0, 430, x0, y)
    c.rule(xl, 430, xl, y)
    c.rule(x1, 430, x1, y)
    _authority_block(c, p, 820, y + 120)


# ── 社会保险参保证明 ───────────────────────────────────────────────────────────────────────────


def insurance_table(c: Canvas, p: Printed, rng: random.Random) -> None:
    labels = p["labels"]
    c.text(560, 200, "社会保险参保证明", 64, face=c.label_face)
    c.text(160, 330, f"编号：{p['serial']}", 26)
    cols = (160, 420, 820, 1080, 1500)
    rows = [
        (("name", "id_number"),),
        (("employer",),),
        (("insurance_status", "insured_since"),),
        (("paid_months", None),),
    ]
    y = 400
    c.rule(cols[0], y, cols[-1], y)
    for (names,) in rows:
        for k, name in enumerate(names):
            if name is None:
                c.label(cols[2] + 16, y + 40, "参保地", 30)
                c.text(cols[3] + 16, y + 38, p["place"], 30)
                continue
            c.label(cols[2 * k] + 16, y + 40, labels[name], 30)
            face = "mono" if name == "id_number" else None
            c.text(cols[2 * k + 1] + 16, y + 38, p[name], 30, face=face)
        y += 120
        c.rule(cols[0], y, cols[-1], y)
    for x in cols:
        c.rule(x, 400, x, y)
    c.wrapped(160, y + 80, p["notice"], 1330, 28, 44)
    c.text(160, y + 300, f"打印日期：{p['printed_on']}", 28)
    c.text(1000, y + 300, f"经办机构：{p['office']}", 28)
    c.seal(1200, y + 300, 130, p["office"])


def insurance_lines(c: Canvas, p: Printed, rng: random.Random) -> None:
    labels = p["labels"]
    c.text(470, 180, "参保缴费证明（个人）", 60, face=c.label_face)
    y = 380
    x = c.label(160, y, f"{labels['name']}：", 32)
    c.text(x, y, p["name"], 32)
    x = c.label(720, y, f"{labels['id_number']}：", 32)
    c.text(x, y, p["id_number"], 32, face="mono")
    for name in ("employer", "insurance_status", "insured_since", "paid_months"):
        y += 100
        x = c.label(160, y, f"{labels[name]}：", 32)
        c.text(x, y, p[name], 32)
    c.wrapped(160, y + 140, p["notice"], 1330, 28, 44)
    c.text(1000, y + 380, f"打印日期：{p['printed_on']}", 28, fill=INK)
    c.seal(1160, y + 360, 130, p["office"])


LAYOUTS: Mapping[str, Mapping[str, Layout]] = {
    "id_card_front": {"card": card_front, "specimen": card_front_specimen},
    "id_card_back": {"card": card_back},
    "business_licence": {"2019": licence_2019, "2015": licence_2015, "table": licence_table},
    "social_insurance_certificate": {"table": insurance_table, "lines": insurance_lines},
}
