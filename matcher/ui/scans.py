"""Uploaded scans with the extracted fields' boxes drawn over them.

The extraction is run again on the kept file (kept ``upload_retention_hours``) and the last few
results are held in memory, so paging through a scan does not read it again.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response
from PIL import Image, ImageDraw

from matcher.access.users import Session
from matcher.api.deps import ServicesDep
from matcher.applications.workbench import mask_ids_in
from matcher.errors import MatcherError
from matcher.extract.intake import ImagePage, load_document, render_pdf_page
from matcher.extract.model import Extraction
from matcher.ui.deps import Forbidden
from matcher.ui.pages import ViewerDep, load_application
from matcher.ui.render import page
from matcher.wiring import Services

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

BOX = (188, 76, 0)  # the upload badge's colour
_CACHE_SIZE = 16


@dataclass(frozen=True)
class _Read:
    data: bytes
    media_type: str
    extraction: Extraction


_cache: OrderedDict[tuple[str, str], _Read] = OrderedDict()
_lock = threading.Lock()


def _read(services: Services, requester: str, file_id: str) -> _Read | None:
    stored = services.files.get(requester, file_id)
    if stored is None:
        return None
    key = (file_id, stored.sha256)
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    extraction = services.extractor.extract(stored.data, filename=stored.filename)
    read = _Read(stored.data, stored.media_type, extraction)
    with _lock:
        _cache[key] = read
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return read


async def _upload(
    services: Services, session: Session, key: str, file_id: str
) -> tuple[Any, _Read]:
    app = await load_application(services, session, key)
    if not any(d.upload and d.upload.file_id == file_id for d in app.check.decisions):
        raise Forbidden(
            f"申请 {app.application_id} 没有上传件 {file_id}。", session, status_code=404
        )
    try:
        read = await anyio.to_thread.run_sync(_read, services, app.requester, file_id)
    except MatcherError as exc:
        raise Forbidden(f"上传件无法读取：{exc}", session, status_code=422) from None
    if read is None:
        raise Forbidden(
            "上传件已过保存期限并被删除（只保存上传后一段时间）。", session, status_code=410
        )
    return app, read


# A page as the clerk sees it: twice its size, at most this many pixels (an A4 page is 2 MP).
VIEW_MAX_PIXELS = 16_000_000


def _page_image(read: _Read, index: int, services: Services) -> Image.Image | None:
    doc = load_document(read.data, limits=services.extractor.limits)
    if index >= len(doc.pages):
        return None
    source = doc.pages[index]
    if isinstance(source, ImagePage):
        image = Image.fromarray(source.image)
    elif read.media_type == "application/pdf":
        budget = min(VIEW_MAX_PIXELS, services.extractor.limits.max_pixels)
        image = render_pdf_page(read.data, index, 2.0, budget)
    else:
        return None  # an OFD text page: nothing to draw on
    read_page = read.extraction.pages[index]
    if read_page.rotation:
        image = image.rotate(-read_page.rotation, expand=True)
    return image


def _draw(read: _Read, index: int, services: Services) -> bytes | None:
    image = _page_image(read, index, services)
    if image is None:
        return None
    read_page = read.extraction.pages[index]
    sx, sy = image.width / read_page.width, image.height / read_page.height
    draw = ImageDraw.Draw(image)
    width = max(2, image.width // 400)
    for n, f in enumerate(read.extraction.fields, start=1):
        if f.box is None or f.page != index:
            continue
        b = f.box
        draw.rectangle((b.x0 * sx, b.y0 * sy, b.x1 * sx, b.y1 * sy), outline=BOX, width=width)
        label_at = (b.x0 * sx, max(0.0, b.y0 * sy - 12 * width))
        draw.text(label_at, str(n), fill=BOX, font_size=12 * width)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


@router.get("/applications/{key}/uploads/{file_id}", response_class=HTMLResponse)
async def upload_page(
    key: str, file_id: str, request: Request, services: ServicesDep, session: ViewerDep
) -> Response:
    """One upload: its pages with numbered boxes, and the fields read from it."""
    app, read = await _upload(services, session, key, file_id)
    await anyio.to_thread.run_sync(
        services.users.audit, session.user.username, "view_upload", key, {"file_id": file_id}
    )
    fields = [
        {
            "n": n,
            "label": f.label,
            "value": mask_ids_in(f.value),
            "confidence": f.confidence,
            "page": f.page,
            "valid": f.valid,
            "reason": f.reason,
            "boxed": f.box is not None,
        }
        for n, f in enumerate(read.extraction.fields, start=1)
    ]
    pages = sorted({f.page for f in read.extraction.fields} or {0})
    return page(
        request,
        "upload.html",
        {
            "session": session,
            "app": app,
            "file_id": file_id,
            "kind_name": read.extraction.kind_name,
            "fields": fields,
            "pages": pages,
            "warnings": read.extraction.warnings,
        },
    )


@router.get("/applications/{key}/uploads/{file_id}/page-{index}.png")
async def upload_image(
    key: str, file_id: str, index: int, services: ServicesDep, session: ViewerDep
) -> Response:
    _, read = await _upload(services, session, key, file_id)
    png = await anyio.to_thread.run_sync(_draw, read, index, services)
    if png is None:
        raise Forbidden("该页没有可显示的图像。", session, status_code=404)
    return Response(png, media_type="image/png", headers={"Cache-Control": "private, no-store"})
