"""Cross-field checks: fields of one document that must agree with each other.

A kind names its checks in its YAML (``cross_checks``), each with the fields playing its roles.
A check runs when every field it needs was found and can be read for the purpose — an ID number
whose check digit is wrong still carries a birth date, so the specimen card whose printed birth
date and number disagree is flagged on both counts. When it fails, every field involved becomes
``valid: false`` with the same zh-CN reason (which one is wrong cannot be told; a reason the field
already had is kept before it), and the document gets a warning.

- ``birth_date_matches_id`` (birth_date, id_number): the number's 7th–14th digits are the date;
- ``sex_matches_id`` (sex, id_number): the 17th digit is odd for 男, even for 女;
- ``uscc_matches_authority_region`` (uscc, authority): the most specific place the authority's
  name names (a county over its city) lies within, or contains, the region of the USCC's
  3rd–8th characters (GB/T 2260 codes from python-stdnum's table, past names included); an
  authority naming no known place, or an unknown code, is not judged;
- ``dates_in_order`` / ``dates_strictly_in_order`` (earlier, later): the earlier date (of a
  period, its start) is not after (not on or after) the later one.
"""

from __future__ import annotations

import datetime as dt
import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from typing import TYPE_CHECKING

from matcher.extract.model import ExtractedField

if TYPE_CHECKING:
    from matcher.extract.kinds import DocKind

__all__ = ["CROSS_CHECKS", "CrossCheck", "apply_cross_checks", "region_of_place_names"]

Judge = Callable[[Mapping[str, str], Mapping[str, str]], str | None]


@dataclass(frozen=True)
class CrossCheck:
    """A check over several fields, each playing a role (``birth_date``, ``id_number`` …)."""

    roles: tuple[str, ...]
    judge: Judge  # (normalised values by role, titles by role) → zh-CN reason or None
    readable: Mapping[str, Callable[[str], bool]]  # role → can the check use this value?

    def check(
        self, values: Mapping[str, str], titles: Mapping[str, str] | None = None
    ) -> str | None:
        """The zh-CN reason the values disagree, or None."""
        return self.judge(values, titles or {})

    def can_use(self, role: str, value: str | None) -> bool:
        return value is not None and self.readable[role](value)


# ── reading values ───────────────────────────────────────────────────────────────────────────


def _date(value: str) -> dt.date | None:
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", value):
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        return None


def _first_date(value: str) -> dt.date | None:
    """A date, or the start of a period (``start/end``)."""
    return _date(value.partition("/")[0])


def _number_birth_date(number: str) -> dt.date | None:
    if not re.fullmatch(r"\d{17}[0-9X]", number):
        return None
    return _date(f"{number[6:10]}-{number[10:12]}-{number[12:14]}")


def _is_number(value: str) -> bool:
    return _number_birth_date(value) is not None


# ── the checks ───────────────────────────────────────────────────────────────────────────────


def _birth_date_matches_id(values: Mapping[str, str], titles: Mapping[str, str]) -> str | None:
    number, born = values["id_number"], values["birth_date"]
    return None if number[6:14] == born.replace("-", "") else "出生日期与公民身份号码不一致"


def _sex_matches_id(values: Mapping[str, str], titles: Mapping[str, str]) -> str | None:
    number, printed = values["id_number"], values["sex"]
    # GB 11643: the 17th character, the order code's last digit, is odd for men, even for women.
    from_number = "男" if int(number[16]) % 2 else "女"
    return None if printed == from_number else "性别与公民身份号码不一致"


def _titled(titles: Mapping[str, str], role: str, value: str, default: str) -> str:
    title = titles.get(role, default)
    return f"{title}的起始日期" if "/" in value else title


def _in_order(strict: bool) -> Judge:
    def judge(values: Mapping[str, str], titles: Mapping[str, str]) -> str | None:
        earlier, later = _first_date(values["earlier"]), _first_date(values["later"])
        assert earlier is not None and later is not None  # readable() let only dates through
        if earlier < later or (earlier == later and not strict):
            return None
        first = _titled(titles, "earlier", values["earlier"], "前一日期")
        second = _titled(titles, "later", values["later"], "后一日期")
        return f"{first}晚于{second}" if earlier > later else f"{first}与{second}为同一天"

    return judge


def _uscc_matches_authority_region(
    values: Mapping[str, str], titles: Mapping[str, str]
) -> str | None:
    region = values["uscc"][2:8]
    named = _deepest_places(values["authority"])
    if not named or not _region_known(region):
        return None  # nothing to compare: no place in the name, or a code we do not know
    if any(_related(region, code) for code in named):
        return None
    authority = titles.get("authority", "登记机关")
    return f"统一社会信用代码中的行政区划码（{region}）与{authority}所在地区不一致"


CROSS_CHECKS: Mapping[str, CrossCheck] = {
    "birth_date_matches_id": CrossCheck(
        ("birth_date", "id_number"),
        _birth_date_matches_id,
        {"birth_date": lambda v: _date(v) is not None, "id_number": _is_number},
    ),
    "sex_matches_id": CrossCheck(
        ("sex", "id_number"),
        _sex_matches_id,
        {"sex": lambda v: v in ("男", "女"), "id_number": _is_number},
    ),
    "uscc_matches_authority_region": CrossCheck(
        ("uscc", "authority"),
        _uscc_matches_authority_region,
        {"uscc": lambda v: bool(re.fullmatch(r"..\d{6}.{10}", v)), "authority": bool},
    ),
    "dates_in_order": CrossCheck(
        ("earlier", "later"),
        _in_order(strict=False),
        {
            "earlier": lambda v: _first_date(v) is not None,
            "later": lambda v: _first_date(v) is not None,
        },
    ),
    "dates_strictly_in_order": CrossCheck(
        ("earlier", "later"),
        _in_order(strict=True),
        {
            "earlier": lambda v: _first_date(v) is not None,
            "later": lambda v: _first_date(v) is not None,
        },
    ),
}


# ── administrative divisions (GB/T 2260), from python-stdnum's table ─────────────────────────


@functools.cache
def _places() -> tuple[dict[str, frozenset[str]], frozenset[str]]:
    """Place name → the division codes it has named (past names included); all known codes."""
    text = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    by_name: dict[str, set[str]] = {}
    codes: set[str] = set()
    province = ""
    for line in text.splitlines():
        match = re.match(r"^(\s*)(\d+)\s+\w+=\"([^\"]*)\"", line)
        if match is None:
            continue
        indent, digits, names = match.groups()
        if not indent:
            province = digits
            code = digits + "0000"
        else:
            code = province + digits
        codes.add(code)
        for name in re.sub(r"\[[^\]]*\]", "", names).split(","):
            if len(name) >= 2 and name not in ("市辖区", "县", "省直辖县级行政区划"):
                by_name.setdefault(name, set()).add(code)
    return {k: frozenset(v) for k, v in by_name.items()}, frozenset(codes)


def _depth(code: str) -> int:
    return 1 if code.endswith("0000") else 2 if code.endswith("00") else 3


def _region_known(code: str) -> bool:
    return code in _places()[1]


def region_of_place_names(text: str) -> frozenset[str]:
    """Every division code a place name inside ``text`` has stood for."""
    by_name, _ = _places()
    found: set[str] = set()
    for start in range(len(text)):
        for end in range(start + 2, min(len(text), start + 12) + 1):
            found |= by_name.get(text[start:end], frozenset())
    return frozenset(found)


def _deepest_places(text: str) -> frozenset[str]:
    """The codes of the most specific places the text names (a county over its city)."""
    codes = region_of_place_names(text)
    if not codes:
        return codes
    deepest = max(map(_depth, codes))
    return frozenset(c for c in codes if _depth(c) == deepest)


def _related(a: str, b: str) -> bool:
    """One division lies within the other (or they are the same)."""

    def prefix(code: str) -> str:
        return code[:2] if _depth(code) == 1 else code[:4] if _depth(code) == 2 else code

    return a.startswith(prefix(b)) or b.startswith(prefix(a))


# ── running a kind's checks ──────────────────────────────────────────────────────────────────


def apply_cross_checks(
    kind: DocKind, fields: Sequence[ExtractedField]
) -> tuple[list[ExtractedField], list[str]]:
    """The fields with every failed check's reason on the fields involved, and a zh-CN warning
    per failed check."""
    out = list(fields)
    by_name = {field.name: index for index, field in enumerate(out)}
    titles = {spec.name: spec.label for spec in kind.fields}
    warnings: list[str] = []
    for spec in kind.cross_checks:
        check = CROSS_CHECKS[spec.check]
        indexes = {role: by_name.get(name) for role, name in spec.fields}
        if any(
            index is None or not check.can_use(role, out[index].normalised)
            for role, index in indexes.items()
        ):
            continue  # a field missing or unreadable for this check has its own reason
        values = {role: out[i].normalised or "" for role, i in indexes.items() if i is not None}
        reason = check.check(values, {role: titles[name] for role, name in spec.fields})
        if reason is None:
            continue
        warnings.append(f"字段核对未通过：{reason}")
        for index in indexes.values():
            assert index is not None
            field = out[index]
            if field.reason and reason in field.reason:
                continue
            joined = f"{field.reason}；{reason}" if field.reason else reason
            out[index] = replace(field, valid=False, reason=joined)
    return out, warnings
