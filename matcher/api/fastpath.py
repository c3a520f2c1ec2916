"""The waive-check's own short road through the app: the service's hottest request, taken off
FastAPI's router.

``POST /v1/waive-check`` with a JSON body is what business systems send all day. FastAPI's way to
it — routing past every other route, the exception and exit-stack middleware, parsing the body
into Python objects and validating those, resolving parameters — cost more CPU than the check
itself on a warm cache. This middleware sits just inside caller authentication and answers that
one request directly: the body is read, validated by the same pydantic model straight from its
bytes, the service checks it, and the recorded bytes are sent.

Only the ordinary request takes the short road. Anything else goes on to FastAPI with the body
exactly as received, so every refusal stays what it was: a body that is not valid JSON or not a
valid request, one past the size limit, a content type other than JSON, an ``X-Requester`` the
route would refuse. A service error on the short road is answered by the app's own exception
handlers; an unexpected one propagates to the server-error middleware as before.
"""

from __future__ import annotations

import re
from typing import Any

from fastapi import FastAPI
from fastapi.routing import APIRoute
from pydantic import ValidationError
from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.api.auth import caller_of
from matcher.api.routes import v1
from matcher.waiver.check import WaiveCheckService
from matcher.waiver.payloads import WaiveCheckRequest

__all__ = ["PATH", "WaiveCheckShortcut"]

PATH = "/v1/waive-check"
# What the route's X-Requester parameter accepts (matcher.api.deps.RequesterHeader).
_REQUESTER = re.compile(rb"[A-Za-z0-9_.:-]{1,128}")
_HEADERS = [(b"content-type", b"application/json")]


class WaiveCheckShortcut:
    def __init__(self, app: ASGIApp, fastapi: FastAPI, max_body: int) -> None:
        self.app = app
        self.fastapi = fastapi
        self.max_body = max_body
        # the route this road stands in for: its template labels the latency metric
        self.route = next(
            r
            for r in v1.routes
            if isinstance(r, APIRoute) and r.path == PATH and "POST" in (r.methods or ())
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != PATH or scope["method"] != "POST":
            await self.app(scope, receive, send)
            return
        requester = None
        content_type = None
        for name, value in scope["headers"]:
            if name == b"content-type":
                # the media type alone: a charset or another parameter changes nothing here (a
                # body the model cannot read as UTF-8 JSON goes on to the route all the same)
                content_type = value.partition(b";")[0].strip().lower()
            elif name == b"x-requester":
                if requester is not None or not _REQUESTER.fullmatch(value):
                    await self.app(scope, receive, send)  # the route refuses it, as it says
                    return
                requester = value.decode("ascii")
        if content_type != b"application/json":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                await self.app(scope, _replay(chunks, message, receive), send)
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            chunks.append(chunk)
            more = message.get("more_body", False)
            if size > self.max_body:
                await self.app(scope, _replay(chunks, None, receive, more), send)
                return
        body = b"".join(chunks)
        try:
            request = WaiveCheckRequest.model_validate_json(body)
        except ValidationError:
            # The route's own parsing makes its own answer (400 or 422, with its details).
            await self.app(scope, _replay([body], None, receive, False), send)
            return
        scope["route"] = self.route
        checker: WaiveCheckService = self.fastapi.state.services.checker
        try:
            result = await checker.check(request, caller_of(scope) or requester or "anonymous")
        except Exception as exc:
            handler = self._handler(exc)
            if handler is None:
                raise
            response = await handler(Request(scope, receive), exc)
            await response(scope, receive, send)
            return
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [*_HEADERS, (b"content-length", str(len(result.body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": result.body})

    def _handler(self, exc: Exception) -> Any:
        handlers = self.fastapi.exception_handlers
        for cls in type(exc).__mro__:
            if cls in handlers:
                return handlers[cls]
        return None


def _replay(
    chunks: list[bytes], last: Message | None, receive: Receive, more: bool = False
) -> Receive:
    """A receive that gives the app what was already read, then whatever is still to come."""
    queue: list[Message] = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    if last is not None:
        queue.append(last)
    elif queue:
        queue[-1]["more_body"] = more
    else:
        queue.append({"type": "http.request", "body": b"", "more_body": more})

    async def again() -> Message:
        if queue:
            return queue.pop(0)
        return await receive()

    return again
