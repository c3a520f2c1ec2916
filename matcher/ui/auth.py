"""Signing in and out of the workbench."""

from __future__ import annotations

import secrets
from typing import Annotated

import anyio.to_thread
from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from matcher.api.deps import ServicesDep
from matcher.ui.deps import COOKIE, CsrfSessionDep
from matcher.ui.render import page as _page
from matcher.ui.render import set_cookie as _set_cookie

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)

SIGN_IN_COOKIE = "matcher_sign_in"  # the sign-in form's CSRF token, before there is a session


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


# Password checks at once, per app (each a 64 MiB Argon2 hash); more wait their turn.
PASSWORD_CHECKS = 2


def _password_checks(request: Request) -> anyio.CapacityLimiter:
    state = request.app.state
    limiter: anyio.CapacityLimiter | None = getattr(state, "password_checks", None)
    if limiter is None:  # made on its app's event loop
        limiter = state.password_checks = anyio.CapacityLimiter(PASSWORD_CHECKS)
    return limiter


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
    name = username.strip()[:64]
    locked = False
    if not errors:
        source = request.client.host if request.client is not None else "unknown"
        allowed, wait = await anyio.to_thread.run_sync(services.users.begin_sign_in, name, source)
        locked = not allowed
    if locked:
        errors.append(("password", "登录失败次数过多，请 15 分钟后再试，或请管理员协助。"))
    elif not errors:
        if wait:
            await anyio.sleep(wait)
        # Each check is a 64 MiB Argon2 hash: a few at a time, the others wait their turn.
        user = await anyio.to_thread.run_sync(
            services.users.authenticate, name, password, limiter=_password_checks(request)
        )
        if user is None:
            errors.append(("password", "用户名或密码不正确。"))
            await anyio.to_thread.run_sync(
                services.users.audit, name[:64], "sign_in_failed", None, None
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
            status_code=429 if locked else 400,
        )
        _set_cookie(request, response, SIGN_IN_COOKIE, token, max_age=3600)
        return response
    token, _ = await anyio.to_thread.run_sync(services.users.start_session, user)
    await anyio.to_thread.run_sync(services.users.audit, user.username, "sign_in", None, None)
    target = _safe_next(next)
    if user.role == "data_officer" and target == "/ui/applications":
        target = "/ui/data-problems"  # a data officer's work is the department's queue
    redirect = RedirectResponse(target, status_code=303)
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
