"""Reviewed mappings → a catalog file (``schemas/catalog.schema.json``) the waive-check service
loads: one matter per 事项编码, one material per listed material, the matched type as evidence."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import yaml

from matcher.catalog.licences import Directory

__all__ = ["catalog_from_rows", "read_reviewed", "write_catalog"]

_CODE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


def _matter_code(code: str) -> str:
    if _CODE.match(code):
        return code
    return "m-" + hashlib.sha256(code.encode()).hexdigest()[:16]


def catalog_from_rows(rows: Iterable[dict[str, Any]], directory: Directory) -> dict[str, Any]:
    """The catalog for the audited matters; only types the registries hold become evidence."""
    matters: dict[str, dict[str, Any]] = {}
    for r in rows:
        if r["classification"] == "invalid" or not r["matter_name"] or not r["department"]:
            continue
        code = _matter_code(r["matter_code"])
        matter = matters.setdefault(
            code,
            {
                "code": code,
                "name": r["matter_name"],
                "department": r["department"],
                "description": f"由材料清单审计导出（事项编码 {r['matter_code']}）",
                "materials": [],
            },
        )
        t = directory.get(r["type_code"]) if r["type_code"] else None
        evidence: list[dict[str, str]] = []
        if t is not None and t.electronic:
            key = "type_code" if t.kind == "e_licence" else "cert_type"
            evidence.append({"kind": t.kind, key: t.code})
        material: dict[str, Any] = {
            "code": f"m{len(matter['materials']) + 1:03d}",
            "name": r["name"],
            "required": r["necessary"] is not False,
            "issued_by_city": r["classification"] == "city_issued"
            or bool(t is not None and t.issued_by_city),
        }
        if t is not None:
            material["issuer"] = t.issuer
        if r.get("commitment_allowed"):
            material["accept_commitment"] = True
        material["evidence"] = evidence
        matter["materials"].append(material)
    return {"matters": list(matters.values())}


# libyaml's emitter (PyYAML's wheels carry it): the pure-Python one spent 8 of 19 s of a
# 9,660-row audit here. Same safe representer, same document.
_DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)


def write_catalog(catalog: dict[str, Any], path: Path) -> None:
    header = "# 由材料清单审计导出的事项与材料清单（schemas/catalog.schema.json）\n"
    body = yaml.dump(catalog, Dumper=_DUMPER, allow_unicode=True, sort_keys=False, width=100)
    path.write_text(header + body, encoding="utf-8")


def read_reviewed(path: Path) -> dict[str, str | None]:
    """A reviewed-mappings CSV (材料名称, 证照类型代码; empty or 无 = no type) → name → code."""
    from matcher.audit.sheets import read_table

    rows = list(read_table(path))
    if not rows:
        return {}
    header = [c.strip() for c in rows[0]]
    try:
        name_at, code_at = header.index("材料名称"), header.index("证照类型代码")
    except ValueError:
        from matcher.errors import InputError

        raise InputError(f"{path.name}: 复核文件需要列「材料名称」和「证照类型代码」") from None
    out: dict[str, str | None] = {}
    for cells in rows[1:]:
        if len(cells) > max(name_at, code_at) and cells[name_at].strip():
            code = cells[code_at].strip()
            out[cells[name_at].strip()] = None if code in ("", "无") else code
    return out
