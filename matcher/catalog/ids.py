"""Holder identifiers: 公民身份号码 (GB 11643) and 统一社会信用代码 (GB 32100).

python-stdnum supplies the check-character arithmetic. Its full validators are not used on purpose:
``cn.ric.validate`` rejects real people whose area code is younger than they are (a resident
born in 1981 holds a 定海区 330902… number, an area created in 1987), and ``cn.uscc.validate``
rejects codes whose registration-authority character is a letter (``Y``).
"""

from __future__ import annotations

import datetime as dt
import re

from stdnum.cn import ric, uscc

from matcher.errors import InvalidIdentifier

__all__ = [
    "IdCheck",
    "check_citizen_id",
    "check_holder_id",
    "check_uscc",
    "is_citizen_id",
    "mask_id",
    "normalise_holder_id",
]

_CITIZEN_RE = re.compile(r"^[1-9]\d{16}[\dX]$")
_USCC_ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_RE = re.compile(rf"^[{_USCC_ALPHABET}]{{2}}\d{{6}}[{_USCC_ALPHABET}]{{10}}$")


class IdCheck:
    """The outcome of checking one identifier: its normal form and any flag to record."""

    __slots__ = ("flags", "value")

    def __init__(self, value: str, flags: tuple[str, ...] = ()) -> None:
        self.value = value
        self.flags = flags


def normalise_holder_id(id_type: str, value: str) -> str:
    """Strip blanks and upper-case, so ``…123x`` and ``…123X`` compare equal."""
    return "".join(value.split()).upper()


def check_citizen_id(value: str, *, today: dt.date | None = None) -> IdCheck:
    """18 characters, a real birth date not in the future, and the MOD 11-2 check digit."""
    number = normalise_holder_id("citizen_id", value)
    if not _CITIZEN_RE.fullmatch(number):
        raise InvalidIdentifier("公民身份号码应为18位：17位数字加1位校验码（数字或X）", field="id")
    try:
        # the digits are checked above; stdnum's get_birth_date would clean them again (a
        # third of a warm check's identifier work)
        born = dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise InvalidIdentifier("公民身份号码中的出生日期不是有效日期", field="id") from None
    if born > (today or dt.date.today()) or born.year < 1880:
        raise InvalidIdentifier("公民身份号码中的出生日期不合理", field="id")
    if ric.calc_check_digit(number) != number[-1]:
        raise InvalidIdentifier("公民身份号码校验码错误，请核对号码", field="id")
    return IdCheck(number)


def is_citizen_id(value: str) -> bool:
    """Whether ``value`` has a citizen ID's shape and check digit (its birth date untested):
    enough to know that a licence number is someone's ID number, to be masked when shown."""
    number = normalise_holder_id("citizen_id", value)
    return _CITIZEN_RE.fullmatch(number) is not None and ric.calc_check_digit(number) == number[-1]


def check_uscc(value: str, *, accept_pre_standard: bool = False) -> IdCheck:
    """18 characters of the GB 32100 alphabet and its MOD 31 check character.

    With ``accept_pre_standard`` a code whose only fault is its check character passes, flagged
    ``uscc_check_failed``: early pilot areas issued such codes before the standard.
    """
    code = normalise_holder_id("uscc", value)
    if not _USCC_RE.fullmatch(code):
        raise InvalidIdentifier(
            "统一社会信用代码应为18位，由数字和大写字母（不含I、O、Z、S、V）组成", field="id"
        )
    if uscc.calc_check_digit(code) != code[-1]:
        if accept_pre_standard:
            return IdCheck(code, ("uscc_check_failed",))
        raise InvalidIdentifier("统一社会信用代码校验码错误，请核对代码", field="id")
    return IdCheck(code)


def check_holder_id(id_type: str, value: str, *, accept_pre_standard_uscc: bool = False) -> IdCheck:
    """Check an identifier of either type."""
    if id_type == "citizen_id":
        return check_citizen_id(value)
    if id_type == "uscc":
        return check_uscc(value, accept_pre_standard=accept_pre_standard_uscc)
    raise InvalidIdentifier(f"不支持的证件类型：{id_type}", field="id_type")


def mask_id(id_type: str, value: str) -> str:
    """A citizen ID with its birth date and sequence hidden, as the workbench shows it
    (330902********0314); a credit code (public) as it is."""
    if id_type != "citizen_id" or len(value) < 10:
        return value
    return value[:6] + "*" * (len(value) - 10) + value[-4:]
