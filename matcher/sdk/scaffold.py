"""``matcher adapters new``: write a separate, installable adapter package that passes its tests.

The package has a pyproject with the ``matcher.adapters`` entry point, the adapter module with its
options model, a recorded answer of the registry, a test of that answer's mapping, a test file
running the shared contract suite, and a README. As written it speaks the reference protocol
(docs/registry-protocol.md), so it runs against ``matcher sandbox`` before it is changed.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from string import Template
from typing import Any, Literal

from matcher.errors import InputError

__all__ = ["KINDS", "Scaffold", "write_scaffold"]

ScaffoldKind = Literal["e_licence", "data_certificate"]
KINDS: tuple[ScaffoldKind, ...] = ("e_licence", "data_certificate")
NAME_RE = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class Scaffold:
    name: str
    kind: ScaffoldKind
    root: Path
    files: tuple[Path, ...]

    @property
    def dist(self) -> str:
        return f"matcher-adapter-{self.name}"


def _values(name: str, kind: ScaffoldKind, answer: Any) -> dict[str, str]:
    module = "matcher_adapter_" + name.replace("-", "_")
    values = {
        "name": name,
        "kind": kind,
        "dist": f"matcher-adapter-{name}",
        "module": module,
        "cls": "".join(part.capitalize() for part in name.split("-")),
    }
    if kind == "e_licence":
        record = answer["items"][0]
        values |= {
            "protocol_section": "§1",
            "type_code": record["type_code"],
            "record_id": record["licence_id"],
            "record_number": record["number"],
            "issuer_code": record["issuer"]["code"],
            "valid_until": record["valid_until"],
        }
    else:
        values |= {
            "protocol_section": "§2",
            "type_code": answer["cert_type"],
            "record_id": answer["certificate_no"],
            "issuer_code": answer["source"]["code"],
            "valid_until": answer["valid_until"],
        }
    return values


def write_scaffold(name: str, kind: str, directory: Path) -> Scaffold:
    """Write ``matcher-adapter-NAME/`` into ``directory``; refuses to overwrite anything."""
    if not NAME_RE.fullmatch(name) or len(name) > 40:
        raise InputError(
            f"adapter name {name!r}: lower-case letters, digits and single hyphens, starting "
            "with a letter, at most 40 characters (e.g. zj-province)",
            field="name",
        )
    if kind not in KINDS:
        raise InputError(f"kind {kind!r}: one of {', '.join(KINDS)}", field="kind")
    root = directory / f"matcher-adapter-{name}"
    if root.exists() and any(root.iterdir()):
        raise InputError(f"{root} exists and is not empty; nothing was written", field="dir")
    templates = resources.files("matcher").joinpath("data", "scaffold")
    answer_text = templates.joinpath(kind, "answer.json").read_text(encoding="utf-8")
    values = _values(name, kind, json.loads(answer_text))
    module = values["module"]
    plan = {
        "pyproject.toml": ("common", "pyproject.toml.tmpl"),
        "README.md": ("common", "README.md.tmpl"),
        f"src/{module}/__init__.py": ("common", "__init__.py.tmpl"),
        f"src/{module}/adapter.py": (kind, "adapter.py.tmpl"),
        f"src/{module}/py.typed": None,
        "tests/conftest.py": ("common", "conftest.py.tmpl"),
        "tests/test_contract.py": (kind, "test_contract.py.tmpl"),
        "tests/test_recorded.py": (kind, "test_recorded.py.tmpl"),
        "tests/recorded/answer.json": None,
    }
    written = []
    for relative, source in plan.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        if relative.endswith("answer.json"):
            text = answer_text
        elif source is None:
            text = ""
        else:
            text = Template(templates.joinpath(*source).read_text(encoding="utf-8")).substitute(
                values
            )
        path.write_text(text, encoding="utf-8")
        written.append(path)
    return Scaffold(name, kind, root, tuple(written))
