"""Caller authentication: with ``[[callers]]`` configured, a /v1/ request must carry one caller's
bearer key, and its usage records name that caller.

A plain ASGI middleware, installed only when callers are configured (without them the service
trusts ``X-Requester`` and must run behind a gateway that authenticates). Keys are compared by
their SHA-256, so a lookup takes the same time whatever the presented key shares with a real one.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping

from starlette.types import ASGIApp, Receive, Scope, Send

__all__ = ["CallerAuth", "caller_of"]

_UNAUTHORISED = json.dumps(
    {"error": "unauthorised", "message": "缺少或无效的调用方凭据（Authorization: Bearer …）"},
    ensure_ascii=False,
).encode()
_MISMATCH = json.dumps(
    {"error": "requester_mismatch", "message": "X-Requester 与调用方凭据所属系统不一致"},
    ensure_ascii=False,
).encode()


def _digest(key: bytes) -> bytes:
    return hashlib.sha256(key).digest()


def caller_of(scope: Scope) -> str | None:
    """The authenticated caller of this request, if the middleware ran."""
    state = scope.get("state")
    return state.get("caller") if state is not None else None


class CallerAuth:
    def __init__(self, app: ASGIApp, keys: Mapping[str, str]) -> None:
        """``keys``: caller name → bearer key."""
        self.app = app
        self._callers = {_digest(key.encode()): name for name, key in keys.items()}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        token = requester = None
        for name, value in scope["headers"]:
            if name == b"authorization":
                scheme, _, credentials = value.partition(b" ")
                if scheme.lower() == b"bearer":
                    token = credentials.strip()
            elif name == b"x-requester":
                requester = value.decode("latin-1")
        caller = self._callers.get(_digest(token)) if token else None
        if caller is None:
            await _answer(send, 401, _UNAUTHORISED, [(b"www-authenticate", b"Bearer")])
            return
        if requester is not None and requester != caller:
            await _answer(send, 403, _MISMATCH)
            return
        scope.setdefault("state", {})["caller"] = caller
        await self.app(scope, receive, send)


async def _answer(
    send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]] | None = None
) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *(headers or []),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
