"""The department directory (部门目录), as data.

A data-problem report belongs to the department that owns the data: found by the record's
issuer code, else by the issuer's name (the catalog names issuers, records carry codes), else by
the registry that answered. Files are YAML checked against ``schemas/departments.schema.json``.
Which licence types exist comes from the licence directory (:mod:`matcher.catalog.licences`)
unless a department file lists ``licence_types`` itself.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from matcher.catalog.yamlfiles import (
    Where,
    describe_schema_error,
    parse_yaml,
    read_sources,
    schema_path,
)
from matcher.errors import CatalogError

__all__ = ["Department", "Directory", "load_directory"]


@dataclass(frozen=True)
class Department:
    code: str
    name: str
    issuer_codes: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    registries: tuple[str, ...] = ()


@dataclass
class Directory:
    departments: dict[str, Department] = field(default_factory=dict)
    licence_types: dict[str, str] | None = None  # None: no licence directory, no such check
    _by_issuer: dict[str, str] = field(default_factory=dict)
    _by_name: dict[str, str] = field(default_factory=dict)
    _by_registry: dict[str, str] = field(default_factory=dict)

    def add(self, dept: Department) -> None:
        self.departments[dept.code] = dept
        for code in dept.issuer_codes:
            self._by_issuer[code] = dept.code
        for name in (dept.name, *dept.aliases):
            self._by_name[name] = dept.code
        for registry in dept.registries:
            self._by_registry[registry] = dept.code

    def run_by(self, registry: str, department: str) -> None:
        """The registry's configuration names its department: that wins over the directory."""
        self._by_registry[registry] = department

    def route(
        self,
        *,
        issuer_code: str | None = None,
        issuer_name: str | None = None,
        registry: str | None = None,
    ) -> str | None:
        """The owning department's code, or None when the directory does not know it."""
        for table, key in (
            (self._by_issuer, issuer_code),
            (self._by_name, issuer_name),
            (self._by_registry, registry),
        ):
            if key and key in table:
                return table[key]
        return None

    def name(self, code: str | None) -> str | None:
        dept = self.departments.get(code) if code else None
        return dept.name if dept else None

    def knows_type(self, type_code: str) -> bool:
        return self.licence_types is None or type_code in self.licence_types


@functools.cache
def _validator() -> Any:
    schema = json.loads(schema_path("departments").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_directory(path: str | Path | None = None) -> Directory:
    """A department directory file or folder (merged); ``None``: the sample city's."""
    directory = Directory()
    for source in read_sources(path, packaged="departments", what="department directory"):
        data, lines = parse_yaml(source)
        where = Where(source.label, lines)
        errors = list(_validator().iter_errors(data))
        if errors:
            at, message = describe_schema_error(jsonschema.exceptions.best_match(errors), data)
            raise where.error(at, message, others=len(errors) - 1)
        for i, raw in enumerate(data["departments"]):
            if raw["code"] in directory.departments:
                raise where.error(
                    ("departments", i, "code"), f"duplicate department code {raw['code']!r}"
                )
            directory.add(
                Department(
                    code=raw["code"],
                    name=raw["name"],
                    issuer_codes=tuple(raw.get("issuer_codes", ())),
                    aliases=tuple(raw.get("aliases", ())),
                    registries=tuple(raw.get("registries", ())),
                )
            )
        if "licence_types" in data:
            types = directory.licence_types or {}
            types.update({t["code"]: t["name"] for t in data["licence_types"]})
            directory.licence_types = types
    if not directory.departments:
        raise CatalogError("the directory names no department", file=str(path))
    return directory
