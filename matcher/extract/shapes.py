"""Strongly typed values found by their shape when their label cannot be read.

An 18-character ID number, a USCC, a date or a validity period looks like nothing else on its
document, so a field whose label is missing (misread beyond tolerance, under a seal, a variant no
kind file lists) can still be filled from a value of its shape that no other field or label
claims. Such a field says so (``found_by="shape"``) and is validated like any other: the shape
is loose on purpose (a wrong check digit still has the shape), the validators judge.

A kind names a field's shape in its YAML (``shape: citizen_id``), or gives a regex of its own.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from matcher.extract.labels import Hit
from matcher.extract.rows import Row

if TYPE_CHECKING:
    from matcher.extract.kinds import FieldSpec

__all__ = ["SHAPES", "ShapeMatch", "compile_shape", "find_by_shape"]

_DATE = r"(?:19|20)\d{2}(?:年\d{1,2}月\d{1,2}日|\.\d{1,2}\.\d{1,2}|-\d{1,2}-\d{1,2})"
_ALNUM = r"0-9A-Za-z０-９Ａ-Ｚａ-ｚ"

# Row text has no blanks, so the shapes have none either. Each is fenced so it never matches
# inside a longer run of letters and digits.
SHAPES: Mapping[str, str] = {
    # GB 11643: area, a plausible birth date, order code, check character.
    "citizen_id": (
        rf"(?<![{_ALNUM}])\d{{6}}(?:18|19|20)\d{{2}}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])"
        rf"\d{{3}}[0-9Xx](?![{_ALNUM}])"
    ),
    # GB 32100: registering authority and category, six-digit region, organisation code, check.
    "uscc": (
        rf"(?<![{_ALNUM}])[1-9A-HJ-NP-RTUW-Y][1-9]\d{{6}}[0-9A-HJ-NP-RTUW-Y]{{10}}"
        rf"(?![{_ALNUM}])"
    ),
    "date": rf"(?<!\d){_DATE}(?!\d)",
    "period": rf"(?<!\d){_DATE}(?:[-－—–~～至到]|起至?)(?:{_DATE}|长期|永久)(?!\d)",
}


def compile_shape(shape: str) -> re.Pattern[str]:
    """A named shape, or else the text as a regex (``re.error`` when it is not one)."""
    return re.compile(SHAPES.get(shape, shape))


@dataclass(frozen=True)
class ShapeMatch:
    spec: FieldSpec
    row: int
    start: int
    end: int


def find_by_shape(
    missing: Sequence[FieldSpec],
    rows: Sequence[Row],
    hits: Sequence[Hit],
    claimed: set[tuple[int, int]],
) -> list[ShapeMatch]:
    """Values for the fields in ``missing`` (those with a shape), from text nothing claims.

    ``claimed`` holds the (row, character) positions other fields' values took. Fields of one
    shape take the unclaimed matches in reading order only when there are exactly as many
    matches as fields: with more, which is which cannot be told, and nothing is guessed.
    """
    taken = set(claimed)
    for hit in hits:
        for r, s, e in [(hit.row, hit.start, hit.end), *hit.pieces]:
            taken.update((r, i) for i in range(s, e))
    by_shape: dict[str, list[FieldSpec]] = {}
    for spec in missing:
        if spec.shape is not None:
            by_shape.setdefault(spec.shape.pattern, []).append(spec)
    found: list[ShapeMatch] = []
    for specs in by_shape.values():
        shape = specs[0].shape
        assert shape is not None
        matches = [
            (index, m.start(), m.end())
            for index, row in enumerate(rows)
            for m in shape.finditer(row.text)
            if not any((index, i) in taken for i in range(m.start(), m.end()))
        ]
        if len(matches) != len(specs):
            continue
        found += [ShapeMatch(spec, *match) for spec, match in zip(specs, matches, strict=True)]
    return found
