"""Document kinds (材料类型) as data: load, validate, look up, recognise.

Each kind is one YAML file checked against ``schemas/doc-kind.schema.json`` (shipped as package
data), then against what the schema cannot say: field names are canonical
(:mod:`matcher.extract.names`), patterns compile, and every field a cross-check, the number or a
registry label names is a field of the kind. Every problem raises
:class:`~matcher.errors.CatalogError` naming the file, the line and the path inside the file.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from matcher.catalog.yamlfiles import (
    Where,
    YamlPath,
    describe_schema_error,
    parse_yaml,
    read_sources,
    schema_path,
)
from matcher.errors import CatalogError
from matcher.extract.crosschecks import CROSS_CHECKS
from matcher.extract.fields import contains_tolerantly, rows_of
from matcher.extract.model import PageText
from matcher.extract.names import FIELD_NAMES, closest_field_names
from matcher.extract.shapes import compile_shape
from matcher.extract.validators import NormaliseFailed, normalise, validate

__all__ = [
    "MULTILINE_CAP",
    "CrossCheckSpec",
    "DocKind",
    "DocKinds",
    "FieldSpec",
    "Keywords",
    "load_doc_kinds",
]


# Rows a `multiline` value may run onto at most: it ends at the next label long before.
MULTILINE_CAP = 40


@dataclass(frozen=True)
class FieldSpec:
    """How one field is found and judged."""

    name: str  # canonical (matcher.extract.names)
    title: str  # how warnings name it: the canonical label unless the file says otherwise
    # The canonical label first, then its variants, without blanks (住　所 and 住 所 are 住所).
    labels: tuple[str, ...]
    locate: Literal["label", "pattern"] = "label"
    pattern: re.Pattern[str] | None = None
    normalisers: tuple[str, ...] = ()
    validators: tuple[str, ...] = ()
    required: bool = False
    max_lines: int = 1  # rows the value may take; MULTILINE_CAP for a `multiline` field
    occurrence: int = 1
    # The value's shape (matcher.extract.shapes): where the label cannot be found, an unclaimed
    # value of this shape fills the field.
    shape: re.Pattern[str] | None = None

    @property
    def label(self) -> str:
        """The canonical label every field found for this spec reports (the title without one)."""
        return self.labels[0] if self.labels else self.title

    def normalise(self, value: str) -> str:
        """The value after this field's normalisers; NormaliseFailed when its form is unknown.

        Use it on a registry record's surface value to compare it with an extracted one.
        """
        return normalise(self.normalisers, value)

    def judge(self, value: str, *, today: dt.date | None = None) -> tuple[str | None, str | None]:
        """(normalised value or None, zh-CN reason or None) for a value as read."""
        try:
            normalised = self.normalise(value)
        except NormaliseFailed as exc:
            return None, str(exc)
        return normalised, validate(self.validators, normalised, today=today)


@dataclass(frozen=True)
class CrossCheckSpec:
    check: str  # a name in validators.CROSS_CHECKS
    fields: tuple[tuple[str, str], ...]  # (role, field name)


@dataclass(frozen=True)
class Keywords:
    all: tuple[str, ...] = ()
    any: tuple[str, ...] = ()
    none: tuple[str, ...] = ()


@dataclass(frozen=True)
class DocKind:
    """One kind of document: how to recognise it and read its fields."""

    code: str
    name: str
    keywords: Keywords
    fields: tuple[FieldSpec, ...]
    licence_type_code: str | None = None
    cert_type: str | None = None
    number_field: str | None = None
    other_labels: tuple[str, ...] = ()
    cross_checks: tuple[CrossCheckSpec, ...] = ()
    registry_surface_labels: tuple[tuple[str, str], ...] = ()  # (field name, registry label)
    description: str = ""

    @property
    def evidence_type(self) -> str:
        """The e-licence type code or data-certificate type it is the paper form of."""
        code = self.licence_type_code or self.cert_type
        assert code is not None  # the schema requires one
        return code

    def field(self, name: str) -> FieldSpec:
        """The field spec with this canonical name; KeyError if the kind has none."""
        for spec in self.fields:
            if spec.name == name:
                return spec
        raise KeyError(f"document kind {self.code!r} has no field {name!r}")

    def surface_label(self, name: str) -> str | None:
        """The label the registry record uses for this field, if it carries it."""
        return dict(self.registry_surface_labels).get(name)


@dataclass(frozen=True)
class _Score:
    kind: DocKind
    matches: bool  # every `all`, one `any` if given, no `none`
    score: float
    missing: tuple[str, ...]


class DocKinds:
    """All document kinds, in file order, looked up by code and recognised from page text."""

    def __init__(self, kinds: Sequence[DocKind]) -> None:
        self._kinds = tuple(kinds)
        self._by_code = {kind.code: kind for kind in self._kinds}

    def get(self, code: str) -> DocKind:
        """The kind with this code; CatalogError naming the known codes if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            known = ", ".join(self._by_code)
            raise CatalogError(f"no document kind {code!r}; known kinds: {known}") from None

    def codes(self) -> list[str]:
        """Every kind's code, in file order."""
        return list(self._by_code)

    def for_evidence_type(self, type_code: str) -> list[DocKind]:
        """The kinds that are paper forms of an e-licence type or data-certificate type."""
        return [kind for kind in self._kinds if kind.evidence_type == type_code]

    def __iter__(self) -> Iterator[DocKind]:
        return iter(self._kinds)

    def __len__(self) -> int:
        return len(self._kinds)

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def recognise(
        self,
        pages: Sequence[PageText],
        expected: str | None = None,
        *,
        warnings: list[str] | None = None,
    ) -> DocKind | None:
        """The kind whose keywords the pages carry best; None if none matches.

        With ``expected``, that kind is returned even when its keywords are not all there —
        extraction is still worth trying — and a zh-CN note saying so is appended to
        ``warnings``. An unknown ``expected`` code raises CatalogError.
        """
        texts = [row.text for row in rows_of(pages)]
        if expected is not None:
            kind = self.get(expected)
            scored = _score(kind, texts)
            if not scored.matches and warnings is not None:
                warnings.append(_mismatch_note(scored, self._best(texts, exclude=kind.code)))
            return kind
        best = self._best(texts)
        return best.kind if best is not None else None

    def _best(self, texts: Sequence[str], exclude: str | None = None) -> _Score | None:
        scores = [_score(kind, texts) for kind in self._kinds if kind.code != exclude]
        matching = [s for s in scores if s.matches]
        return max(matching, key=lambda s: s.score) if matching else None


def _score(kind: DocKind, texts: Sequence[str]) -> _Score:
    def present(word: str) -> bool:
        return any(contains_tolerantly(text, word) for text in texts)

    words = kind.keywords
    found_all = [word for word in words.all if present(word)]
    found_any = [word for word in words.any if present(word)]
    forbidden = [word for word in words.none if present(word)]
    matches = (
        len(found_all) == len(words.all) and (not words.any or bool(found_any)) and not forbidden
    )
    labels = [spec.labels[0] for spec in kind.fields if spec.labels]
    label_share = sum(map(present, labels)) / len(labels) if labels else 0.0
    keyword_share = (len(found_all) + len(found_any)) / (len(words.all) + len(words.any) or 1)
    missing = tuple(word for word in words.all if word not in found_all) + tuple(
        f"含有“{word}”" for word in forbidden
    )
    if words.any and not found_any and not missing:
        missing += (f"{'/'.join(words.any)}中的任一个",)
    return _Score(kind, matches, keyword_share + 0.5 * label_share, missing)


def _mismatch_note(scored: _Score, other: _Score | None) -> str:
    note = f"材料内容与预期的“{scored.kind.name}”不符（未找到：{'、'.join(scored.missing)}）"
    if other is not None:
        note += f"，看起来更像“{other.kind.name}”"
    return note + "，仍按预期类型提取"


# ── loading ──────────────────────────────────────────────────────────────────────────────────


def load_doc_kinds(path: str | Path | None = None) -> DocKinds:
    """Load a kind file, or a folder of ``*.yaml``/``*.yml`` files (sorted by name).

    ``None`` loads the kinds shipped with the package.
    """
    kinds: list[DocKind] = []
    first_seen: dict[str, str] = {}
    for source in read_sources(path, packaged="doc_kinds", what="document kind"):
        data, lines = parse_yaml(source)
        where = Where(source.label, lines)
        _check_schema(where, data)
        kind = _build(where, data)
        if kind.code in first_seen:
            raise where.error(
                ("code",),
                f"duplicate kind code {kind.code!r}, first defined in {first_seen[kind.code]}",
            )
        first_seen[kind.code] = source.label
        kinds.append(kind)
    return DocKinds(kinds)


@functools.cache
def _validator() -> Any:
    schema = json.loads(schema_path("doc-kind").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(where: Where, data: Any) -> None:
    if not isinstance(data, dict):
        raise where.error((), "the file must hold a mapping: one document kind")
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    path: YamlPath = tuple(error.absolute_path)
    if error.validator == "anyOf" and not path:
        message = "one of 'licence_type_code' or 'cert_type' is required"
    elif error.validator == "not" and path == ("cert_type",):
        message = "not allowed together with 'licence_type_code'"
    elif error.validator == "not" and path[-1:] == ("labels",):
        message = "not allowed when locate is 'pattern'"
    else:
        path, message = describe_schema_error(error, data)
    raise where.error(path, message, others=len(errors) - 1)


def _build(where: Where, data: dict[str, Any]) -> DocKind:
    specs = [_field(where, index, raw) for index, raw in enumerate(data["fields"])]
    names: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if spec.name in names:
            raise where.error(
                ("fields", index, "name"),
                f"duplicate field {spec.name!r}, first at fields[{names[spec.name]}]",
            )
        names[spec.name] = index

    def known(path: YamlPath, name: str) -> str:
        if name not in names:
            raise where.error(
                path, f"{name!r} is not a field of this kind; fields: {', '.join(names)}"
            )
        return name

    keywords = data["keywords"]
    number = data.get("number_field")
    if number is not None:
        known(("number_field",), number)
    checks = []
    for index, raw in enumerate(data.get("cross_checks", [])):
        check, given = (raw, {}) if isinstance(raw, str) else (raw["check"], raw["fields"])
        roles = tuple(
            (role, known(("cross_checks", index, "fields", role), given.get(role, role)))
            for role in CROSS_CHECKS[check].roles
        )
        checks.append(CrossCheckSpec(check, roles))
    surface = tuple(
        (known(("registry_surface_labels", name), name), label)
        for name, label in data.get("registry_surface_labels", {}).items()
    )
    return DocKind(
        code=data["code"],
        name=data["name"],
        keywords=Keywords(
            all=tuple(keywords.get("all", ())),
            any=tuple(keywords.get("any", ())),
            none=tuple(keywords.get("none", ())),
        ),
        fields=tuple(specs),
        licence_type_code=data.get("licence_type_code"),
        cert_type=data.get("cert_type"),
        number_field=number,
        other_labels=tuple(_compact(label) for label in data.get("other_labels", ())),
        cross_checks=tuple(checks),
        registry_surface_labels=surface,
        description=data.get("description", ""),
    )


def _field(where: Where, index: int, raw: Mapping[str, Any]) -> FieldSpec:
    name = raw["name"]
    if name not in FIELD_NAMES:
        close = closest_field_names(name)
        hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
        raise where.error(
            ("fields", index, "name"),
            f"{name!r} is not a canonical field name (matcher.extract.names){hint}",
        )
    pattern = None
    if "pattern" in raw:
        try:
            pattern = re.compile(raw["pattern"])
        except re.error as exc:
            raise where.error(("fields", index, "pattern"), f"not a valid regex: {exc}") from exc
    shape = None
    if "shape" in raw:
        try:
            shape = compile_shape(raw["shape"])
        except re.error as exc:
            raise where.error(("fields", index, "shape"), f"not a valid regex: {exc}") from exc
    if "label" in raw:
        printed = [raw["label"], *raw.get("variants", ())]
    else:
        printed = list(raw.get("labels", ()))  # the older form: canonical first, then variants
    labels = tuple(dict.fromkeys(_compact(label) for label in printed))
    return FieldSpec(
        name=name,
        title=raw.get("title") or labels[0],
        labels=labels,
        locate=raw.get("locate", "label"),
        pattern=pattern,
        normalisers=tuple(raw.get("normalise", ())),
        validators=tuple(raw.get("validate", ())),
        required=raw.get("required", False),
        max_lines=raw.get("max_lines", MULTILINE_CAP if raw.get("multiline") else 1),
        occurrence=raw.get("occurrence", 1),
        shape=shape,
    )


def _compact(text: str) -> str:
    return "".join(text.split())
