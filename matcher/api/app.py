"""The app factory. Settings come in; nothing is read from the environment here."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, MutableMapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI

from matcher.api.errors import install_error_handlers
from matcher.api.routes import health, v1
from matcher.settings import Settings
from matcher.wiring import Services, build_services

__all__ = ["create_app"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

MAX_JSON_BODY = 1 << 20


class BodyLimit:
    """Refuse request bodies over a limit with 413, before anything parses them."""

    def __init__(self, app: ASGIApp, limit: int = MAX_JSON_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and (not declared.isdigit() or int(declared) > self.limit):
            await _too_large(send)
            return
        seen = 0

        async def limited() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited, send)
        except _TooLarge:
            await _too_large(send)


class _TooLarge(Exception):
    pass


async def _too_large(send: Send) -> None:
    body = '{"error":"http_413","message":"请求体过大"}'.encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """The API for ``settings``; pass ``services`` to share ones built elsewhere (tests, demo)."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        own = services is None
        app.state.services = services or build_services(settings)
        try:
            yield
        finally:
            if own:
                await app.state.services.aclose()

    app = FastAPI(
        title="matcher — 材料免交核验服务",
        version="0.1.0",
        description="核验申请材料能否以电子证照、数据凭证替代而免于提交，并给出依据。",
        lifespan=lifespan,
    )
    install_error_handlers(app)
    app.include_router(v1)
    app.include_router(health)
    app.add_middleware(BodyLimit)
    return app
