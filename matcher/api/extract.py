"""Uploads and extraction: POST /v1/files, POST /v1/extract."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, File, Form, UploadFile
from fastapi.responses import JSONResponse

from matcher.api.deps import RequesterDep, ServicesDep
from matcher.errors import FileTooLarge, InputError
from matcher.extract.model import Extraction
from matcher.waiver.payloads import ExtractionResponse, FieldOut, FileOut, PageOut

__all__ = ["extraction_out", "router"]

# Room for the multipart envelope around the largest file the limits accept.
ENVELOPE = 64 * 1024
router = APIRouter(prefix="/v1")

ERRORS: dict[int | str, dict[str, str]] = {
    404: {"description": "文件不存在"},
    413: {"description": "文件过大、页数过多或像素过多"},
    415: {"description": "不支持的文件类型，或声明的类型与内容不符"},
    422: {"description": "文件无法读取（已加密、已损坏、为空）或参数错误"},
}


async def _read(upload: UploadFile, max_bytes: int) -> bytes:
    data = await upload.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise FileTooLarge(f"文件超过上限 {max_bytes // (1024 * 1024)} MB，请压缩后重新上传")
    return data


def extraction_out(result: Extraction) -> ExtractionResponse:
    return ExtractionResponse(
        kind=result.kind,
        kind_name=result.kind_name,
        fields=[
            FieldOut(
                name=f.name,
                label=f.label,
                value=f.value,
                normalised=f.normalised,
                confidence=round(f.confidence, 4),
                page=f.page,
                box=[f.box.x0, f.box.y0, f.box.x1, f.box.y1] if f.box else None,
                valid=f.valid,
                reason=f.reason,
            )
            for f in result.fields
        ],
        pages=[
            PageOut(
                index=p.index,
                source=p.source,
                rotation=p.rotation,
                width=p.width,
                height=p.height,
                text="\n".join(line.text for line in p.lines),
            )
            for p in result.pages
        ],
        warnings=result.warnings,
    )


@router.post(
    "/files",
    status_code=201,
    response_model=FileOut,
    responses=ERRORS,
    summary="上传材料文件（图片、PDF）",
)
async def upload_file(
    file: Annotated[UploadFile, File(description="JPEG、PNG、TIFF 或 PDF")],
    services: ServicesDep,
    requester: RequesterDep,
) -> FileOut:
    extractor = services.extractor
    data = await _read(file, extractor.limits.max_bytes)
    document = await anyio.to_thread.run_sync(
        lambda: extractor.intake(data, filename=file.filename, declared_type=file.content_type)
    )
    stored = await anyio.to_thread.run_sync(
        services.files.put, requester, data, document.media_type, file.filename
    )
    return FileOut(
        file_id=stored.file_id,
        sha256=stored.sha256,
        media_type=stored.media_type,
        size=stored.size,
        pages=len(document.pages),
        expires_at=stored.expires_at,
    )


@router.post(
    "/extract",
    response_model=ExtractionResponse,
    responses=ERRORS,
    summary="识别材料文件：文书类型与字段",
)
async def extract(
    services: ServicesDep,
    requester: RequesterDep,
    file: Annotated[UploadFile | None, File(description="直接上传的文件")] = None,
    file_id: Annotated[str | None, Form(pattern=r"^f_[0-9a-f]{32}$")] = None,
    expected_kind: Annotated[str | None, Form(max_length=64)] = None,
) -> JSONResponse:
    extractor = services.extractor
    if (file is None) == (file_id is None):
        raise InputError("请提供 file（直接上传）或 file_id（已上传文件）其中之一", field="file")
    if file is not None:
        data = await _read(file, extractor.limits.max_bytes)
        name, declared = file.filename, file.content_type
    else:
        assert file_id is not None
        stored = await anyio.to_thread.run_sync(services.files.get, requester, file_id)
        if stored is None:
            return JSONResponse(
                {"error": "file_not_found", "message": "文件不存在或已过保存期限"}, 404
            )
        data, name, declared = stored.data, stored.filename, stored.media_type
    result = await anyio.to_thread.run_sync(
        lambda: extractor.extract(
            data, filename=name, declared_type=declared, expected_kind=expected_kind
        )
    )
    return JSONResponse(extraction_out(result).model_dump(mode="json"))
