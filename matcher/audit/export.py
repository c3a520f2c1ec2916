"""Reviewed mappings → a catalog file (``schemas/catalog.schema.json``) the waive-check service
loads: one matter per 事项编码, one material per listed material, the matched type as evidence."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import orjson

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
    codes: dict[str, str] = {}
    for r in rows:
        if r["classification"] == "invalid" or not r["matter_name"] or not r["department"]:
            continue
        listed = r["matter_code"]
        code = codes.get(listed) or codes.setdefault(listed, _matter_code(listed))
        matter = matters.get(code)
        if matter is None:
            matter = matters[code] = {
                "code": code,
                "name": r["matter_name"],
                "department": r["department"],
                "description": f"由材料清单审计导出（事项编码 {listed}）",
                "materials": [],
            }
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


# Characters a YAML 1.1 reader takes as a line break or refuses, left raw by the JSON encoder:
# escaped, so a name holding one loads back as it was.
_YAML_UNSAFE = re.compile("[\x7f-\x9f\u2028\u2029\ufeff\ufffe\uffff]")


def _flow(value: Any) -> str:
    """A value in YAML flow style: JSON, which YAML reads as it is (``{"a":1}``, ``"text"``,
    ``true``)."""
    text = orjson.dumps(value).decode()
    if _YAML_UNSAFE.search(text):
        text = _YAML_UNSAFE.sub(lambda m: f"\\u{ord(m.group()):04x}", text)
    return text


def write_catalog(catalog: dict[str, Any], path: Path) -> None:
    """The catalog as YAML, written as it goes: a matter's keys in block style, each material a
    flow mapping on its own line. PyYAML's representer (Python, even with the C emitter) spent
    30 of 100 s of a 100,000-row audit here; any YAML reader loads this file to the same data."""
    with path.open("w", encoding="utf-8") as out:
        out.write("# 由材料清单审计导出的事项与材料清单（schemas/catalog.schema.json）\n")
        if not catalog["matters"]:
            out.write("matters: []\n")
            return
        out.write("matters:\n")
        for matter in catalog["matters"]:
            lead = "- "
            for key, value in matter.items():
                if key != "materials":
                    out.write(f"{lead}{key}: {_flow(value)}\n")
                    lead = "  "
            materials = matter.get("materials") or []
            out.write(f"{lead}materials:{'' if materials else ' []'}\n")
            out.write("".join(f"  - {_flow(m)}\n" for m in materials))


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
