"""Per-request telemetry: a request id on every log line and answer, latency by route.

A plain ASGI middleware (no per-request objects beyond what it must keep): it takes the
caller's ``X-Request-Id`` when it is a sane token, else makes one, sends it back on the answer,
holds it in a context variable for the log formatter, and times the request by route template.
"""

from __future__ import annotations

import json
import os
import re
import time

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.observe import HTTP_LATENCY, REQUEST_ID, labelled

__all__ = ["JsonTooLarge", "Telemetry"]

_SANE_ID = re.compile(rb"[A-Za-z0-9._:-]{1,64}")


class Telemetry:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = None
        for name, value in scope["headers"]:
            if name == b"x-request-id" and _SANE_ID.fullmatch(value):
                request_id = value.decode("ascii")
                break
        if request_id is None:
            request_id = os.urandom(16).hex()  # as random as uuid4().hex, without the object
        token = REQUEST_ID.set(request_id)
        header = (b"x-request-id", request_id.encode("ascii"))
        status = 500  # what the server sends if the app fails before it answers

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        started = time.perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            route = scope.get("route")
            template = getattr(route, "path", None) or "unmatched"
            labelled(HTTP_LATENCY, template, scope["method"], str(status)).observe(
                time.perf_counter() - started
            )
            REQUEST_ID.reset(token)


_TOO_LARGE = json.dumps({"error": "http_413", "message": "请求体过大"}, ensure_ascii=False).encode()


class JsonTooLarge:
    """The body-size limit (Starlette's, below every handler) answers 413 in plain text; every
    other refusal of this service is JSON with ``error`` and ``message``, so this one is too."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_json(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the plain body is dropped
            if message["type"] == "http.response.start" and message["status"] == 413:
                headers = list(message.get("headers", ()))
                plain = any(
                    k == b"content-type" and v.startswith(b"text/plain") for k, v in headers
                )
                if plain:
                    replaced = True
                    kept = [
                        (k, v) for k, v in headers if k not in (b"content-type", b"content-length")
                    ]
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 413,
                            "headers": [
                                *kept,
                                (b"content-type", b"application/json"),
                                (b"content-length", str(len(_TOO_LARGE)).encode()),
                            ],
                        }
                    )
                    await send({"type": "http.response.body", "body": _TOO_LARGE})
                    return
            await send(message)

        await self.app(scope, receive, send_json)
