"""The named normalisers, validators and cross-field checks that document kinds refer to.

- A **normaliser** changes only the form of a value (``2021年3月4日`` → ``2021-03-04``); when it
  does not recognise the form it raises :class:`NormaliseFailed` with a zh-CN reason. It never
  repairs content: ``33O9…`` stays ``33O9…``.
- A **validator** judges a normalised value and returns a zh-CN reason, or ``None`` when it passes.
- A **cross-field check** judges several fields together (the ID card's 出生 against the number);
  they live in :mod:`matcher.extract.crosschecks` and are re-exported here.

The YAML schema lists the same names (``schemas/doc-kind.schema.json``); a test keeps them equal.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import Any

from matcher.catalog.ids import check_citizen_id, check_uscc
from matcher.errors import InvalidIdentifier
from matcher.extract.crosschecks import CROSS_CHECKS, CrossCheck

__all__ = [
    "CROSS_CHECKS",
    "NORMALISERS",
    "OPEN_END",
    "VALIDATORS",
    "CrossCheck",
    "NormaliseFailed",
    "normalise",
    "validate",
]

OPEN_END = "长期"  # how a normalised range spells "no end date"


class NormaliseFailed(ValueError):
    """A value whose form a normaliser does not recognise; ``str()`` is the zh-CN reason."""


# ── normalisers ──────────────────────────────────────────────────────────────────────────────

_FULLWIDTH = {code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F)} | {0x3000: 0x20}
_DATE = r"\d{4}\s*[年./\-－]\s*\d{1,2}\s*[月./\-－]\s*\d{1,2}\s*日?|\d{8}"
_DATE_PARTS = re.compile(r"(\d{4})\s*[年./\-－]\s*(\d{1,2})\s*[月./\-－]\s*(\d{1,2})\s*日?")
_RANGE = re.compile(
    rf"(?:(?P<start>{_DATE})\s*(?P<from>起)?\s*(?:[-－—–~～至到]\s*)?)?"
    rf"(?P<end>{_DATE}|长期|永久|长期有效)?\s*(?P<until>止)?"
)


def strip_spaces(value: str) -> str:
    return "".join(value.split())


def upper(value: str) -> str:
    return value.upper()


def fullwidth_to_halfwidth(value: str) -> str:
    return value.translate(_FULLWIDTH)


def date_cn(value: str) -> str:
    """``2021年3月4日`` / ``2021.03.04`` / ``2021-3-4`` / ``20210304`` → ``2021-03-04``.

    Only the form changes: ``2021年2月30日`` becomes ``2021-02-30``, which the ``date`` validator
    then rejects.
    """
    # OCR spaces out digits set in a wide face ("1 9 8 2年3 月"); blanks never mean anything here.
    text = strip_spaces(fullwidth_to_halfwidth(value))
    if re.fullmatch(r"\d{8}", text):
        return f"{text[:4]}-{text[4:6]}-{text[6:]}"
    match = _DATE_PARTS.fullmatch(text)
    if match is None:
        raise NormaliseFailed(f"无法识别的日期：{value}")
    year, month, day = match.groups()
    return f"{year}-{int(month):02d}-{int(day):02d}"


def date_range(value: str) -> str:
    """A validity period → ``start/end``; an open end is ``长期``; a missing start is empty.

    ``2021.06.08-2041.06.08`` → ``2021-06-08/2041-06-08``; ``2021.06.08-长期`` →
    ``2021-06-08/长期``; ``2082年05月31日止`` → ``/2082-05-31``.
    """
    text = strip_spaces(fullwidth_to_halfwidth(value))
    match = _RANGE.fullmatch(text)
    if match is None or not (match["start"] or match["end"]):
        raise NormaliseFailed(f"无法识别的期限：{value}")
    start, end = match["start"], match["end"]
    if start and not end and not match["from"] and not match["until"]:
        raise NormaliseFailed(f"无法识别的期限：{value}")
    if start and not end and match["until"]:
        start, end = None, start  # "2082年05月31日止": the one date is the end
    start_text = date_cn(start) if start else ""
    if end is None:
        end_text = ""
    elif end.startswith(("长期", "永久")):
        end_text = OPEN_END
    else:
        end_text = date_cn(end)
    return f"{start_text}/{end_text}"


_CN_DIGITS = {
    **dict.fromkeys("零〇", 0),
    **dict.fromkeys("壹一", 1),
    **dict.fromkeys("贰贳二两", 2),
    **dict.fromkeys("叁三", 3),
    **dict.fromkeys("肆四", 4),
    **dict.fromkeys("伍五", 5),
    **dict.fromkeys("陆六", 6),
    **dict.fromkeys("柒七", 7),
    **dict.fromkeys("捌八", 8),
    **dict.fromkeys("玖九", 9),
}
_CN_SMALL_UNITS = {
    **dict.fromkeys("拾十", 10),
    **dict.fromkeys("佰百", 100),
    **dict.fromkeys("仟千", 1000),
}
_CN_BIG_UNITS = {"万": 10_000, "亿": 100_000_000}
_FOREIGN_CURRENCY = ("美元", "港元", "港币", "欧元", "日元", "英镑")


def money_cn(value: str) -> str:
    """A yuan amount in capital numerals or digits → yuan with two decimals.

    ``伍仟万元整`` / ``人民币5000万元`` / ``5,000万元人民币`` → ``50000000.00``.
    """
    text = strip_spaces(fullwidth_to_halfwidth(value)).replace(",", "")
    if any(currency in text for currency in _FOREIGN_CURRENCY):
        raise NormaliseFailed(f"不是人民币金额：{value}")
    text = text.replace("人民币", "").removesuffix("整").removesuffix("正")
    digits = re.fullmatch(r"(\d+(?:\.\d+)?)([万亿]?)[元圆]?", text)
    if digits is not None:
        amount = Decimal(digits[1]) * _CN_BIG_UNITS.get(digits[2], 1)
        return f"{amount.quantize(Decimal('0.01'))}"
    numerals = _CAPITAL.fullmatch(text)
    if numerals is None or not any(numerals.groups()):
        raise NormaliseFailed(f"无法识别的金额：{value}")
    amount = Decimal(_cn_integer(numerals["yuan"], value))
    for part, scale in ((numerals["jiao"], Decimal("0.1")), (numerals["fen"], Decimal("0.01"))):
        if part:
            amount += _cn_integer(part, value) * scale
    return f"{amount.quantize(Decimal('0.01'))}"


_CAPITAL = re.compile(r"(?P<yuan>[^元圆角分]*)(?:[元圆]零?(?:(?P<jiao>.)角)?(?:(?P<fen>.)分)?)?")


def _cn_integer(text: str, original: str) -> int:
    total = section = digit = 0
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_SMALL_UNITS:
            section += (digit or 1) * _CN_SMALL_UNITS[char]
            digit = 0
        elif char == "万":
            total += (section + digit) * 10_000
            section = digit = 0
        elif char == "亿":  # the largest unit: everything read so far counts hundreds of millions
            total = (total + section + digit) * 100_000_000
            section = digit = 0
        else:
            raise NormaliseFailed(f"无法识别的金额：{original}")
    return total + section + digit


def integer(value: str) -> str:
    """``268`` / ``268个月`` / ``共268月`` → ``268``."""
    match = re.fullmatch(
        r"[^\d]{0,2}(\d+)\s*(?:个月|月|个)?", fullwidth_to_halfwidth(value).strip()
    )
    if match is None:
        raise NormaliseFailed(f"无法识别的数字：{value}")
    return str(int(match[1]))


def ethnicity(value: str) -> str:
    """``汉族`` → ``汉``: the ID card prints the name without 族, the household register with it."""
    text = value.strip()
    return text[:-1] if len(text) > 1 and text.endswith("族") else text


_CJK = r"[\u3000-\u303f\u4e00-\u9fff\uff00-\uffef]"
_CJK_GAP = re.compile(rf"(?<={_CJK})\s+(?={_CJK})")
_AREA_UNIT = re.compile(r"(?<=\d)\s*(?:㎡|m²|m2|M2|平方米|m|M)(?![A-Za-z])")


def cjk_spacing(value: str) -> str:
    """Drop blanks between Chinese characters: they mean nothing in Chinese text, and OCR
    inserts them wherever a line has a gap."""
    return _CJK_GAP.sub("", value.strip())


_BRACKETS = str.maketrans("()", "（）")


def cjk_brackets(value: str) -> str:
    """Round brackets in a Chinese name full-width, as names are registered
    (``某某合伙企业（有限合伙）``): OCR reads a closing bracket as ``)`` as often as ``）``, which
    leaves a name with one of each."""
    if not re.search(_CJK, value):
        return value
    return value.translate(_BRACKETS)


def area(value: str) -> str:
    """Areas without their unit: a 不动产 area is in square metres, and OCR reads ㎡ as m, m2 or
    nothing at all."""
    return _AREA_UNIT.sub("", value)


NORMALISERS: Mapping[str, Callable[[str], str]] = {
    "strip_spaces": strip_spaces,
    "area": area,
    "cjk_brackets": cjk_brackets,
    "upper": upper,
    "fullwidth_to_halfwidth": fullwidth_to_halfwidth,
    "date_cn": date_cn,
    "date_range": date_range,
    "money_cn": money_cn,
    "integer": integer,
    "ethnicity": ethnicity,
}


@functools.cache
def _simplifier() -> Any:
    import opencc  # type: ignore[import-untyped, unused-ignore]

    return opencc.OpenCC("t2s")


def simplified(value: str) -> str:
    """Traditional characters as simplified ones (漢 → 汉, 區 → 区, 號 → 号).

    The documents are mainland ones, printed in simplified characters; OCR models trained on
    both scripts read a Song or Kai face's 汉 as 漢. Only the form changes, like NFKC.
    """
    if value.isascii():
        return value
    return str(_simplifier().convert(value))


def normalise(names: Sequence[str], value: str) -> str:
    """Blanks between Chinese characters go first and traditional characters become simplified,
    then the named normalisers run in order; NormaliseFailed from the first that cannot."""
    value = simplified(cjk_spacing(value))
    for name in names:
        value = NORMALISERS[name](value)
    return value


# ── validators ───────────────────────────────────────────────────────────────────────────────

Validator = Callable[[str, dt.date], str | None]


def _parse_date(value: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def citizen_id(value: str, today: dt.date) -> str | None:
    try:
        check_citizen_id(value, today=today)
    except InvalidIdentifier as exc:
        return str(exc)
    return None


def uscc(value: str, today: dt.date) -> str | None:
    try:
        check_uscc(value)
    except InvalidIdentifier as exc:
        return str(exc)
    return None


def date(value: str, today: dt.date) -> str | None:
    """A real calendar date written ``YYYY-MM-DD``."""
    return None if _parse_date(value) else f"不是有效日期：{value}"


def not_future(value: str, today: dt.date) -> str | None:
    """Not after today; a value that is not a date is left to the ``date`` validator."""
    day = _parse_date(value)
    return "日期晚于今天" if day is not None and day > today else None


def valid_date_range(value: str, today: dt.date) -> str | None:
    """``start/end`` from ``date_range``: each part a real date (or 长期), start not after end."""
    start, separator, end = value.partition("/")
    if not separator:
        return f"不是有效期限：{value}"
    first = _parse_date(start) if start else None
    last = _parse_date(end) if end and end != OPEN_END else None
    if (start and first is None) or (end and end != OPEN_END and last is None):
        return f"期限中的日期无效：{value}"
    if first is not None and last is not None and first > last:
        return "期限的起始日期晚于截止日期"
    return None


def sex(value: str, today: dt.date) -> str | None:
    return None if value in ("男", "女") else f"性别应为“男”或“女”：{value}"


def male(value: str, today: dt.date) -> str | None:
    return None if value == "男" else f"此处应为男方，读到的性别是：{value}"


def female(value: str, today: dt.date) -> str | None:
    return None if value == "女" else f"此处应为女方，读到的性别是：{value}"


VALIDATORS: Mapping[str, Validator] = {
    "citizen_id": citizen_id,
    "uscc": uscc,
    "date": date,
    "not_future": not_future,
    "date_range": valid_date_range,
    "sex": sex,
    "male": male,
    "female": female,
}


def validate(names: Sequence[str], value: str, *, today: dt.date | None = None) -> str | None:
    """The reason the first failing validator gives, or None when all pass."""
    day = today or dt.date.today()
    for name in names:
        reason = VALIDATORS[name](value, day)
        if reason is not None:
            return reason
    return None
