"""What stands in front of the registry endpoints: request counts, latency, the API key, faults.

A plain ASGI middleware rather than a FastAPI dependency, so a fault can answer with anything —
bytes that are not JSON, or nothing for thirty seconds — and a request costs little when no fault
is set (the sandbox backs a latency benchmark).
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from matcher.sandbox.config import FAULT_KINDS, FaultMode, FaultSettings, SandboxConfig

__all__ = ["GARBAGE_BODY", "MALFORMED_BODY", "RegistryGate", "SandboxState"]

GARBAGE_BODY = b"\x89\xfe<html><body>502 Bad Gateway</body></html>\x00\xff{"
MALFORMED_BODY = b'{"items":"not-a-list","next":7,"licence_id":null,"data":[1,2,3]}'


@dataclass
class SandboxState:
    """The mutable part of a running sandbox: fault settings and counters."""

    config: SandboxConfig
    faults: FaultSettings
    requests: Counter[str] = field(default_factory=Counter)
    faults_injected: Counter[str] = field(default_factory=Counter)
    unauthorised: int = 0
    # X-Purpose of the requests, and how many carried X-Consent-Token, by purpose
    purposes: Counter[str] = field(default_factory=Counter)
    consented: Counter[str] = field(default_factory=Counter)
    rng: random.Random = field(default_factory=random.Random)

    def stats(self) -> dict[str, Any]:
        return {
            "requests": dict(self.requests),
            "faults_injected": dict(self.faults_injected),
            "unauthorised": self.unauthorised,
            "purposes": dict(self.purposes),
            "consented": dict(self.consented),
        }

    def reset_stats(self) -> None:
        self.requests.clear()
        self.faults_injected.clear()
        self.unauthorised = 0
        self.purposes.clear()
        self.consented.clear()


def endpoint_name(method: str, path: str) -> str:
    """The route a registry request is for, as stats name it."""
    if path == "/v1/licences":
        return f"{method} /v1/licences"
    if path.startswith("/v1/licences/"):
        return f"{method} /v1/licences/{{licence_id}}"
    if path == "/v1/certificates":
        return f"{method} /v1/certificates"
    return f"{method} other"


def _error(status: int, code: str, message: str, headers: dict[str, str] | None = None) -> Response:
    return JSONResponse({"error": code, "message": message}, status_code=status, headers=headers)


async def _hold_open(receive: Receive, seconds: float) -> bool:
    """Wait ``seconds`` or until the client hangs up; True if it hung up."""

    async def until_disconnect() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(until_disconnect(), seconds)
        return True
    return False


@dataclass
class RegistryGate:
    """ASGI middleware for ``/v1/…`` (or ``prefix``): count, delay, authenticate, maybe fail.

    The provincial sandbox uses it with its own prefix, its own wrong-shape body and no API key
    (that interface signs its requests instead)."""

    app: ASGIApp
    state: SandboxState
    prefix: str = "/v1/"
    malformed_body: bytes = MALFORMED_BODY
    name_of: Callable[[str, str], str] = endpoint_name
    check_key: bool = True

    def __post_init__(self) -> None:
        key = self.state.config.api_key
        self._expected = (
            f"Bearer {key.get_secret_value()}".encode() if key and self.check_key else None
        )

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith(self.prefix):
            await self.app(scope, receive, send)
            return
        state = self.state
        state.requests[self.name_of(scope["method"], scope["path"])] += 1
        purpose, consent = "", False
        for name, value in scope["headers"]:
            if name == b"x-purpose":
                purpose = value.decode("latin-1")
            elif name == b"x-consent-token":
                consent = True
        state.purposes[purpose] += 1
        if consent:
            state.consented[purpose] += 1
        faults = state.faults
        delay_ms = faults.latency_ms
        if faults.jitter_ms:
            delay_ms += state.rng.uniform(0, faults.jitter_ms)
        if delay_ms:
            # A registry that takes delay_ms to answer: the answer leaves no sooner than that after
            # the request arrived, however long the sandbox itself took to prepare it. (Sleeping
            # first and working after would add the sandbox's own queueing to every answer.)
            send = _held_until(send, asyncio.get_running_loop().time() + delay_ms / 1000)
            # Let the requests that arrived together take their arrival times before this one's
            # work starts: a registry on its own machine does not queue them behind each other.
            await asyncio.sleep(0)
        if self._expected is not None and not self._authorised(scope):
            state.unauthorised += 1
            response = _error(
                401, "unauthorized", "missing or wrong API key", {"WWW-Authenticate": "Bearer"}
            )
            await response(scope, receive, send)
            return
        if faults.fault_rate and state.rng.random() < faults.fault_rate:
            await self._fail(faults.fault_mode, scope, receive, send)
            return
        await self.app(scope, receive, send)

    def _authorised(self, scope: Scope) -> bool:
        assert self._expected is not None
        for name, value in scope["headers"]:
            if name == b"authorization":
                return hmac.compare_digest(value, self._expected)
        return False

    async def _fail(self, mode: FaultMode, scope: Scope, receive: Receive, send: Send) -> None:
        state = self.state
        if mode == "mixed":
            mode = state.rng.choice(FAULT_KINDS)
        state.faults_injected[mode] += 1
        if mode == "timeout":
            if await _hold_open(receive, state.config.hang_s):
                return
            response = _error(504, "timeout", "sandbox fault: the registry did not answer")
        elif mode == "garbage":
            response = Response(GARBAGE_BODY, media_type="application/json")
        elif mode == "malformed":
            response = Response(self.malformed_body, media_type="application/json")
        elif mode == "429":
            response = _error(
                429,
                "rate_limited",
                "sandbox fault: too many requests",
                {"Retry-After": str(state.config.retry_after_s)},
            )
        else:
            response = _error(503, "unavailable", "sandbox fault: registry unavailable")
        await response(scope, receive, send)


def _held_until(send: Send, at: float) -> Send:
    """``send`` that starts the response no earlier than loop time ``at``."""

    async def held(message: Message) -> None:
        if message["type"] == "http.response.start":
            wait = at - asyncio.get_running_loop().time()
            if wait > 0:
                await asyncio.sleep(wait)
        await send(message)

    return held
