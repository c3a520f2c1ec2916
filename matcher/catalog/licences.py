"""The licence directory (证照目录): licence and data-certificate types, with their aliases.

One YAML file or a folder of them (``matcher/data/directory/`` when none is given), each checked
against ``schemas/licence-directory.schema.json``. The sample catalog's type codes come from it,
and the material-list audit matches material names to its types.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import jsonschema  # type: ignore[import-untyped, unused-ignore]

from matcher.catalog.yamlfiles import (
    Where,
    describe_schema_error,
    parse_yaml,
    read_sources,
    schema_path,
)

__all__ = ["Directory", "DirectoryType", "load_directory"]

TypeKind = Literal["e_licence", "data_certificate"]


@dataclass(frozen=True)
class DirectoryType:
    """One licence type (电子证照类型) or data-certificate type (数据凭证类型)."""

    kind: TypeKind
    code: str
    name: str
    aliases: tuple[str, ...]
    issuer: str
    issued_by_city: bool
    electronic: bool  # the registry holds it electronically (always true for data certificates)
    holder: str
    level: str = "national"

    @property
    def kind_text(self) -> str:
        return "电子证照" if self.kind == "e_licence" else "数据凭证"


@dataclass(frozen=True)
class Directory:
    types: tuple[DirectoryType, ...]
    by_code: dict[str, DirectoryType] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "by_code", {t.code: t for t in self.types})

    def get(self, code: str) -> DirectoryType | None:
        return self.by_code.get(code)

    def __contains__(self, code: object) -> bool:
        return code in self.by_code

    def __len__(self) -> int:
        return len(self.types)

    @property
    def licence_types(self) -> tuple[DirectoryType, ...]:
        return tuple(t for t in self.types if t.kind == "e_licence")

    @property
    def certificate_types(self) -> tuple[DirectoryType, ...]:
        return tuple(t for t in self.types if t.kind == "data_certificate")


@functools.cache
def _validator() -> Any:
    schema = json.loads(schema_path("licence-directory").read_text(encoding="utf-8"))
    return jsonschema.Draft202012Validator(schema)


def load_directory(path: str | Path | None = None) -> Directory:
    """Load the directory from a YAML file or folder; ``None`` loads the shipped one."""
    types: list[DirectoryType] = []
    seen: dict[str, str] = {}
    for source in read_sources(path, packaged="directory", what="licence directory"):
        data, lines = parse_yaml(source)
        where = Where(source.label, lines)
        if not isinstance(data, dict):
            raise where.error((), "the file must hold a mapping with licence_types")
        errors = list(_validator().iter_errors(data))
        if errors:
            at, message = describe_schema_error(jsonschema.exceptions.best_match(errors), data)
            raise where.error(at, message, others=len(errors) - 1)
        for section, kind in (("licence_types", "e_licence"), ("certificate_types", "data_cert")):
            for index, raw in enumerate(data.get(section, [])):
                code = raw["code"]
                if code in seen:
                    raise where.error(
                        (section, index, "code"),
                        f"duplicate type code {code!r}, first defined in {seen[code]}",
                    )
                seen[code] = source.label
                types.append(
                    DirectoryType(
                        kind="e_licence" if kind == "e_licence" else "data_certificate",
                        code=code,
                        name=raw["name"],
                        aliases=tuple(raw.get("aliases", ())),
                        issuer=raw["issuer"],
                        issued_by_city=raw["issued_by_city"],
                        electronic=raw.get("electronic", True),
                        holder=raw["holder"],
                        level=raw.get("level", "national"),
                    )
                )
    return Directory(tuple(types))
