"""YAML files checked against a JSON Schema, with errors an operator can act on.

The catalog (``matcher/catalog/matters.py``) and the document kinds (``matcher/extract/kinds.py``)
are both YAML written by people: these helpers read a file or a folder of them, refuse a key given
twice, remember the line of every key and list item, and turn a schema error into a
:class:`~matcher.errors.CatalogError` naming the file, the line, the path inside the file
(``matters[3].materials[0].code``) and what is wrong.
"""

from __future__ import annotations

from collections.abc import Hashable
from importlib.resources import files
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any, NamedTuple

import yaml
from yaml.constructor import ConstructorError

from matcher.errors import CatalogError

__all__ = [
    "SUFFIXES",
    "Source",
    "Where",
    "YamlPath",
    "describe_schema_error",
    "parse_yaml",
    "read_sources",
    "schema_path",
    "yaml_type",
]

SUFFIXES = (".yaml", ".yml")

# A JSON path inside one file, e.g. ("matters", 3, "materials", 0, "code").
YamlPath = tuple[str | int, ...]


def schema_path(name: str) -> Traversable:
    """The packaged JSON Schema ``<name>.schema.json``, a byte-identical copy of ``schemas/``'s."""
    return files("matcher") / "data" / "schemas" / f"{name}.schema.json"


class Source(NamedTuple):
    """One YAML file's name (as shown in errors) and bytes."""

    label: str
    data: bytes


def read_sources(
    path: str | Path | None, *, packaged: str, what: str, suffixes: tuple[str, ...] = SUFFIXES
) -> list[Source]:
    """The files of a YAML file or folder (sorted by name); ``None`` reads the package's own
    ``matcher/data/<packaged>/``. ``what`` names the files in errors ("catalog")."""

    def wanted(name: str) -> bool:
        # Dotfiles are editor backups and lock files (".#matters.yaml"), never content.
        return name.endswith(suffixes) and not name.startswith(".")

    if path is None:
        folder = files("matcher") / "data" / packaged
        entries = sorted(
            (entry for entry in folder.iterdir() if wanted(entry.name)),
            key=lambda entry: entry.name,
        )
        return [Source(f"matcher/data/{packaged}/{e.name}", e.read_bytes()) for e in entries]
    root = Path(path)
    label = str(path)
    if root.is_dir():
        paths = sorted(
            (p for p in root.iterdir() if p.is_file() and wanted(p.name)), key=lambda p: p.name
        )
        if not paths:
            raise CatalogError(f"folder holds no *.yaml or *.yml {what} files", file=label)
        return [_read_file(p, str(p)) for p in paths]
    if not root.exists():
        raise CatalogError(f"no such {what} file or folder", file=label)
    return [_read_file(root, label)]


def _read_file(path: Path, label: str) -> Source:
    try:
        return Source(label, path.read_bytes())
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


def parse_yaml(source: Source) -> tuple[Any, dict[YamlPath, int]]:
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
    lines: dict[YamlPath, int] = {}
    if node is not None:
        _collect_lines(node, (), lines)
    return data, lines


def _collect_lines(node: yaml.Node, path: YamlPath, lines: dict[YamlPath, int]) -> None:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        for key_node, value_node in node.value:
            child = (*path, str(key_node.value))
            _collect_lines(value_node, child, lines)
            lines[child] = key_node.start_mark.line + 1
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _collect_lines(item, (*path, index), lines)


class Where(NamedTuple):
    """Turns a path inside one file into a CatalogError that names the file, line and path."""

    file: str
    lines: dict[YamlPath, int]

    def error(self, path: YamlPath, message: str, *, others: int = 0) -> CatalogError:
        # The deepest part of the path that is in the file: a missing key has no line of its own.
        found = (self.lines.get(path[:n]) for n in range(len(path), -1, -1))
        line = next((hit for hit in found if hit is not None), None)
        notes = [f"line {line}"] if line is not None else []
        if others:
            notes.append(f"{others} more problem{'s' if others > 1 else ''} in this file")
        if notes:
            message = f"{message} ({'; '.join(notes)})"
        return CatalogError(message, file=self.file, path=format_path(path) or None)


def format_path(path: YamlPath) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def describe_schema_error(error: Any, data: Any) -> tuple[YamlPath, str]:
    """Where a schema error is and what is wrong, in words an operator can act on."""
    path: YamlPath = tuple(error.absolute_path)
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
            got = yaml_type(instance)
            return path, f"the file must hold a mapping, but is {got}"
        case "type":
            expected = YAML_NAMES.get(error.validator_value, error.validator_value)
            return path, f"must be {expected}, but is {yaml_type(instance)}"
        case "pattern" if error.validator_value == r"\S":
            return path, "must not be blank"
        case "pattern":
            return path, f"{instance!r} does not match the pattern {error.validator_value}"
        case "minItems":
            return path, "must not be empty"
        case "minLength":
            return path, "must not be blank"
    return path, str(error.message)


def _member(data: Any, path: YamlPath) -> Any:
    for part in path:
        data = data[part]
    return data


# JSON Schema's type names in the words of YAML, which is what operators write.
YAML_NAMES = {
    "object": "a mapping",
    "array": "a list",
    "string": "a string",
    "boolean": "a boolean",
}


def yaml_type(value: object) -> str:
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
