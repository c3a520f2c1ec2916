"""Batch audits: POST /v1/audits (upload) → job; GET /v1/audits/{id} → progress; reports."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, File, Form, HTTPException, Request, UploadFile
from fastapi.responses import FileResponse, JSONResponse

from matcher.api.deps import RequesterDep
from matcher.audit.service import REPORT_TYPES, AuditService
from matcher.errors import FileTooLarge, InputError

__all__ = ["MAX_UPLOAD", "router"]

MAX_UPLOAD = 64 * 1024 * 1024
router = APIRouter(prefix="/v1/audits", tags=["audits"])


def _service(request: Request) -> AuditService:
    service: AuditService = request.app.state.audits
    return service


@router.post("", status_code=202, summary="开始一次审计（材料清单或历史申请）")
async def start_audit(
    request: Request,
    requester: RequesterDep,
    kind: Annotated[str, Form(description="materials（材料清单）或 applications（历史申请）")],
    files: Annotated[list[UploadFile], File(description="XLSX/CSV 材料清单或 CSV/JSONL 历史申请")],
    purpose: Annotated[str | None, Form(max_length=256)] = None,
    threshold: Annotated[float | None, Form(ge=0, le=100)] = None,
    city: Annotated[str | None, Form(max_length=32)] = None,
    columns: Annotated[str | None, Form(description="每行一条：门户列名=文件列名")] = None,
) -> JSONResponse:
    from matcher.audit.sheets import parse_column_mapping

    uploads = []
    for upload in files:
        data = await upload.read(MAX_UPLOAD + 1)
        if len(data) > MAX_UPLOAD:
            raise FileTooLarge(f"文件 {upload.filename} 超过 {MAX_UPLOAD // (1 << 20)} MB")
        uploads.append((upload.filename or "upload.csv", data))
    options: dict[str, Any] = {}
    if kind == "applications":
        options["purpose"] = purpose
    elif kind == "materials":
        options["columns"] = parse_column_mapping((columns or "").split("\n") if columns else [])
        if threshold is not None:
            options["threshold"] = threshold
        if city:
            options["city"] = city
    else:
        raise InputError("kind 应为 materials 或 applications", field="kind")
    service = _service(request)
    job = await anyio.to_thread.run_sync(service.start, kind, uploads, options, requester)
    return JSONResponse(job, status_code=202, headers={"Location": f"/v1/audits/{job['job_id']}"})


@router.get("/{job_id}", summary="审计进度与报告")
async def audit_progress(job_id: str, request: Request, requester: RequesterDep) -> JSONResponse:
    progress = await anyio.to_thread.run_sync(_service(request).progress, job_id, requester)
    if progress is None:
        raise HTTPException(404, f"没有编号为 {job_id} 的审计任务")
    return JSONResponse(progress)


@router.get("/{job_id}/reports/{name}", summary="下载审计报告")
async def audit_report(
    job_id: str, name: str, request: Request, requester: RequesterDep
) -> FileResponse:
    path = await anyio.to_thread.run_sync(_service(request).report, job_id, name, requester)
    if path is None or not path.exists():
        raise HTTPException(404, f"审计任务 {job_id} 没有（或尚未生成）报告 {name}")
    download = f"audit-{job_id[:8]}-{path.name}"
    return FileResponse(path, media_type=REPORT_TYPES[name], filename=download)
