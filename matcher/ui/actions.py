"""What a clerk does on an application: settle a field, check a value as it is typed, confirm,
then download the filled PDF or print."""

from __future__ import annotations

from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from matcher.access.users import Session
from matcher.api.deps import ServicesDep
from matcher.applications.formpdf import fill, template_for
from matcher.applications.service import ApplicationResponse
from matcher.archive.package import build_package, package_name
from matcher.errors import ConflictError, InputError
from matcher.ui.deps import CsrfSessionDep, Forbidden, require
from matcher.ui.pages import ViewerDep, load_application, render_application
from matcher.ui.render import page
from matcher.ui.viewmodel import choice_value, form_view
from matcher.wiring import Services

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

Value = Annotated[str | None, Form(max_length=500)]
ChoiceIndex = Annotated[int | None, Form(ge=0, le=100)]


@router.post("/applications/{key}/fields/{field_key}", response_class=HTMLResponse)
async def set_field(
    key: str,
    field_key: str,
    request: Request,
    services: ServicesDep,
    session: CsrfSessionDep,
    value: Value = None,
    choice: ChoiceIndex = None,
) -> Response:
    """Keep one source's value (``choice``) or what the clerk typed (``value``)."""
    require(session, "applications.confirm")
    app = await load_application(services, session, key)
    chosen = choice_value(app, field_key, choice) if choice is not None else None
    text = chosen if chosen is not None else (value or "").strip()
    try:
        if not text:
            raise InputError("请填写或选择一个值", field=field_key)
        await anyio.to_thread.run_sync(
            lambda: services.applications.set_value(
                key, field_key, text, clerk=session.user.username
            )
        )
    except InputError as exc:
        message = str(exc).split("：", 1)[-1] if exc.field == field_key else str(exc)
        return await anyio.to_thread.run_sync(
            lambda: render_application(
                request,
                services,
                session,
                app,
                errors={field_key: message},
                typed={field_key: value or ""},
                status_code=400,
            )
        )
    except ConflictError as exc:
        raise Forbidden(str(exc), session, status_code=409) from None
    return RedirectResponse(f"/ui/applications/{key}?msg=saved#f-{field_key}", status_code=303)


@router.get("/applications/{key}/fields/{field_key}/check.json")
async def check_field(
    key: str,
    field_key: str,
    services: ServicesDep,
    session: ViewerDep,
    value: Annotated[str, Query(max_length=500)] = "",
) -> JSONResponse:
    """The field's format check of a value as the clerk types it (the page's inline check)."""
    app = await load_application(services, session, key)
    if app.form is None:
        raise Forbidden("该事项没有申请表。", session, status_code=404)
    try:
        spec = services.applications.forms.get(app.form.form_code).field(field_key)
    except KeyError:
        raise Forbidden(f"申请表没有字段 {field_key}。", session, status_code=404) from None
    if not value.strip():
        return JSONResponse({"valid": False, "reason": "必填", "normalised": None})
    checked = spec.check(value)
    return JSONResponse(
        {"valid": checked.valid, "reason": checked.reason, "normalised": checked.normalised}
    )


@router.get("/applications/{key}/confirm", response_class=HTMLResponse)
async def confirm_page(
    key: str, request: Request, services: ServicesDep, session: ViewerDep
) -> Response:
    """Check your answers (核对): every final value and what differs from the pre-fill."""
    app = await load_application(services, session, key)
    if app.confirmation is not None:
        return RedirectResponse(f"/ui/applications/{key}", status_code=303)
    return page(
        request,
        "confirm.html",
        {"session": session, "app": app, "sections": form_view(app)},
    )


@router.post("/applications/{key}/confirm", response_class=HTMLResponse)
async def confirm(
    key: str, request: Request, services: ServicesDep, session: CsrfSessionDep
) -> Response:
    require(session, "applications.confirm")
    app = await load_application(services, session, key)
    try:
        await anyio.to_thread.run_sync(
            lambda: services.applications.confirm(key, clerk=session.user.username)
        )
    except InputError as exc:
        # "label：why；label：why" — each links to its field, GOV.UK's error summary.
        by_label = {f.label: f.key for f in app.form.fields} if app.form else {}
        summary = [
            (f"f-{by_label[p.split('：', 1)[0]]}" if p.split("：", 1)[0] in by_label else "form", p)
            for p in str(exc).removeprefix("尚不能确认：").split("；")
        ]
        return await anyio.to_thread.run_sync(
            lambda: render_application(
                request, services, session, app, summary=summary, status_code=400
            )
        )
    except ConflictError as exc:
        raise Forbidden(str(exc), session, status_code=409) from None
    await anyio.to_thread.run_sync(
        services.users.audit,
        session.user.username,
        "confirm",
        key,
        {"application_id": app.application_id},
    )
    return RedirectResponse(f"/ui/applications/{key}?msg=confirmed", status_code=303)


async def _confirmed(services: Services, session: Session, key: str) -> ApplicationResponse:
    app = await load_application(services, session, key)
    if app.confirmation is None or app.form is None:
        raise Forbidden("请先核对并确认申请表，再下载或打印。", session, status_code=409)
    return app


@router.get("/applications/{key}/form.pdf")
async def form_pdf(key: str, services: ServicesDep, session: ViewerDep) -> Response:
    """The confirmed form as a flattened PDF, with every value in full (recorded)."""
    app = await _confirmed(services, session, key)
    service = services.applications

    form = app.form
    assert form is not None

    def render() -> bytes:
        template = template_for(service.forms.get(form.form_code))
        return fill(template, service.values(app), flatten=True)

    pdf = await anyio.to_thread.run_sync(render)
    await anyio.to_thread.run_sync(
        services.users.audit, session.user.username, "download_form", key, None
    )
    return Response(
        pdf,
        media_type="application/pdf",
        headers={"Content-Disposition": f'attachment; filename="{app.application_id}.pdf"'},
    )


@router.get("/applications/{key}/print", response_class=HTMLResponse)
async def print_view(
    key: str, request: Request, services: ServicesDep, session: ViewerDep
) -> Response:
    """The confirmed form laid out for paper, values in full (recorded)."""
    app = await _confirmed(services, session, key)
    await anyio.to_thread.run_sync(
        services.users.audit, session.user.username, "print_form", key, None
    )
    return page(
        request,
        "print.html",
        {"session": session, "app": app, "sections": form_view(app, reveal=True)},
    )


@router.get("/applications/{key}/archive.zip")
async def archive_package(key: str, services: ServicesDep, session: ViewerDep) -> Response:
    """The application's signed archive package (confirmed or not; recorded)."""
    app = await load_application(services, session, key)
    row = await anyio.to_thread.run_sync(services.applications.store.get, key)
    if row is None:
        raise Forbidden(f"没有找到申请 {key}。", session, status_code=404)
    package = await anyio.to_thread.run_sync(build_package, services, row)
    await anyio.to_thread.run_sync(
        services.users.audit,
        session.user.username,
        "download_archive",
        key,
        {"application_id": app.application_id},
    )
    return Response(
        package,
        media_type="application/zip",
        headers={
            "Content-Disposition": f'attachment; filename="{package_name(app.application_id)}"'
        },
    )
