"""Application forms (申请表/申请书) as data: load, validate, check a field's value.

Each form is one YAML file checked against ``schemas/form.schema.json`` (shipped as package
data), then against what the schema cannot say: field keys are unique, a derived field names an
earlier field, an upload source names a known document kind and one of its fields. Every problem
raises :class:`~matcher.errors.CatalogError` naming the file, the line, the path inside the file
(``sections[1].fields[3].sources[0].doc_kind``) and what is wrong.

A field's ``sources`` are tried in order by :mod:`matcher.applications.prefill`;
:meth:`FormField.check` is the format check of a value, whoever typed or printed it.
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
import unicodedata
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

import jsonschema  # type: ignore[import-untyped, unused-ignore]
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from matcher.catalog.ids import check_citizen_id, check_uscc
from matcher.catalog.matters import Catalog
from matcher.catalog.yamlfiles import (
    Where,
    YamlPath,
    describe_schema_error,
    parse_yaml,
    read_sources,
)
from matcher.catalog.yamlfiles import schema_path as _schema_path
from matcher.errors import CatalogError, InvalidIdentifier
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.validators import NormaliseFailed, date_cn, integer, money_cn
from matcher.extract.validators import date as date_validator

__all__ = [
    "CertificateSource",
    "CheckedValue",
    "DerivedSource",
    "FieldType",
    "Form",
    "FormField",
    "Forms",
    "LicenceSource",
    "RequestSource",
    "Section",
    "Source",
    "UploadSource",
    "compare_key",
    "load_forms",
]

FieldType = Literal[
    "text", "date", "money", "citizen_id", "uscc", "id_number", "sex", "integer", "phone"
]
Meta = Literal[
    "number", "issuer", "issued_on", "valid_from", "valid_until", "holder_name", "holder_id"
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class LicenceSource(_Frozen):
    """A surface field (照面信息) of an e-licence type, or a member of the record (``meta``)."""

    kind: Literal["e_licence"]
    type_code: str
    field: str | None = None
    meta: Meta | None = None
    role: str = "applicant"

    @property
    def type(self) -> str:
        return self.type_code


class CertificateSource(_Frozen):
    """A member of a data certificate's data, or of the certificate itself (``meta``)."""

    kind: Literal["data_certificate"]
    cert_type: str
    field: str | None = None
    meta: Meta | None = None
    role: str = "applicant"

    @property
    def type(self) -> str:
        return self.cert_type


class UploadSource(_Frozen):
    """A field read from an uploaded document of one kind (matcher/data/doc_kinds)."""

    kind: Literal["upload"]
    doc_kind: str
    field: str


class RequestSource(_Frozen):
    """What the business system sent: a party's name, id, id type in words, or the matter."""

    kind: Literal["request"]
    field: Literal["name", "id", "id_type_name", "matter_name", "phone"]
    role: str = "applicant"


class DerivedSource(_Frozen):
    """Computed from an earlier field of the same form."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    kind: Literal["derived"]
    from_: str = Field(alias="from")
    rule: Literal["birth_date", "sex", "native_region", "native_province", "region_name"]


Source = Annotated[
    LicenceSource | CertificateSource | UploadSource | RequestSource | DerivedSource,
    Field(discriminator="kind"),
]
_SOURCE = TypeAdapter(Source)


@dataclass(frozen=True)
class CheckedValue:
    """A value after its field's format check: the normal form used to compare values, and the
    zh-CN reason when it fails (``normalised`` is then the value with blanks and widths evened)."""

    normalised: str
    reason: str | None = None

    @property
    def valid(self) -> bool:
        return self.reason is None


def compare_key(value: str) -> str:
    """Full/half width and blanks evened out: （ and (, ２ and 2, 张 伟 and 张伟 compare equal."""
    return "".join(unicodedata.normalize("NFKC", value).split())


MAX_VALUE_LENGTH = 2000
_PHONE = re.compile(r"^(?:1[3-9]\d{9}|0\d{2,3}\d{7,8})$")


def _check_id(kind: str, text: str) -> CheckedValue:
    try:
        checked = check_citizen_id(text) if kind == "citizen_id" else check_uscc(text)
    except InvalidIdentifier as exc:
        return CheckedValue(compare_key(text).upper(), str(exc))
    return CheckedValue(checked.value)


class FormField(_Frozen):
    """One field of a form: what it is called, how its value is checked, where it comes from."""

    key: str
    label: str
    type: FieldType
    required: bool = False
    lines: int = 1
    section: str
    sources: tuple[Source, ...] = ()

    def check(self, value: str) -> CheckedValue:
        """The format check of ``value`` for this field's type (never repairs content)."""
        text = compare_key(value)
        if not text:
            return CheckedValue("", "不能为空")
        if len(value) > MAX_VALUE_LENGTH:
            return CheckedValue(text[:MAX_VALUE_LENGTH], f"过长（最多{MAX_VALUE_LENGTH}字）")
        try:
            match self.type:
                case "date":
                    day = date_cn(text)
                    return CheckedValue(day, date_validator(day, dt.date.today()))
                case "money":
                    return CheckedValue(money_cn(text))
                case "integer":
                    return CheckedValue(integer(text))
                case "citizen_id" | "uscc":
                    return _check_id(self.type, text)
                case "id_number":
                    looks_personal = re.fullmatch(r"\d{17}[\dXx]", text) is not None
                    return _check_id("citizen_id" if looks_personal else "uscc", text)
                case "sex":
                    sex = text.removesuffix("性")
                    ok = sex in ("男", "女")
                    return CheckedValue(sex, None if ok else f"性别应为“男”或“女”：{value}")
                case "phone":
                    digits = text.replace("-", "")
                    ok = _PHONE.fullmatch(digits) is not None
                    return CheckedValue(digits, None if ok else f"不是有效的电话号码：{value}")
        except NormaliseFailed as exc:
            return CheckedValue(text, str(exc))
        return CheckedValue(text)


class Section(_Frozen):
    title: str
    fields: tuple[FormField, ...]


class Form(_Frozen):
    """One application form and its fields, in print order."""

    code: str
    name: str
    description: str = ""
    sections: tuple[Section, ...]

    @property
    def fields(self) -> tuple[FormField, ...]:
        return tuple(f for s in self.sections for f in s.fields)

    def field(self, key: str) -> FormField:
        """The field with this key; KeyError if the form has none."""
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    def registry_sources(self) -> list[LicenceSource | CertificateSource]:
        """Every e-licence and data-certificate source: what prefilling asks the registries."""
        return [
            s
            for f in self.fields
            for s in f.sources
            if isinstance(s, LicenceSource | CertificateSource)
        ]


class Forms:
    """All forms, in file order, looked up by code."""

    def __init__(self, forms: Sequence[Form]) -> None:
        self._by_code = {form.code: form for form in forms}

    def get(self, code: str) -> Form:
        try:
            return self._by_code[code]
        except KeyError:
            raise CatalogError(
                f"no form {code!r}; known forms: {', '.join(self._by_code)}"
            ) from None

    def __contains__(self, code: object) -> bool:
        return code in self._by_code

    def __iter__(self) -> Iterator[Form]:
        return iter(self._by_code.values())

    def __len__(self) -> int:
        return len(self._by_code)

    def check_catalog(self, catalog: Catalog) -> None:
        """Every form a matter names exists; CatalogError naming the matter otherwise."""
        for matter in catalog.matters:
            if matter.form is not None and matter.form not in self._by_code:
                raise CatalogError(
                    f"matter {matter.code!r} names form {matter.form!r}, which is not loaded; "
                    f"known forms: {', '.join(self._by_code)}"
                )


def load_forms(path: str | Path | None = None, *, doc_kinds: DocKinds | None = None) -> Forms:
    """Load a form file, or a folder of ``*.yaml``/``*.yml`` files (sorted by name).

    ``None`` loads the forms shipped with the package. ``doc_kinds`` (default: the shipped ones)
    are what upload sources are checked against.
    """
    kinds = doc_kinds if doc_kinds is not None else load_doc_kinds()
    forms: list[Form] = []
    first_seen: dict[str, str] = {}
    for source in read_sources(path, packaged="forms", what="form"):
        data, lines = parse_yaml(source)
        where = Where(source.label, lines)
        _check_schema(where, data)
        form = _build(where, data, kinds)
        if form.code in first_seen:
            raise where.error(
                ("code",),
                f"duplicate form code {form.code!r}, first defined in {first_seen[form.code]}",
            )
        first_seen[form.code] = source.label
        forms.append(form)
    return Forms(forms)


@functools.cache
def _validator() -> Any:
    schema = json.loads(_schema_path("form").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(where: Where, data: Any) -> None:
    if not isinstance(data, dict):
        raise where.error((), "the file must hold a mapping: one form")
    errors = list(_validator().iter_errors(data))
    if not errors:
        return
    error = jsonschema.exceptions.best_match(errors)
    path: YamlPath = tuple(error.absolute_path)
    if error.validator == "oneOf":
        message = "give exactly one of 'field' or 'meta'"
    else:
        path, message = describe_schema_error(error, data)
    raise where.error(path, message, others=len(errors) - 1)


def _build(where: Where, data: dict[str, Any], kinds: DocKinds) -> Form:
    seen: dict[str, YamlPath] = {}
    sections = []
    for s_index, raw_section in enumerate(data["sections"]):
        fields = []
        for f_index, raw in enumerate(raw_section["fields"]):
            at: YamlPath = ("sections", s_index, "fields", f_index)
            key = raw["key"]
            if key in seen:
                first = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in seen[key])
                raise where.error(
                    (*at, "key"), f"duplicate field key {key!r}, first at {first[1:]}"
                )
            sources = []
            for i, raw_source in enumerate(raw["sources"]):
                source = _source(where, (*at, "sources", i), raw_source)
                if isinstance(source, DerivedSource) and source.from_ not in seen:
                    raise where.error(
                        (*at, "sources", i, "from"),
                        f"{source.from_!r} is not an earlier field of this form",
                    )
                if isinstance(source, UploadSource):
                    _check_upload(where, (*at, "sources", i), source, kinds)
                sources.append(source)
            seen[key] = at
            fields.append(
                FormField(
                    key=key,
                    label=raw["label"],
                    type=raw["type"],
                    required=raw.get("required", False),
                    lines=raw.get("lines", 1),
                    section=raw_section["title"],
                    sources=tuple(sources),
                )
            )
        sections.append(Section(title=raw_section["title"], fields=tuple(fields)))
    return Form(
        code=data["code"],
        name=data["name"],
        description=data.get("description", ""),
        sections=tuple(sections),
    )


def _source(where: Where, at: YamlPath, raw: dict[str, Any]) -> Source:
    # The schema already holds a source to this shape; this only fires if the two drift.
    try:
        return _SOURCE.validate_python(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise where.error((*at, *first["loc"][1:]), first["msg"]) from exc


def _check_upload(where: Where, at: YamlPath, source: UploadSource, kinds: DocKinds) -> None:
    if source.doc_kind not in kinds:
        raise where.error(
            (*at, "doc_kind"),
            f"no document kind {source.doc_kind!r}; known kinds: {', '.join(kinds.codes())}",
        )
    kind = kinds.get(source.doc_kind)
    names = [f.name for f in kind.fields]
    if source.field not in names:
        raise where.error(
            (*at, "field"),
            f"{source.field!r} is not a field of {source.doc_kind}; fields: {', '.join(names)}",
        )
