"""The replay audit (多收材料审计): past applications asked again of the registries.

For each application the waive-check flow runs as of its date, as an audit use with its purpose;
every material the application collected is then one row: ``needless`` (the registries held
verified evidence that would have replaced it — which), ``needed``, ``unknown`` (a registry did
not answer: never counted as needless) or ``invalid`` (the row could not be replayed, and why).
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from matcher.applications.coverage import coverage
from matcher.applications.forms import Forms
from matcher.audit.matching import normalise_name
from matcher.catalog.matters import Catalog, Matter
from matcher.errors import CatalogError, ConsentRequired, InputError
from matcher.waiver.check import WaiveCheckService
from matcher.waiver.judge import to_bring
from matcher.waiver.payloads import WaiveCheckRequest

__all__ = ["STATUS_TEXT", "read_applications", "replay_applications"]

STATUS_TEXT = {
    "needless": "本可免收",
    "needed": "确需收取",
    "unknown": "无法判断（证照库未应答）",
    "invalid": "数据有误",
}
FIELDS = ("application_id", "matter_code", "date", "applicant_id_type", "applicant_id")


def _split(text: str) -> list[str]:
    for sep in ("；", "、", "|"):
        text = text.replace(sep, ";")
    return [part.strip() for part in text.split(";") if part.strip()]


def _parties(text: str) -> list[dict[str, str]]:
    """CSV parties: JSON, or ``role:id_type:id:name`` items separated by ``;``."""
    text = text.strip()
    if not text:
        return []
    if text.startswith("["):
        parsed = json.loads(text)
        if not isinstance(parsed, list):
            raise ValueError("parties 应为列表")
        return [dict(p) for p in parsed]
    out = []
    for item in _split(text):
        role, id_type, number, *name = item.split(":")
        out.append({"role": role, "id_type": id_type, "id": number, "name": ":".join(name)})
    return out


def _normalise(raw: dict[str, Any], source: str, row: int) -> dict[str, Any]:
    """An application as the chunk function takes it; problems listed, never raised."""
    problems = [f"{name}：缺少" for name in FIELDS if not str(raw.get(name) or "").strip()]
    materials = raw.get("materials", "")
    if isinstance(materials, str):
        materials = _split(materials)
    parties = raw.get("parties", [])
    try:
        if isinstance(parties, str):
            parties = _parties(parties)
    except (ValueError, TypeError) as exc:
        problems.append(f"parties：无法解析（{exc}）")
        parties = []
    date = str(raw.get("date") or "").strip()
    try:
        if date:
            dt.date.fromisoformat(date[:10])
    except ValueError:
        problems.append(f"date：「{date}」不是 YYYY-MM-DD 日期")
    if not materials:
        problems.append("materials：没有收取的材料")
    return {
        "source": source,
        "row": row,
        "application_id": str(raw.get("application_id") or "").strip(),
        "matter_code": str(raw.get("matter_code") or "").strip(),
        "date": date[:10],
        "applicant": {
            "id_type": str(raw.get("applicant_id_type") or "").strip(),
            "id": str(raw.get("applicant_id") or "").strip(),
            "name": str(raw.get("applicant_name") or "").strip() or None,
        },
        "parties": parties,
        "materials": [str(m) for m in materials],
        "problems": problems,
    }


def read_applications(path: Path) -> list[dict[str, Any]]:
    """Past applications from CSV (header row) or JSONL (one object a line); bad rows are kept."""
    label = path.name
    text = path.read_bytes().decode("utf-8-sig", errors="replace")
    if path.suffix.lower() in (".jsonl", ".ndjson", ".json"):
        apps = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                raw = json.loads(line)
                if not isinstance(raw, dict):
                    raise ValueError("not an object")
            except ValueError:
                raw = {"application_id": f"line-{number}"}
                app = _normalise(raw, label, number)
                app["problems"] = ["本行不是 JSON 对象"]
                apps.append(app)
                continue
            apps.append(_normalise(raw, label, number))
        return apps
    reader = csv.DictReader(io.StringIO(text))
    return [_normalise(dict(raw), label, n) for n, raw in enumerate(reader, start=2)]


def _material(matter: Matter, given: str) -> Any:
    for m in matter.materials:
        if m.code == given or m.name == given:
            return m
    wanted = normalise_name(given)
    return next((m for m in matter.materials if normalise_name(m.name) == wanted), None)


def _rows(
    app: dict[str, Any], matter: Matter | None, status: str, reason: str
) -> list[dict[str, Any]]:
    return [
        {
            "source": app["source"],
            "row": app["row"],
            "application_id": app["application_id"],
            "matter_code": app["matter_code"],
            "matter_name": matter.name if matter else "",
            "department": matter.department if matter else "",
            "month": app["date"][:7],
            "material": given,
            "material_name": given,
            "status": status,
            "status_text": STATUS_TEXT[status],
            "evidence": "",
            "reason": reason,
        }
        for given in app["materials"] or ["（无）"]
    ]


async def _replay_one(
    app: dict[str, Any],
    checker: WaiveCheckService,
    catalog: Catalog,
    requester: str,
    purpose: str,
    zero_fields: dict[str, str],
) -> list[dict[str, Any]]:
    if app["problems"]:
        return _rows(app, None, "invalid", "；".join(app["problems"]))
    try:
        matter = catalog.get(app["matter_code"])
    except CatalogError:
        return _rows(app, None, "invalid", f"事项编码 {app['matter_code']} 不在事项目录中")
    # A past application names no situations (情形); a material it collected that is asked for
    # only in one says that situation applied.
    situations = sorted(
        {
            m.situation
            for given in app["materials"]
            if (m := _material(matter, given)) and m.situation
        }
    )
    try:
        request = WaiveCheckRequest.model_validate(
            {
                "matter_code": app["matter_code"],
                "applicant": app["applicant"],
                "parties": app["parties"],
                "application_id": app["application_id"],
                "situations": situations,
            }
        )
        result = await checker.check(
            request, requester, purpose=purpose, as_of=dt.date.fromisoformat(app["date"])
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        return _rows(app, matter, "invalid", f"{where}：{first['msg']}")
    except InputError as exc:
        return _rows(app, matter, "invalid", str(exc))
    except ConsentRequired:
        # An audit holds no holder's consent: what the registries hold stays unasked, unknown.
        return _rows(app, matter, "unknown", "该事项须经持证主体授权方可调取，审计未调取")
    decisions = {d.material_code: d for d in result.response.decisions}
    # Would it have gone through untouched (智能秒办, for a matter marked for it)?
    approval = result.response.auto_approval
    untouched = approval is not None and approval.status == "eligible"
    # Would the applicant have had nothing to bring (申请零材料)? The pre-filled application
    # form is confirmed on line, not brought.
    nothing = not to_bring(result.response.decisions)
    out = []
    for row, given in zip(_rows(app, matter, "needed", ""), app["materials"], strict=True):
        material = _material(matter, given)
        decision = decisions.get(material.code) if material is not None else None
        if material is None or decision is None:
            row.update(status="needed", reason="该材料不在事项的必要材料清单中（清单外收取）")
        elif decision.decision == "waive":
            used = "；".join(
                f"《{e.type_name or e.type}》{e.id}" for e in decision.evidence if e.verified
            )
            row.update(status="needless", evidence=used, reason=decision.reason)
        elif decision.basis == "registry_unavailable":
            row.update(status="unknown", reason=decision.reason)
        else:
            row.update(status="needed", reason=decision.reason)
        if material is not None:
            row["material_name"] = material.name
        row["status_text"] = STATUS_TEXT[row["status"]]
        row["untouched"] = untouched
        row["zero_materials"] = nothing
        row["auto_approval_marked"] = matter.auto_approval
        row["zero_fields"] = zero_fields.get(matter.code, "无申请表")
        out.append(row)
    return out


async def replay_applications(
    apps: Sequence[dict[str, Any]],
    checker: WaiveCheckService,
    catalog: Catalog,
    *,
    requester: str,
    purpose: str,
    concurrency: int = 16,
    forms: Forms | None = None,
) -> list[dict[str, Any]]:
    """Every application replayed, at most ``concurrency`` at once; rows in input order."""
    gate = asyncio.Semaphore(concurrency)
    # 填报零字段 is the matter's form's: does it leave any field for the applicant to type?
    zero_fields = {
        c.code: ("是" if c.zero_fields else "否")
        for c in (coverage(catalog, forms) if forms is not None else [])
        if c.form is not None
    }

    async def one(app: dict[str, Any]) -> list[dict[str, Any]]:
        async with gate:
            return await _replay_one(app, checker, catalog, requester, purpose, zero_fields)

    done = await asyncio.gather(*(one(app) for app in apps))
    return [row for rows in done for row in rows]
