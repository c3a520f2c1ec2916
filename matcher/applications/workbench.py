"""Identifiers as the clerk's workbench shows them: a citizen ID masked unless a clerk asks."""

from __future__ import annotations

import re
from typing import Any

from matcher.catalog.ids import check_citizen_id, mask_id
from matcher.errors import InvalidIdentifier

__all__ = ["mask_id", "mask_ids_in"]

_CITIZEN_LIKE = re.compile(r"(?<![0-9A-Za-z])[1-9]\d{16}[\dXx](?![0-9A-Za-z])")


def _mask_match(match: re.Match[str]) -> str:
    try:
        check_citizen_id(match.group())
    except InvalidIdentifier:
        return match.group()  # an 18-digit number that is not an ID number stays as it is
    return mask_id("citizen_id", match.group())


def mask_ids_in(value: Any) -> Any:
    """``value`` (text, or JSON-like lists and dicts of it) with every citizen ID masked: the
    holder's number also appears as a resident-ID licence's number and in decisions' reasons."""
    if isinstance(value, str):
        return _CITIZEN_LIKE.sub(_mask_match, value)
    if isinstance(value, list):
        return [mask_ids_in(v) for v in value]
    if isinstance(value, dict):
        return {k: mask_ids_in(v) for k, v in value.items()}
    return value
