"""The workbench's routes: sign-in and sign-out, the application list and the application page.

Each page has a JSON twin at the same address with ``.json`` appended.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from matcher.api.deps import ServicesDep
from matcher.ui.deps import COOKIE, CsrfSessionDep, Forbidden, permitted, require
from matcher.users import Session
from matcher.workbench import ApplicationRow, Workbench, mask_ids_in

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

SIGN_IN_COOKIE = "matcher_sign_in"  # the sign-in form's CSRF token, before there is a session
MESSAGES = {
    "signed_out": "您已退出登录。",
    "signed_in": "登录成功。",
}

ViewerDep = Annotated[Session, Depends(permitted("applications.view"))]


def _templates(request: Request) -> Jinja2Templates:
    templates: Jinja2Templates = request.app.state.ui_templates
    return templates


def _page(
    request: Request,
    name: str,
    context: dict[str, Any],
    status_code: int = 200,
) -> HTMLResponse:
    msg = request.query_params.get("msg")
    context = {"message": MESSAGES.get(msg or ""), **context}
    return _templates(request).TemplateResponse(request, name, context, status_code=status_code)


def _safe_next(target: str | None) -> str:
    # Only a workbench address of this site: never an open redirect.
    if target and target.startswith("/ui/") and not target.startswith("//"):
        return target
    return "/ui/applications"


@router.get("/")
async def home() -> RedirectResponse:
    return RedirectResponse("/ui/applications", status_code=303)


@router.get("/sign-in", response_class=HTMLResponse)
async def sign_in_page(request: Request, next: str | None = None) -> Response:
    token = secrets.token_urlsafe(24)
    response = _page(request, "sign_in.html", {"csrf_token": token, "next": _safe_next(next)})
    _set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600)
    return response


@router.post("/sign-in", response_class=HTMLResponse)
async def sign_in(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)] = "",
    password: Annotated[str, Form(max_length=256)] = "",
    csrf_token: Annotated[str, Form(max_length=128)] = "",
    next: Annotated[str, Form(max_length=512)] = "",
) -> Response:
    expected = request.cookies.get(SIGN_IN_COOKIE, "")
    errors: list[tuple[str, str]] = []
    if not expected or not secrets.compare_digest(expected, csrf_token):
        errors.append(("username", "页面已过期，请重新输入后再登录。"))
    if not username.strip():
        errors.append(("username", "请输入用户名。"))
    if not password:
        errors.append(("password", "请输入密码。"))
    user = None
    if not errors:
        user = await anyio.to_thread.run_sync(
            services.users.authenticate, username.strip(), password
        )
        if user is None:
            errors.append(("password", "用户名或密码不正确。"))
            await anyio.to_thread.run_sync(
                services.users.audit, username.strip()[:64], "sign_in_failed", None, None
            )
    if user is None:
        token = secrets.token_urlsafe(24)
        response = _page(
            request,
            "sign_in.html",
            {
                "csrf_token": token,
                "next": _safe_next(next),
                "errors": errors,
                "username": username,
            },
            status_code=400,
        )
        _set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600)
        return response
    token, _ = await anyio.to_thread.run_sync(services.users.start_session, user)
    await anyio.to_thread.run_sync(services.users.audit, user.username, "sign_in", None, None)
    redirect = RedirectResponse(_safe_next(next), status_code=303)
    lifetime = int(services.users.session_lifetime.total_seconds())
    _set_cookie(request, redirect, COOKIE, token, max_age=lifetime)
    redirect.delete_cookie(SIGN_IN_COOKIE, path="/ui/")
    return redirect


@router.post("/sign-out")
async def sign_out(request: Request, services: ServicesDep, session: CsrfSessionDep) -> Response:
    await anyio.to_thread.run_sync(services.users.end_session, request.cookies.get(COOKIE, ""))
    await anyio.to_thread.run_sync(
        services.users.audit, session.user.username, "sign_out", None, None
    )
    response = RedirectResponse("/ui/sign-in?msg=signed_out", status_code=303)
    response.delete_cookie(COOKIE, path="/ui/")
    return response


def _set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui/",
        httponly=True,
        samesite="lax",
        secure=bool(request.app.state.ui_cookie_secure),
    )


def _row_json(row: ApplicationRow) -> dict[str, Any]:
    return {
        "key": row.key,
        "application_id": row.application_id,
        "requester": row.requester,
        "matter_code": row.matter_code,
        "matter_name": row.matter_name,
        "holder_id_type": row.holder_id_type,
        "holder_id_masked": row.holder_masked,
        "created_at": row.created_at.isoformat(),
        "summary": row.summary,
    }


async def _recent(services: ServicesDep, q: str | None) -> list[ApplicationRow]:
    return await anyio.to_thread.run_sync(Workbench(services.records).recent, q or None)


SearchQuery = Annotated[str | None, Query(max_length=128)]


@router.get("/applications.json")
async def applications_json(
    services: ServicesDep, session: ViewerDep, q: SearchQuery = None
) -> JSONResponse:
    rows = await _recent(services, q)
    return JSONResponse({"q": q, "applications": [_row_json(r) for r in rows]})


@router.get("/applications", response_class=HTMLResponse)
async def applications(
    request: Request, services: ServicesDep, session: ViewerDep, q: SearchQuery = None
) -> Response:
    rows = await _recent(services, q)
    return _page(request, "applications.html", {"session": session, "rows": rows, "q": q or ""})


async def _application(services: ServicesDep, session: Session, key: str) -> Any:
    found = await anyio.to_thread.run_sync(Workbench(services.records).get, key)
    if found is None:
        raise Forbidden(f"没有找到申请 {key}。", session, status_code=404)
    return found


@router.get("/applications/{key}.json")
async def application_json(key: str, services: ServicesDep, session: ViewerDep) -> JSONResponse:
    row, check = await _application(services, session, key)
    return JSONResponse({"application": _row_json(row), "check": mask_ids_in(check)})


@router.get("/applications/{key}", response_class=HTMLResponse)
async def application_page(
    key: str, request: Request, services: ServicesDep, session: ViewerDep
) -> Response:
    row, check = await _application(services, session, key)
    return _page(
        request,
        "application.html",
        {
            "session": session,
            "row": row,
            "check": mask_ids_in(check),
            "holder_shown": row.holder_masked,
        },
    )


@router.post("/applications/{key}/reveal", response_class=HTMLResponse)
async def reveal_holder_id(
    key: str, request: Request, services: ServicesDep, session: CsrfSessionDep
) -> Response:
    """Show the applicant's full ID number, once, and record who asked (审计)."""
    require(session, "holder_id.reveal")
    row, check = await _application(services, session, key)
    await anyio.to_thread.run_sync(
        services.users.audit,
        session.user.username,
        "reveal_holder_id",
        key,
        {"application_id": row.application_id, "holder_id_type": row.holder_id_type},
    )
    return _page(
        request,
        "application.html",
        {
            "session": session,
            "row": row,
            "check": check,
            "holder_shown": row.holder_id or "—",
            "revealed": True,
        },
    )
