"""Matters and their materials (事项与材料清单): load, validate, look up.

A catalog is one YAML file or a folder of them, each checked against
``schemas/catalog.schema.json`` (shipped as package data). Every problem raises
:class:`~matcher.errors.CatalogError` naming the file, the line, the path inside the file
(``matters[3].materials[0].evidence[1].kind``) and what is wrong.
"""

from __future__ import annotations

import difflib
import functools
import json
from collections.abc import Collection
from pathlib import Path
from typing import Annotated, Any, Literal, Self

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)

from adapters.model import EvidenceKind
from matcher.catalog.yamlfiles import (
    Where,
    YamlPath,
    describe_schema_error,
    parse_yaml,
    read_sources,
    schema_path,
    yaml_type,
)
from matcher.errors import CatalogError, InputError, UnknownMatter

__all__ = [
    "Catalog",
    "EvidenceSpec",
    "Material",
    "Matter",
    "Situation",
    "load_catalog",
    "schema_path",
]

CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
HOLDER_ROLE_PATTERN = r"^[a-z_]{1,32}$"

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
HolderRole = Annotated[str, StringConstraints(pattern=HOLDER_ROLE_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]


class EvidenceSpec(BaseModel):
    """One e-licence type or data-certificate type that can stand in for a material."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: EvidenceKind
    type_code: Code | None = None
    cert_type: Code | None = None
    holder_role: HolderRole = "applicant"

    @model_validator(mode="after")
    def _one_code_for_the_kind(self) -> Self:
        wanted, unwanted = (
            ("type_code", "cert_type") if self.kind == "e_licence" else ("cert_type", "type_code")
        )
        if getattr(self, wanted) is None:
            raise ValueError(f"{wanted} is required when kind is {self.kind!r}")
        if getattr(self, unwanted) is not None:
            raise ValueError(f"{unwanted} is not allowed when kind is {self.kind!r}")
        return self

    @property
    def type(self) -> str:
        """The licence type code or the certificate type, whichever the kind uses."""
        code = self.type_code if self.kind == "e_licence" else self.cert_type
        assert code is not None  # guaranteed by _one_code_for_the_kind
        return code


class Material(BaseModel):
    """One document a matter asks for (材料), and the evidence that can replace it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Text
    required: bool
    issued_by_city: bool
    issuer: Text | None = None
    # As the portal lists it (来源渠道, 纸质/电子, 份数); None where the list does not say.
    channel: Literal["applicant", "government", "intermediary", "other"] | None = None
    medium: Literal["paper", "electronic", "either"] | None = None
    copies: int | None = None
    # The matter's application form itself: pre-filled by the service, confirmed by the
    # applicant, never a paper to bring (the matter must name its form).
    application_form: bool = False
    accept_commitment: bool = False
    # Asked for only in this situation (情形, one of the matter's): 夫妻共同出资, 法人股东 …
    situation: Code | None = None
    evidence: tuple[EvidenceSpec, ...]


class Situation(BaseModel):
    """A situation (情形) in which a matter asks for more: the application names it."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Text


class Matter(BaseModel):
    """A government service item (事项) and its material list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Text
    department: Text
    implementation_code: str | None = None  # 实施编码, where known
    domain: Text | None = None  # 领域: 商事登记, 不动产登记 …
    list_source: Text | None = None  # the rule or published guide the list follows
    description: str | None = None
    form: Code | None = None  # its application form's code (matcher.applications.forms)
    # The holder's consent token (授权) must come with a check: their records are asked for
    # only with it.
    requires_consent: bool = False
    # Eligible for no-touch approval (智能秒办) when every material is waived on verified
    # evidence, nothing needs review and (with a form) every required field is verified.
    auto_approval: bool = False
    situations: tuple[Situation, ...] = ()
    materials: Annotated[tuple[Material, ...], Field(min_length=1)]
    # asked()'s answers by the situations named: a matter never changes (frozen), so each set of
    # situations is worked out once (a copy of the matter cost ~20 µs of every check)
    _asked: dict[frozenset[str], Matter] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _material_codes_unique(self) -> Self:
        codes = [material.code for material in self.materials]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"duplicate material codes: {', '.join(duplicates)}")
        forms = [m.code for m in self.materials if m.application_form]
        if forms and self.form is None:
            raise ValueError(
                f"material {forms[0]} is marked application_form, but the matter names no form"
            )
        if len(forms) > 1:
            raise ValueError(
                f"more than one material is marked application_form: {', '.join(forms)}"
            )
        known = {s.code for s in self.situations}
        unknown = sorted({m.situation for m in self.materials if m.situation} - known)
        if unknown:
            raise ValueError(f"materials name situations the matter does not list: {unknown}")
        return self

    def asked(self, situations: Collection[str] = ()) -> Matter:
        """The matter as one application meets it: a material asked for only in a situation
        stays only when the application names that situation. An unknown situation is an
        input error (the application names a situation this matter does not have)."""
        named = frozenset(situations)
        found = self._asked.get(named)
        if found is not None:  # only sets of known situations are kept
            return found
        known = {s.code for s in self.situations}
        for i, code in enumerate(situations):
            if code not in known:
                raise InputError(
                    f"事项「{self.name}」没有情形 {code}"
                    + (f"（可选：{'、'.join(sorted(known))}）" if known else ""),
                    field=f"situations[{i}]",
                )
        found = self
        if any(m.situation for m in self.materials):
            kept = tuple(m for m in self.materials if m.situation is None or m.situation in named)
            found = self.model_copy(update={"materials": kept})
            found._asked = {}  # the copy's own: model_copy shares private values
        if len(self._asked) < 64:  # bounded: at most the sets of this matter's situations
            self._asked[named] = found
        return found

    def material(self, code: str) -> Material:
        """The material with this code; CatalogError if the matter has none."""
        for material in self.materials:
            if material.code == code:
                return material
        raise CatalogError(f"matter {self.code!r} has no material with code {code!r}")


class Catalog(BaseModel):
    """All matters, in file order, looked up by code."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    matters: tuple[Matter, ...]
    _by_code: dict[str, Matter] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _matter_codes_unique(self) -> Self:
        codes = [matter.code for matter in self.matters]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"duplicate matter codes: {', '.join(duplicates)}")
        self._by_code = {matter.code: matter for matter in self.matters}
        return self

    def get(self, code: str) -> Matter:
        """The matter with this code; UnknownMatter (a CatalogError) if there is none."""
        try:
            return self._by_code[code]
        except KeyError:
            close = difflib.get_close_matches(code, self._by_code, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UnknownMatter(
                f"no matter with code {code!r} in the catalog ({len(self)} matters){hint}"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __len__(self) -> int:
        return len(self.matters)


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load a catalog file, or a folder of ``*.yaml``/``*.yml`` files (sorted by name, merged).

    ``None`` loads the sample catalog shipped with the package.
    """
    matters: list[Matter] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for source in read_sources(path, packaged="catalog", what="catalog"):
        data, lines = parse_yaml(source)
        _check_schema(source.label, data, lines)
        where = Where(source.label, lines)
        for index, raw in enumerate(data["matters"]):
            _check_material_codes(where, index, raw)
            code = raw["code"]
            if code in first_seen:
                file, first = first_seen[code]
                raise where.error(
                    ("matters", index, "code"),
                    f"duplicate matter code {code!r}, first defined in {file} at matters[{first}]",
                )
            first_seen[code] = (source.label, index)
            matters.append(_matter(where, index, raw))
    return Catalog(matters=tuple(matters))


@functools.cache
def _catalog_validator() -> Any:
    schema = json.loads(schema_path("catalog").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(file: str, data: Any, lines: dict[YamlPath, int]) -> None:
    if not isinstance(data, dict):
        raise Where(file, lines).error(
            (), f"the file must hold a mapping with a 'matters' list, but is {yaml_type(data)}"
        )
    errors = list(_catalog_validator().iter_errors(data))
    if not errors:
        return
    path, message = describe_schema_error(jsonschema.exceptions.best_match(errors), data)
    raise Where(file, lines).error(path, message, others=len(errors) - 1)


def _matter(where: Where, index: int, raw: dict[str, Any]) -> Matter:
    # The schema already holds the file to this shape; this only fires if the two drift.
    try:
        return Matter.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise where.error(("matters", index, *first["loc"]), first["msg"]) from exc


def _check_material_codes(where: Where, index: int, matter: dict[str, Any]) -> None:
    first: dict[str, int] = {}
    for position, material in enumerate(matter["materials"]):
        code = material["code"]
        if code in first:
            raise where.error(
                ("matters", index, "materials", position, "code"),
                f"duplicate material code {code!r} in matter {matter['code']!r}, "
                f"first used at materials[{first[code]}]",
            )
        first[code] = position
