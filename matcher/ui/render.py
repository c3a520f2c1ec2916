"""Rendering helpers shared by the workbench's routes."""

from __future__ import annotations

from typing import Any

from fastapi import Request, Response
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

__all__ = ["MESSAGES", "cookie_secure", "page", "set_cookie"]

# Messages after an action (Django admin's pattern), named in the redirect's ?msg=: only these.
MESSAGES = {
    "signed_out": "您已退出登录。",
    "saved": "已保存该项。",
    "confirmed": "申请表已确认并记录，可以下载或打印。",
}


def page(
    request: Request, name: str, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    templates: Jinja2Templates = request.app.state.ui_templates
    msg = request.query_params.get("msg")
    context = {"message": MESSAGES.get(msg or ""), **context}
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def set_cookie(request: Request, response: Response, name: str, value: str, max_age: int) -> None:
    response.set_cookie(
        name,
        value,
        max_age=max_age,
        path="/ui/",
        httponly=True,
        samesite="lax",
        secure=cookie_secure(request),
    )


LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1", "[::1]"})


def cookie_secure(request: Request) -> bool:
    """The session cookie goes over HTTPS only, unless a setting says otherwise or the workbench
    is addressed on loopback (the demo, a clerk's own machine): by the Host it was asked under,
    so that a reverse proxy on the same machine still gets secure cookies."""
    setting: bool | None = request.app.state.ui_cookie_secure
    if setting is not None:
        return setting
    return (request.url.hostname or "") not in LOOPBACK_HOSTS
