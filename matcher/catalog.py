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
from collections.abc import Hashable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, NamedTuple, Self

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    StringConstraints,
    ValidationError,
    model_validator,
)
from yaml.constructor import ConstructorError

from adapters.model import EvidenceKind
from matcher.errors import CatalogError, UnknownMatter

__all__ = [
    "Catalog",
    "EvidenceSpec",
    "Material",
    "Matter",
    "load_catalog",
    "schema_path",
]

CODE_PATTERN = r"^[A-Za-z0-9_.-]{1,64}$"
HOLDER_ROLE_PATTERN = r"^[a-z_]{1,32}$"
CATALOG_SUFFIXES = (".yaml", ".yml")

Code = Annotated[str, StringConstraints(pattern=CODE_PATTERN)]
HolderRole = Annotated[str, StringConstraints(pattern=HOLDER_ROLE_PATTERN)]
Text = Annotated[str, StringConstraints(min_length=1, pattern=r"\S")]

# A JSON path inside one file, e.g. ("matters", 3, "materials", 0, "code").
_Path = tuple[str | int, ...]


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
    accept_commitment: bool = False
    evidence: tuple[EvidenceSpec, ...]


class Matter(BaseModel):
    """A government service item (事项) and its material list."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    code: Code
    name: Text
    department: Text
    description: str | None = None
    materials: Annotated[tuple[Material, ...], Field(min_length=1)]

    @model_validator(mode="after")
    def _material_codes_unique(self) -> Self:
        codes = [material.code for material in self.materials]
        duplicates = sorted({code for code in codes if codes.count(code) > 1})
        if duplicates:
            raise ValueError(f"duplicate material codes: {', '.join(duplicates)}")
        return self

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


def schema_path(name: str) -> Traversable:
    """The packaged JSON Schema ``<name>.schema.json``, a byte-identical copy of ``schemas/``'s."""
    return files("matcher") / "data" / "schemas" / f"{name}.schema.json"


def load_catalog(path: str | Path | None = None) -> Catalog:
    """Load a catalog file, or a folder of ``*.yaml``/``*.yml`` files (sorted by name, merged).

    ``None`` loads the sample catalog shipped with the package.
    """
    matters: list[Matter] = []
    first_seen: dict[str, tuple[str, int]] = {}
    for source in _read_sources(path):
        data, lines = _parse_yaml(source)
        _check_schema(source.label, data, lines)
        where = _Where(source.label, lines)
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
            matters.append(where.model(index, raw))
    return Catalog(matters=tuple(matters))


class _Source(NamedTuple):
    label: str
    data: bytes


def _read_sources(path: str | Path | None) -> list[_Source]:
    if path is None:
        folder = files("matcher") / "data" / "catalog"
        entries = sorted(
            (entry for entry in folder.iterdir() if _is_catalog_file(entry.name)),
            key=lambda entry: entry.name,
        )
        return [
            _Source(f"matcher/data/catalog/{entry.name}", entry.read_bytes()) for entry in entries
        ]
    root = Path(path)
    label = str(path)
    if root.is_dir():
        paths = sorted(
            (p for p in root.iterdir() if p.is_file() and _is_catalog_file(p.name)),
            key=lambda p: p.name,
        )
        if not paths:
            raise CatalogError("folder holds no *.yaml or *.yml catalog files", file=label)
        return [_read_file(p, str(p)) for p in paths]
    if not root.exists():
        raise CatalogError("no such catalog file or folder", file=label)
    return [_read_file(root, label)]


def _is_catalog_file(name: str) -> bool:
    # Dotfiles are editor backups and lock files (".#matters.yaml"), never catalog content.
    return name.endswith(CATALOG_SUFFIXES) and not name.startswith(".")


def _read_file(path: Path, label: str) -> _Source:
    try:
        return _Source(label, path.read_bytes())
    except OSError as exc:
        raise CatalogError(f"cannot read the file: {exc.strerror}", file=label) from exc


class _Loader(yaml.SafeLoader):
    """A safe loader that refuses a key given twice in one mapping (plain YAML keeps the last)."""

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Hashable, Any]:
        seen: dict[object, int] = {}
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=True)
            if not isinstance(key, Hashable):
                continue  # the base constructor reports unhashable keys
            if key in seen:
                raise ConstructorError(
                    None,
                    None,
                    f"key {key!r} appears twice in one mapping (first on line {seen[key] + 1})",
                    key_node.start_mark,
                )
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep)


def _parse_yaml(source: _Source) -> tuple[Any, dict[_Path, int]]:
    """The document and, for every key and list item in it, the line it starts on."""
    try:
        text = source.data.decode("utf-8-sig")  # editors on Windows often add a BOM
    except UnicodeDecodeError as exc:
        raise CatalogError(
            f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=source.label
        ) from exc
    loader = _Loader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        at = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        problem = exc.problem or exc.context or "malformed YAML"
        raise CatalogError(f"YAML syntax error{at}: {problem}", file=source.label) from exc
    except yaml.YAMLError as exc:
        raise CatalogError(f"YAML error: {exc}", file=source.label) from exc
    finally:
        loader.dispose()
    lines: dict[_Path, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node: yaml.Node, path: _Path, lines: dict[_Path, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _collect_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines)


class _Where(NamedTuple):
    """Turns a path inside one file into a CatalogError that names the file, line and path."""

    file: str
    lines: dict[_Path, int]

    def error(self, path: _Path, message: str, *, others: int = 0) -> CatalogError:
        # The deepest part of the path that is in the file: a missing key has no line of its own.
        found = (self.lines.get(path[:n]) for n in range(len(path), -1, -1))
        line = next((hit for hit in found if hit is not None), None)
        notes = [f"line {line}"] if line is not None else []
        if others:
            notes.append(f"{others} more problem{'s' if others > 1 else ''} in this file")
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        return CatalogError(message, file=self.file, path=_format_path(path) or None)

    def model(self, index: int, raw: dict[str, Any]) -> Matter:
        # The schema already holds the file to this shape; this only fires if the two drift.
        try:
            return Matter.model_validate(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            raise self.error(("matters", index, *first["loc"]), first["msg"]) from exc


def _format_path(path: _Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@functools.cache
def _catalog_validator() -> Any:
    schema = json.loads(schema_path("catalog").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def _check_schema(file: str, data: Any, lines: dict[_Path, int]) -> None:
    errors = list(_catalog_validator().iter_errors(data))
    if not errors:
        return
    path, message = _describe(jsonschema.exceptions.best_match(errors), data)
    raise _Where(file, lines).error(path, message, others=len(errors) - 1)


def _describe(error: Any, data: Any) -> tuple[_Path, str]:
    """Where a schema error is and what is wrong, in words an operator can act on."""
    path: _Path = tuple(error.absolute_path)
    instance = error.instance
    parent = _member(data, path[:-1])
    kind = (
        f" when kind is {parent['kind']!r}" if isinstance(parent, dict) and "kind" in parent else ""
    )
    match error.validator:
        case "required":
            missing = next(key for key in error.validator_value if key not in instance)
            own_kind = f" when kind is {instance['kind']!r}" if "kind" in instance else ""
            return (*path, missing), f"required key is missing{own_kind}"
        case "additionalProperties":
            allowed = error.schema.get("properties", {})
            extra = sorted(str(key) for key in instance if key not in allowed)
            return (*path, extra[0]), (
                f"unknown key {extra[0]!r}; allowed keys: {', '.join(allowed)}"
            )
        case "not":  # {"not": {}}: a key this kind of evidence must not have
            return path, f"not allowed{kind}"
        case "enum":
            options = ", ".join(map(repr, error.validator_value))
            return path, f"{instance!r} is not one of {options}"
        case "type" if not path:
            got = _yaml_type(instance)
            return path, f"the file must hold a mapping with a 'matters' list, but is {got}"
        case "type":
            expected = _YAML_NAMES.get(error.validator_value, error.validator_value)
            return path, f"must be {expected}, but is {_yaml_type(instance)}"
        case "pattern" if error.validator_value == r"\S":
            return path, "must not be blank"
        case "pattern":
            return path, f"{instance!r} does not match the pattern {error.validator_value}"
        case "minItems":
            return path, "must not be empty"
        case "minLength":
            return path, "must not be blank"
    return path, str(error.message)


def _member(data: Any, path: _Path) -> Any:
    for part in path:
        data = data[part]
    return data


# JSON Schema's type names in the words of YAML, which is what operators write.
_YAML_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean",
}


def _yaml_type(value: object) -> str:
    if value is None:
        return "empty (null)"
    names = {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
    }
    return "a mapping" if isinstance(value, dict) else names.get(type(value), type(value).__name__)


def _check_material_codes(where: _Where, index: int, matter: dict[str, Any]) -> None:
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
