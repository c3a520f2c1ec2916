"""The application list and the application page; each has a JSON twin (``.json``)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from matcher.access.users import Session, allowed
from matcher.api.deps import ServicesDep
from matcher.applications.service import ApplicationResponse
from matcher.applications.workbench import mask_id, mask_ids_in
from matcher.errors import ApplicationNotFound
from matcher.store.applications import ApplicationRow
from matcher.ui.deps import CsrfSessionDep, Forbidden, permitted, require
from matcher.ui.render import page
from matcher.ui.viewmodel import DECISION_NAMES, checklist, counts, form_view
from matcher.wiring import Services

__all__ = ["ViewerDep", "load_application", "render_application", "router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

ViewerDep = Annotated[Session, Depends(permitted("applications.view"))]
SearchQuery = Annotated[str | None, Query(max_length=128)]
STATUS_NAMES = {"prefilled": "待确认", "confirmed": "已确认"}


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/applications", status_code=303)


def _row_json(services: Services, row: ApplicationRow) -> dict[str, Any]:
    return {
        "id": row.id,
        "application_id": row.application_id,
        "requester": row.requester,
        "matter_code": row.matter_code,
        "matter_name": _matter_name(services, row.matter_code),
        "holder_name": row.holder_name,
        "holder_id_type": row.holder_id_type,
        "holder_id_masked": mask_id(row.holder_id_type, row.holder_id),
        "status": row.status,
        "created_at": row.created_at.isoformat(),
    }


def _matter_name(services: Services, code: str) -> str:
    try:
        return services.catalog.get(code).name
    except Exception:  # a matter since removed from the catalog: show its code
        return code


async def _recent(services: Services, session: Session, q: str | None) -> list[dict[str, Any]]:
    if q:
        # A search (by ID number, most often) is a use of holders' data: on the audit trail,
        # the number masked as everywhere at rest.
        await anyio.to_thread.run_sync(
            services.users.audit,
            session.user.username,
            "search_applications",
            None,
            {"term": mask_ids_in(q)},
        )
    user = session.user
    rows = await anyio.to_thread.run_sync(
        lambda: services.applications.recent(
            limit=50,
            search=q or None,
            department=user.department,
            every_department=allowed(user, "applications.all_departments"),
        )
    )
    return [_row_json(services, r) for r in rows]


@router.get("/applications.json")
async def applications_json(
    services: ServicesDep, session: ViewerDep, q: SearchQuery = None
) -> JSONResponse:
    return JSONResponse({"q": q, "applications": await _recent(services, session, q)})


@router.get("/applications", response_class=HTMLResponse)
async def applications(
    request: Request, services: ServicesDep, session: ViewerDep, q: SearchQuery = None
) -> Response:
    rows = await _recent(services, session, q)
    return page(
        request,
        "applications.html",
        {
            "session": session,
            "rows": rows,
            "q": q or "",
            "status_names": STATUS_NAMES,
            "scope": _scope(services, session),
        },
    )


def _scope(services: Services, session: Session) -> str:
    """Whose applications the list shows, in the clerk's words."""
    user = session.user
    if allowed(user, "applications.all_departments"):
        return "显示各部门事项的申请。"
    if not user.department:
        return "您的账户未设所属部门，看不到任何申请；请管理员设置部门。"
    department = services.directory.departments.get(user.department.lower())
    shown = department.name if department is not None else user.department
    return f"只显示{shown}办理事项的申请。"


async def load_application(services: Services, session: Session, key: str) -> ApplicationResponse:
    """The application, if this clerk may see it: one of their department's matters, or any
    for a comprehensive window or an admin. Another department's is not found, as if absent."""
    try:
        app = await anyio.to_thread.run_sync(services.applications.load, key)
    except ApplicationNotFound:
        raise Forbidden(f"没有找到申请 {key}。", session, status_code=404) from None
    user = session.user
    if not allowed(user, "applications.all_departments") and (
        app.matter_code not in services.applications.matters_of(user.department)
    ):
        raise Forbidden(f"没有找到申请 {key}。", session, status_code=404)
    return app


def render_application(
    request: Request,
    services: Services,
    session: Session,
    app: ApplicationResponse,
    *,
    reveal: bool = False,
    errors: dict[str, str] | None = None,
    typed: dict[str, str] | None = None,
    summary: list[tuple[str, str]] | None = None,
    status_code: int = 200,
) -> Response:
    """The application page; ``errors`` by field key show inline and in the summary on top."""
    sections = form_view(app, reveal=reveal, errors=errors, typed=typed)
    items = list(summary or [])
    for s in sections:
        for f in s.fields:
            if f.error:
                items.append((f"f-{f.key}", f"{f.label}：{f.error}"))
    row = services.applications.store.get(app.id)
    assert row is not None
    return page(
        request,
        "application.html",
        {
            "session": session,
            "app": app,
            "check": checklist(app, reveal),
            "sections": sections,
            "counts": counts(sections),
            "decision_names": DECISION_NAMES,
            "status_names": STATUS_NAMES,
            "holder_name": row.holder_name,
            "holder_shown": row.holder_id if reveal else mask_id(row.holder_id_type, row.holder_id),
            "revealed": reveal,
            "error_summary": items,
            "uploads": _uploads(app, reveal),
        },
        status_code=status_code,
    )


def _uploads(app: ApplicationResponse, reveal: bool) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for d in app.check.decisions:
        if d.upload is not None:
            out.append(
                {
                    "material_name": d.material_name,
                    "file_id": d.upload.file_id,
                    "kind": d.upload.kind,
                    "mismatches": [
                        m.model_dump() if reveal else mask_ids_in(m.model_dump())
                        for m in d.upload.mismatches
                    ],
                    "decision": d.decision,
                }
            )
    return out


@router.get("/applications/{key}.json")
async def application_json(key: str, services: ServicesDep, session: ViewerDep) -> JSONResponse:
    app = await load_application(services, session, key)
    return JSONResponse(mask_ids_in(app.model_dump(mode="json")))


@router.get("/applications/{key}", response_class=HTMLResponse)
async def application_page(
    key: str, request: Request, services: ServicesDep, session: ViewerDep
) -> Response:
    app = await load_application(services, session, key)
    return await anyio.to_thread.run_sync(
        lambda: render_application(request, services, session, app)
    )


@router.post("/applications/{key}/reveal", response_class=HTMLResponse)
async def reveal_holder_id(
    key: str, request: Request, services: ServicesDep, session: CsrfSessionDep
) -> Response:
    """Show the application's ID numbers in full, once, and record who asked (审计)."""
    require(session, "holder_id.reveal")
    app = await load_application(services, session, key)
    await anyio.to_thread.run_sync(
        services.users.audit,
        session.user.username,
        "reveal_holder_id",
        key,
        {"application_id": app.application_id},
    )
    return await anyio.to_thread.run_sync(
        lambda: render_application(request, services, session, app, reveal=True)
    )
