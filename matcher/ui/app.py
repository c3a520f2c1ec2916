"""Install the workbench into the app: templates, static files, routes and their error pages."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from urllib.parse import quote
from zoneinfo import ZoneInfo

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PackageLoader, select_autoescape
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.access.users import allowed
from matcher.settings import Settings
from matcher.ui import actions, auth, pages, problems, scans
from matcher.ui.deps import Forbidden, SignInRequired
from matcher.waiver.decide import PROBLEM_TEXT

__all__ = ["install_ui", "templates_for"]

STATIC = Path(__file__).parent / "static"


def templates_for(settings: Settings) -> Jinja2Templates:
    loaders: list[FileSystemLoader | PackageLoader] = []
    if settings.ui_templates is not None:
        loaders.append(FileSystemLoader(settings.ui_templates))
    loaders.append(PackageLoader("matcher.ui", "templates"))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    zone = ZoneInfo(settings.timezone)

    def local_time(value: dt.datetime | str) -> str:
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            # SQLite keeps no offset: the service writes its times in its own timezone.
            value = value.replace(tzinfo=zone)
        return value.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    env.filters["local_time"] = local_time
    env.filters["problem_text"] = lambda code: PROBLEM_TEXT.get(code, code)
    return Jinja2Templates(env=env)


def _wants_json(request: Request) -> bool:
    return request.url.path.endswith(".json")


async def _sign_in_required(request: Request, exc: Exception) -> Response:
    if _wants_json(request):
        return JSONResponse({"error": "sign_in_required", "message": "请先登录"}, status_code=401)
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/ui/sign-in?next={quote(target, safe='')}", status_code=303)


async def _forbidden(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Forbidden)
    if _wants_json(request):
        code = "not_found" if exc.status_code == 404 else "forbidden"
        return JSONResponse({"error": code, "message": exc.message}, status_code=exc.status_code)
    templates: Jinja2Templates = request.app.state.ui_templates
    return templates.TemplateResponse(
        request,
        "error.html",
        {
            "title": "无法完成",
            "message": exc.message,
            "session": exc.session,
            "can_view": exc.session is not None and allowed(exc.session.user, "applications.view"),
        },
        status_code=exc.status_code,
    )


# The workbench's pages show full ID numbers and carry buttons that reveal and confirm: no other
# site may frame them, and no cache keeps them.
_PAGE_HEADERS = [
    (b"content-security-policy", b"frame-ancestors 'none'"),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
]
_NO_STORE = (b"cache-control", b"no-store")


class PageHeaders:
    """Adds the page headers to every ``/ui/`` answer (static files keep their caching)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "") if scope["type"] == "http" else ""
        if not path.startswith("/ui/"):
            await self.app(scope, receive, send)
            return
        static = path.startswith("/ui/static/")

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [
                    (k, v)
                    for k, v in message.get("headers", [])
                    if static or k.lower() != b"cache-control"
                ]
                headers += _PAGE_HEADERS if static else [*_PAGE_HEADERS, _NO_STORE]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)


def install_ui(app: FastAPI, settings: Settings) -> None:
    app.state.ui_templates = templates_for(settings)
    app.state.ui_cookie_secure = settings.ui_cookie_secure
    app.mount("/ui/static", StaticFiles(directory=STATIC), name="ui-static")
    app.add_middleware(PageHeaders)
    for module in (auth, pages, actions, scans, problems):
        app.include_router(module.router)
    app.add_exception_handler(SignInRequired, _sign_in_required)
    app.add_exception_handler(Forbidden, _forbidden)
