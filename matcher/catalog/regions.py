"""Region names from GB/T 2260 administrative-division codes (行政区划代码).

The table is python-stdnum's ``cn/loc`` database (already a dependency for the ID check digit):
every county-level code with its names through the years. Names are looked up without regard to
the year a code was created, as for ID numbers (``matcher.catalog.ids``): a 1981-born
resident of 定海区 holds a 330902 number although that code dates from 1987.
"""

from __future__ import annotations

import functools
import re

from stdnum import numdb

__all__ = ["province_name", "region_name"]

_CODE = re.compile(r"^[1-9]\d{5}$")
_YEARS = re.compile(r"^\[(\d*)-(\d*)\]")


def _current(names: str) -> str:
    """The name in use today from ``[-1986]旧名,[1987-]新名``: the last with no end year."""
    parts = [p for p in names.split(",") if p]
    for part in reversed(parts):
        match = _YEARS.match(part)
        if match is None or not match[2]:
            return _YEARS.sub("", part)
    return _YEARS.sub("", parts[-1])


@functools.lru_cache(maxsize=4096)
def _lookup(code: str) -> tuple[str | None, str | None]:
    """(province name, county-level name) of a six-digit code; None where the table has none."""
    info: dict[str, str] = {}
    for _, props in numdb.get("cn/loc").info(code):
        info.update(props)
    province = info.get("province")
    county = info.get("county")
    return (province, _current(county) if county else None)


def province_name(code: str) -> str | None:
    """浙江省 for 330902; None for a code whose province the table does not know."""
    if not _CODE.fullmatch(code):
        return None
    province, own_name = _lookup(code[:2] + "0000")
    # The table spells a province's own code in simplified characters (香港特别行政区), its
    # province key not always (香港特別行政區): the own code's name is the one to print.
    return own_name or province


def region_name(code: str) -> str | None:
    """The full name of a county-level code: 330902 → 浙江省舟山市定海区, 330900 → 浙江省舟山市,
    330000 → 浙江省. None when the table does not know the code."""
    if not _CODE.fullmatch(code):
        return None
    province = province_name(code)
    county = _lookup(code)[1]
    if province is None or county is None:
        return None
    parts = [province]
    if not code.endswith("00"):
        prefecture = _lookup(code[:4] + "00")[1]
        # 市辖区 / 县 / 省直辖县级行政区划 are groupings, not names anyone writes on a form.
        if (
            prefecture
            and prefecture not in ("市辖区", "县")
            and not prefecture.endswith(("行政区划", "行政单位"))
        ):
            parts.append(prefecture)
    if county not in parts:
        parts.append(county)
    return "".join(parts)
