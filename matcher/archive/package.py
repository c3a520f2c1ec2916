"""One application's archive package: a zipped BagIt bag (RFC 8493), signed by the service.

Layout (docs/archive.md says what each file proves)::

    <application id>/
      bagit.txt  bag-info.txt  manifest-sha256.txt  tagmanifest-sha256.txt
      metadata/eep.xml                       DA/T 48-style description (a tag file)
      service-key.pem                        the signing key's public half
      tagmanifest-sha256.txt.sig             Ed25519 over tagmanifest-sha256.txt (raw 64 bytes)
      service-signature.json                 the same, with the key id and time
      data/application.json                  the application as kept, the holder in full
      data/request.json  data/answer.json    the request and the answer as recorded
      data/registry-records/index.json       which records, for whom, what verifying found
      data/registry-records/NNN.json         each record exactly as its registry signed it
      data/registry-records/trust-store.json the trust-store entries of their keys
      data/form/prefilled.json  final.json  form.pdf   the form as pre-filled, as confirmed
      data/edits.json                        every value a clerk chose or typed; who confirmed
      data/usage-records.json                the usage records with their chain links
      data/uploads/…                         the uploads still kept with the application

The signature covers the tag manifest, which covers the payload manifest and bag-info.txt: a
changed byte anywhere in the payload fails the checksums, and checksums rewritten to match fail
the signature.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import json
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape
from zoneinfo import ZoneInfo

import bagit

from matcher.applications.formpdf import fill, template_for
from matcher.applications.service import ApplicationResponse
from matcher.errors import ApplicationNotFound
from matcher.store.applications import ApplicationRow
from matcher.store.checkpoints import ServiceKey, public_key_entry
from matcher.wiring import Services

__all__ = ["PACKAGE_VERSION", "build_package", "package_name"]

PACKAGE_VERSION = "1"
DESCRIPTION = (
    "本封装包参照 DA/T 48《基于XML的电子文件封装规范》组织说明信息，以 BagIt（RFC 8493）为载体；"
    "内容的完整性由清单校验和及服务签名证明。"
)
SIGNED_FILE = "tagmanifest-sha256.txt"


def package_name(application_id: str) -> str:
    """The package's file name (and its bag folder's, without ``.zip``)."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", application_id) + ".bag.zip"


def _json(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, indent=2, default=str).encode()


def _iso(value: dt.datetime | None, zone: ZoneInfo) -> str | None:
    """A recorded time with its offset (SQLite keeps none: its times are the service's zone)."""
    if value is None:
        return None
    return (value if value.tzinfo else value.replace(tzinfo=zone)).isoformat()


def build_package(services: Services, row: ApplicationRow) -> bytes:
    """The zipped, signed bag of one kept application (confirmed or not). Blocking."""
    service = services.applications
    view = service.load(row.id)
    matter = services.catalog.get(row.matter_code)
    department_code = services.directory.route(issuer_name=matter.department)
    answer = services.records.get_check(row.check_id)
    if answer is None:
        raise ApplicationNotFound(f"申请 {row.application_id} 的核验记录缺失")
    now = dt.datetime.now(dt.UTC)
    zone = ZoneInfo(services.settings.timezone)
    with tempfile.TemporaryDirectory(prefix="matcher-archive-") as tmp:
        root = Path(tmp) / package_name(row.application_id).removesuffix(".zip")
        root.mkdir()
        payload = _payload(services, row, view, answer, department_code, zone)
        for name, data in payload.items():
            path = root / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
        info = {
            "Source-Organization": matter.department,
            "External-Identifier": row.application_id,
            "External-Description": f"{matter.name}：申请 {row.application_id} 的电子归档包",
            "Matter-Code": row.matter_code,
            "Matter-Name": matter.name,
            "Department": matter.department,
            "Department-Code": department_code or "",
            "Requester": row.requester,
            "Application-Status": row.status,
            "Application-Created": _iso(row.created_at, zone) or "",
            "Application-Confirmed": _iso(row.confirmed_at, zone) or "",
            "Confirmed-By": row.confirmed_by or "",
            "Check-Id": row.check_id,
            "Package-Version": PACKAGE_VERSION,
            "Package-Created": now.isoformat(),
        }
        info = {k: v for k, v in info.items() if v}
        bag = bagit.make_bag(str(root), bag_info=info, checksums=["sha256"])
        (root / "metadata").mkdir()
        (root / "metadata" / "eep.xml").write_bytes(
            _eep(row, matter.name, info, payload, now, zone)
        )
        bag.save(manifests=False)  # the tag manifest now lists metadata/eep.xml too
        _sign(root, services.settings.service_key(), now)
        return _zip(root)


def _payload(
    services: Services,
    row: ApplicationRow,
    view: ApplicationResponse,
    answer: dict[str, Any],
    department_code: str | None,
    zone: ZoneInfo,
) -> dict[str, bytes]:
    service = services.applications
    out: dict[str, bytes] = {}
    request = json.loads(row.request_json)
    uploads = []
    for i, upload in enumerate(request.get("uploads") or [], 1):
        file_id = upload.get("file_id") if isinstance(upload, dict) else None
        kept = services.files.get(row.requester, file_id) if isinstance(file_id, str) else None
        if kept is None:
            uploads.append({"file_id": file_id, "kept": False})
            continue
        suffix = Path(kept.filename or "").suffix or ""
        name = f"uploads/{i:02d}-{kept.sha256[:16]}{suffix}"
        out[name] = kept.data
        uploads.append(
            {
                "file_id": file_id,
                "kept": True,
                "file": name,
                "filename": kept.filename,
                "media_type": kept.media_type,
                "sha256": kept.sha256,
            }
        )
    out["application.json"] = _json(
        {
            "application_id": row.application_id,
            "requester": row.requester,
            "matter_code": row.matter_code,
            "matter_name": view.matter_name,
            "department_code": department_code,
            "status": row.status,
            "created_at": _iso(row.created_at, zone),
            "updated_at": _iso(row.updated_at, zone),
            "holder": {
                "id_type": row.holder_id_type,
                "id": row.holder_id,
                "name": row.holder_name,
            },
            "check_id": row.check_id,
            "form_code": row.form_code,
            "uploads": uploads,
        }
    )
    out["request.json"] = _json(request)
    out["answer.json"] = _json(answer)
    out |= _registry_records(row)
    if row.prefill_json is not None:
        out["form/prefilled.json"] = _json(json.loads(row.prefill_json))
    if row.final_json is not None:
        out["form/final.json"] = _json(
            {
                "values": json.loads(row.final_json),
                "changes": json.loads(row.changes_json) if row.changes_json else None,
            }
        )
    if view.form is not None:
        template = template_for(service.forms.get(view.form.form_code))
        out["form/form.pdf"] = fill(template, service.values(view), flatten=True)
    out["edits.json"] = _json(
        {
            "edits": [
                {
                    "field_key": e.field_key,
                    "value": e.value,
                    "how": e.how,
                    "source": json.loads(e.source_json) if e.source_json else None,
                    "clerk": e.clerk,
                    "at": _iso(e.created_at, zone),
                }
                for e in service.store.edits(row.id)
            ],
            "confirmation": None
            if row.confirmed_at is None
            else {"by": row.confirmed_by, "at": _iso(row.confirmed_at, zone)},
        }
    )
    out["usage-records.json"] = _json(
        {
            "about": "each record's link: row_hash = SHA-256 of prev_hash, a newline and the JSON "
            "array [seq, *material] (docs/archive.md)",
            "records": services.records.chain_links(row.check_id),
        }
    )
    return out  # bagit.make_bag moves them under data/


def _registry_records(row: ApplicationRow) -> dict[str, bytes]:
    """Each record as signed, an index of them, and the trust-store entries of their keys."""
    if row.evidence_json is None:
        return {
            "registry-records/index.json": _json(
                {"kept": False, "note": "kept before records were kept with applications"}
            )
        }
    kept = json.loads(row.evidence_json)
    out: dict[str, bytes] = {}
    index = []
    trust: dict[str, dict[str, Any]] = {}
    seen: dict[str, str] = {}
    for item in kept:
        key = f"{item['registry']}\x1f{item['id']}"
        name = seen.get(key)
        if name is None:  # one file per record, however many parties or materials it served
            name = f"registry-records/{len(seen) + 1:03d}.json"
            seen[key] = name
            out[name] = _json(item["record"])
        index.append(
            {
                "file": name,
                "role": item["role"],
                "registry": item["registry"],
                "kind": item["kind"],
                "id": item["id"],
                "type": item["type"],
                "issuer_code": item["issuer_code"],
                "problems": item["problems"],
                "key_id": (item.get("trust") or {}).get("key_id"),
            }
        )
        if item.get("trust"):
            trust[item["trust"]["key_id"]] = item["trust"]
    out["registry-records/index.json"] = _json({"kept": True, "records": index})
    out["registry-records/trust-store.json"] = _json({"keys": list(trust.values())})
    return out


def _sign(root: Path, key: ServiceKey, at: dt.datetime) -> None:
    signed = (root / SIGNED_FILE).read_bytes()
    signature = key.private.sign(signed)
    entry = public_key_entry(key.public)
    (root / "service-key.pem").write_text(entry["public_key_pem"], encoding="ascii")
    (root / f"{SIGNED_FILE}.sig").write_bytes(signature)
    (root / "service-signature.json").write_bytes(
        _json(
            {
                "signed_file": SIGNED_FILE,
                "alg": "Ed25519",
                "key_id": entry["key_id"],
                "public_key_pem": entry["public_key_pem"],
                "signature": base64.b64encode(signature).decode(),
                "signed_at": at.isoformat(),
            }
        )
    )


def _zip(root: Path) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for path in sorted(p for p in root.rglob("*") if p.is_file()):
            z.write(path, f"{root.name}/{path.relative_to(root).as_posix()}")
    return out.getvalue()


def _eep(
    row: ApplicationRow,
    matter_name: str,
    info: dict[str, str],
    payload: dict[str, bytes],
    now: dt.datetime,
    zone: ZoneInfo,
) -> bytes:
    """A description in the spirit of DA/T 48 (基于XML的电子文件封装规范): what the package is,
    who made it, and its files. Not a conformant EEP: the bag's manifests and signature are
    what prove the content."""
    files = "\n".join(
        f"        <计算机文件><计算机文件名>data/{escape(name)}</计算机文件名>"
        f"<计算机文件大小>{len(data)}</计算机文件大小></计算机文件>"
        for name, data in sorted(payload.items())
    )
    e = {k: escape(v) for k, v in info.items()}
    text = f"""<?xml version="1.0" encoding="UTF-8"?>
<封装包>
  <封装包格式描述>{DESCRIPTION}</封装包格式描述>
  <版本>{PACKAGE_VERSION}</版本>
  <被签名对象>
    <封装包类型>原始型</封装包类型>
    <封装包创建时间>{escape(now.isoformat())}</封装包创建时间>
    <封装包创建单位>{e["Source-Organization"]}</封装包创建单位>
    <封装内容>
      <文件实体>
        <题名>{escape(matter_name)}：申请 {escape(row.application_id)}</题名>
        <文件编号>{escape(row.application_id)}</文件编号>
        <责任者>{e["Department"]}</责任者>
        <日期>{escape(_iso(row.created_at, zone) or "")}</日期>
        <办理状态>{escape(row.status)}</办理状态>
        <文件数据>
{files}
        </文件数据>
      </文件实体>
    </封装内容>
  </被签名对象>
</封装包>
"""
    return text.encode()
