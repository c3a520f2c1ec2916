"""Caller authentication and authorisation for ``/v1/``: a bearer key, its scopes, its rate.

Keys come from two places: ``[[callers]]`` (a key in an environment variable, every scope unless
the entry names some) and the keys made with ``matcher keys create`` (kept hashed in the records
database, re-read every few seconds, so a revoked key stops within that time). While there are
none of either, ``/v1/`` is open and ``X-Requester`` is trusted (the service must then sit behind
a gateway that authenticates); the start-up log says so. Until the key store has been read once,
nobody knows whether there are keys: ``/v1/`` then answers ``503 keys_unavailable`` (a
``[[callers]]`` key still works) rather than open.

Every refusal says why: ``401`` no key, an unknown, revoked or expired one; ``403`` a key whose
scopes do not cover the path, or an ``X-Requester`` naming another system; ``429`` past the key's
rate, with ``Retry-After``. Keys are compared by their SHA-256, so a lookup takes the same time
whatever the presented key shares with a real one.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import logging
import math
import time
from collections.abc import Mapping

import anyio.to_thread
from starlette.types import ASGIApp, Receive, Scope, Send

from matcher.access.keys import Grant, KeyStore, digest, scope_for_path
from matcher.access.ratelimit import RateLimiter
from matcher.errors import RecordsUnavailable

__all__ = ["CallerAuth", "caller_of", "department_of", "scopes_of"]

log = logging.getLogger(__name__)

REFRESH_S = 5.0

Known = dict[str, tuple[Grant, dt.datetime | None, dt.datetime | None]]


def _json(code: str, message: str, **extra: object) -> bytes:
    return json.dumps({"error": code, "message": message, **extra}, ensure_ascii=False).encode()


_UNAUTHORISED = _json("unauthorised", "缺少或无效的调用方凭据（Authorization: Bearer …）")
_MISMATCH = _json("requester_mismatch", "X-Requester 与调用方凭据所属系统不一致")
_KEYS_UNAVAILABLE = _json("keys_unavailable", "调用方密钥暂时无法读取，暂不能受理请求，请稍后重试")


def scopes_of(scope: Scope) -> frozenset[str]:
    """The authenticated caller's scopes (empty where no key was asked for)."""
    state = scope.get("state")
    return frozenset(state.get("scopes", ())) if state is not None else frozenset()


def department_of(scope: Scope) -> str | None:
    """The department the authenticated caller's key belongs to, if any."""
    state = scope.get("state")
    return state.get("department") if state is not None else None


def caller_of(scope: Scope) -> str | None:
    """The authenticated caller of this request, if the middleware ran."""
    state = scope.get("state")
    return state.get("caller") if state is not None else None


class CallerAuth:
    def __init__(
        self, app: ASGIApp, env_grants: Mapping[str, Grant], refresh_s: float = REFRESH_S
    ) -> None:
        """``env_grants``: SHA-256 of a [[callers]] key → what it may do."""
        self.app = app
        self._env: Known = {h: (g, None, None) for h, g in env_grants.items()}
        self._known: Known = dict(self._env)
        self._refresh_s = refresh_s
        self._read_at = -math.inf
        self._lock = asyncio.Lock()
        self._warned = False
        self._store_read = False  # the key store answered at least once

    async def _grants(self, scope: Scope) -> Known:
        """Every key, the database's re-read when older than ``refresh_s`` (one request does
        it while the others use what was read)."""
        if time.monotonic() - self._read_at < self._refresh_s:
            return self._known
        async with self._lock:
            if time.monotonic() - self._read_at >= self._refresh_s:
                store: KeyStore | None = getattr(_services(scope), "keys", None)
                try:
                    stored = await anyio.to_thread.run_sync(store.known) if store else {}
                    self._store_read = True
                except RecordsUnavailable as exc:
                    # Keep what was known; the database's trouble shows in /readyz and 503s.
                    log.warning("caller keys not re-read: %s", exc)
                    stored = {h: v for h, v in self._known.items() if h not in self._env}
                self._known = {**stored, **self._env}
                self._read_at = time.monotonic()
                if not self._known and not self._warned:
                    self._warned = True
                    log.warning(
                        "no caller keys ([[callers]] or matcher keys create): /v1/ is open and "
                        "X-Requester is trusted; run behind a gateway that authenticates callers"
                    )
        return self._known

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        known = await self._grants(scope)
        if not known and self._store_read:  # open: no keys anywhere
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
        entry = known.get(digest(token)) if token else None
        if entry is None and not self._store_read:
            # Fail closed: the key might be a stored one, or there might be none at all.
            await _answer(send, 503, _KEYS_UNAVAILABLE, [(b"retry-after", b"5")])
            return
        if entry is None:
            await _answer(send, 401, _UNAUTHORISED, [(b"www-authenticate", b"Bearer")])
            return
        grant, expires_at, revoked_at = entry
        now = dt.datetime.now(dt.UTC)
        if revoked_at is not None:
            body = _json(
                "key_revoked", f"调用方密钥 {grant.key_id} 已于 {revoked_at:%Y-%m-%d %H:%M} 吊销"
            )
            await _answer(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        if expires_at is not None and expires_at <= now:
            body = _json("key_expired", f"调用方密钥 {grant.key_id} 已过期（已轮换），请使用新密钥")
            await _answer(send, 401, body, [(b"www-authenticate", b"Bearer")])
            return
        if requester is not None and requester != grant.caller:
            await _answer(send, 403, _MISMATCH)
            return
        needed = scope_for_path(scope["path"])
        if not grant.allows(needed):
            body = _json(
                "scope_denied",
                f"调用方密钥无权访问 {scope['path']}（需要权限 {needed}）",
                scope=needed,
            )
            await _answer(send, 403, body)
            return
        if grant.rate_per_min is not None:
            limiter: RateLimiter | None = getattr(_services(scope), "limiter", None)
            wait = await limiter.hit(grant.key_id, grant.rate_per_min) if limiter else None
            if wait is not None:
                retry = str(max(1, math.ceil(wait)))
                body = _json(
                    "rate_limited",
                    f"调用过于频繁：每分钟最多 {grant.rate_per_min} 次，请 {retry} 秒后重试",
                )
                await _answer(send, 429, body, [(b"retry-after", retry.encode())])
                return
        state = scope.setdefault("state", {})
        state["caller"], state["scopes"] = grant.caller, grant.scopes
        state["department"] = grant.department
        await self.app(scope, receive, send)


def _services(scope: Scope) -> object:
    app = scope.get("app")
    state = getattr(app, "state", None)
    return getattr(state, "services", None)


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
