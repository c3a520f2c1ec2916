"""HTTP machinery the built-in adapters share: headers, one time budget, retries, a breaker.

``options.timeout_s`` is the whole budget of one lookup: every attempt, backoff and page of it.
Each attempt gets what is left as its httpx timeout and, because a mock or a trickling body can
ignore that, an asyncio deadline as well. Retries (``options.max_retries``) follow 5xx, 429,
network errors and timeouts, with short jittered backoff or the registry's ``Retry-After``; a
wait that would overrun the budget is not made. A per-adapter circuit breaker stops calling a
registry that keeps failing. Responses are read through ``client.stream`` up to
``options.max_body_bytes``. httpx errors and statuses become :mod:`adapters.errors` here.

Nothing here logs or raises with a holder's ID number or a request URL's query; use
:func:`mask_id` where a holder must be named.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import email.utils
import json
import logging
import math
import random
import re
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, ClassVar, TypeVar

import httpx
from pydantic import BaseModel, ConfigDict, Field, PlainValidator, ValidationError

from adapters._resilience import Budget, CircuitBreaker, Clock, SystemClock
from adapters.base import AdapterOptions
from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import EvidenceKind, EvidenceQuery, Holder, HolderIdType, RequestContext

__all__ = [
    "Budget",
    "CircuitBreaker",
    "Clock",
    "HttpAdapter",
    "RegistryHttp",
    "Reply",
    "SystemClock",
    "WireDate",
    "WireHolder",
    "WireInstant",
    "WireText",
    "error_in_body",
    "mask_id",
    "parse_json",
    "retry_after_seconds",
]

T = TypeVar("T")

_log = logging.getLogger("adapters.http")

_BACKOFF_BASE_S = 0.1
_BACKOFF_CAP_S = 1.0
_ERROR_BODY_BYTES = 8 * 1024
_ERROR_CODE_RE = re.compile(r"^[a-z0-9_.-]{1,64}$")
_CONTROL_RE = re.compile(r"[\x00-\x1f\x7f]")


def mask_id(value: str) -> str:
    """``3309**********1237``: enough to tell holders apart in a log, not to identify one."""
    compact = "".join(value.split())
    if len(compact) <= 8:
        return "*" * len(compact)
    return compact[:4] + "*" * (len(compact) - 8) + compact[-4:]


@dataclass(frozen=True)
class Reply:
    """A response whose status the caller accepts, body read in full."""

    status: int
    headers: httpx.Headers
    content: bytes


@dataclass(frozen=True)
class _Retriable:
    error: RegistryUnavailable
    retry_after: float | None = None


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON")


def _object_without_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    # RFC 8785 signs I-JSON, which has no duplicate names; two parsers could read such a record
    # differently, so it is refused rather than guessed at.
    obj: dict[str, Any] = {}
    for key, value in pairs:
        if key in obj:
            raise ValueError(f"member {key[:40]!r} appears twice in one object")
        obj[key] = value
    return obj


def parse_json(content: bytes) -> Any:
    """Strict JSON (UTF-8, no NaN, no duplicate names); ValueError names what is wrong."""
    if not content.strip():
        raise ValueError("the body is empty")
    try:
        return json.loads(
            content.decode("utf-8"),
            parse_constant=_reject_constant,
            object_pairs_hook=_object_without_duplicates,
        )
    except UnicodeDecodeError:
        raise ValueError("the body is not UTF-8") from None
    except json.JSONDecodeError as exc:
        raise ValueError(f"the body is not JSON ({exc.msg} at offset {exc.pos})") from None
    except RecursionError:
        raise ValueError("the body nests too deeply") from None


def error_in_body(doc: Any) -> str | None:
    """The error code a success answer carries in its body (``{"error": "code", …}``), if any:
    such an answer is a failure, never an empty one."""
    if not isinstance(doc, dict) or "error" not in doc:
        return None
    code = doc["error"]
    if isinstance(code, str) and _ERROR_CODE_RE.fullmatch(code):
        return code
    return "unreadable"


def describe_invalid(exc: ValueError) -> str:
    """A ValueError from decoding, described without echoing the values (they hold IDs)."""
    if isinstance(exc, ValidationError):
        errors = exc.errors(include_url=False, include_input=False, include_context=False)
        parts = [
            f"{'.'.join(str(p) for p in err['loc']) or 'body'}: {err['msg']}" for err in errors[:3]
        ]
        more = f" (+{len(errors) - 3} more)" if len(errors) > 3 else ""
        return "; ".join(parts) + more
    return str(exc)


def retry_after_seconds(value: str | None, *, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` as seconds (delta-seconds or an HTTP date); None when absent or garbled."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        seconds = float(text)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(text)
        except (TypeError, ValueError):
            return None
        if when.tzinfo is None:
            return None
        seconds = (when - (now or dt.datetime.now(dt.UTC))).total_seconds()
        return max(0.0, seconds)
    if not math.isfinite(seconds) or seconds < 0:
        return None
    return seconds


_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_INSTANT_RE = re.compile(r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$")


def _wire_date(value: object) -> dt.date:
    # pydantic alone would also take a timestamp or a datetime string for a date.
    if not isinstance(value, str) or not _DATE_RE.fullmatch(value):
        raise ValueError("expected a YYYY-MM-DD date")
    return dt.date.fromisoformat(value)


def _wire_instant(value: object) -> dt.datetime:
    if not isinstance(value, str) or not _INSTANT_RE.fullmatch(value):
        raise ValueError("expected an RFC 3339 instant with an offset")
    return dt.datetime.fromisoformat(value.upper())  # RFC 3339 allows a lower-case t and z


WireDate = Annotated[dt.date, PlainValidator(_wire_date)]
WireInstant = Annotated[dt.datetime, PlainValidator(_wire_instant)]
WireText = Annotated[str, Field(min_length=1)]


class WireHolder(BaseModel):
    """``holder`` as both registries send it; protocol additions are allowed."""

    model_config = ConfigDict(extra="allow")

    id_type: HolderIdType
    id: WireText
    name: str | None = None

    def to_holder(self) -> Holder:
        return Holder(id_type=self.id_type, id=self.id, name=self.name)


class RegistryHttp:
    """One registry's HTTP client side: the adapter says what to send and how to read it."""

    def __init__(
        self,
        registry: str,
        options: AdapterOptions,
        client: httpx.AsyncClient,
        clock: Clock | None = None,
    ) -> None:
        self.registry = registry
        self.options = options
        self.clock: Clock = clock or SystemClock()
        self.breaker = CircuitBreaker(
            registry, options.breaker_failures, options.breaker_reset_s, self.clock
        )
        self._client = client
        self._base = options.base_url.rstrip("/")
        self._urls: dict[str, httpx.URL] = {}
        self._limiter: asyncio.Semaphore | None = None

    def _in_flight(self) -> asyncio.Semaphore:
        """At most ``max_in_flight`` requests to this registry at once, so that one busy service
        does not flood a registry (many run behind a concurrency quota)."""
        if self._limiter is None:  # made on first use: it belongs to the running event loop
            self._limiter = asyncio.Semaphore(self.options.max_in_flight)
        return self._limiter

    def url(self, path: str) -> httpx.URL:
        """``base_url`` + ``path``, parsed once: httpx's parse of a URL string was a third of
        building each request."""
        found = self._urls.get(path)
        if found is None:
            if len(self._urls) >= 256:  # paths with record ids in them must not grow this
                self._urls.clear()
            found = self._urls[path] = httpx.URL(self._base + path)
        return found

    def budget(self) -> Budget:
        """Start the clock on one lookup."""
        return Budget(self.options.timeout_s, self.clock)

    def unavailable(self, code: str, message: str) -> RegistryUnavailable:
        return RegistryUnavailable(self.registry, message, code=code)

    def rejected(self, code: str, message: str) -> RegistryRejected:
        return RegistryRejected(self.registry, message, code=code)

    def check_error_in_body(self, doc: Any, what: str) -> None:
        """Raise when a success answer's body says the registry failed (registry protocol §3)."""
        said = error_in_body(doc)
        if said is not None:
            raise self.unavailable(
                "error_in_body", f"{what}: a success status with an error in the body ({said})"
            )

    def headers(self, context: RequestContext) -> list[tuple[bytes, bytes]]:
        """Registry protocol §0 headers, values as UTF-8: a requester may have a Chinese name."""
        values: list[tuple[str, str | None]] = [
            ("Accept", "application/json"),
            ("X-Requester", context.requester),
            ("X-Purpose", context.matter_code),
            ("X-Application-Id", context.application_id),
            ("X-Consent-Token", context.consent_token),
        ]
        if self.options.api_key is not None:
            values.append(("Authorization", f"Bearer {self.options.api_key.get_secret_value()}"))
        headers: list[tuple[bytes, bytes]] = []
        for name, value in values:
            if value is None:
                continue
            if _CONTROL_RE.search(value):
                raise self.rejected("bad_request", f"{name} contains control characters")
            headers.append((name.encode("ascii"), value.encode("utf-8")))
        return headers

    async def call(
        self,
        method: str,
        path: str,
        *,
        budget: Budget,
        context: RequestContext,
        accept: Collection[int],
        decode: Callable[[Reply], T],
        params: Sequence[tuple[str, str]] | None = None,
        json_body: Mapping[str, Any] | None = None,
    ) -> T:
        """Send with retries inside ``budget`` and decode an accepted reply.

        ``decode`` raises ValueError (pydantic's ValidationError included) for a body it cannot
        use; that becomes ``malformed_response``. Every outcome feeds the circuit breaker.
        """
        headers = self.headers(context)
        trial = self.breaker.admit()
        if trial is None:
            raise self.unavailable(
                "circuit_open",
                f"not called: circuit open after repeated failures, "
                f"next trial in {self.breaker.retry_in():.1f} s",
            )
        ok: bool | None = None
        try:
            reply = await self._send(method, path, budget, headers, accept, params, json_body)
            try:
                result = decode(reply)
            except ValueError as exc:
                raise self.unavailable(
                    "malformed_response",
                    f"{method} {path} answered {reply.status} with a body that does not follow "
                    f"the protocol: {describe_invalid(exc)}",
                ) from None
        except RegistryUnavailable:
            ok = False
            raise
        except RegistryRejected:
            ok = True  # it answered; a refusal says nothing about its health
            raise
        else:
            ok = True
            return result
        finally:
            self.breaker.record(trial=trial, ok=ok)

    async def _send(
        self,
        method: str,
        path: str,
        budget: Budget,
        headers: list[tuple[bytes, bytes]],
        accept: Collection[int],
        params: Sequence[tuple[str, str]] | None,
        json_body: Mapping[str, Any] | None,
    ) -> Reply:
        attempt = 0
        while True:
            outcome = await self._attempt(method, path, budget, headers, accept, params, json_body)
            if isinstance(outcome, Reply):
                return outcome
            error, wait = outcome.error, outcome.retry_after
            if attempt >= self.options.max_retries:
                raise error
            remaining = budget.remaining()
            if wait is not None and wait > remaining:
                raise self.unavailable(
                    error.code,
                    f"{error.message}; it asks to retry after {wait:g} s, "
                    f"beyond the {remaining:.2f} s left of the {budget.seconds:g} s budget",
                )
            delay = wait if wait is not None else self._backoff(attempt)
            if delay >= remaining:
                raise error
            attempt += 1
            _log.debug(
                "%s: %s; retry %d of %d in %.2f s",
                self.registry,
                error.message,
                attempt,
                self.options.max_retries,
                delay,
            )
            await self.clock.sleep(delay)

    @staticmethod
    def _backoff(attempt: int) -> float:
        # Jitter spreads the retries of many concurrent lookups after a shared failure.
        return min(_BACKOFF_CAP_S, _BACKOFF_BASE_S * 2.0**attempt) * random.uniform(0.5, 1.0)

    async def _attempt(
        self,
        method: str,
        path: str,
        budget: Budget,
        headers: list[tuple[bytes, bytes]],
        accept: Collection[int],
        params: Sequence[tuple[str, str]] | None,
        json_body: Mapping[str, Any] | None,
    ) -> Reply | _Retriable:
        remaining = budget.remaining()
        timed_out = _Retriable(
            self.unavailable("timeout", f"{method} {path}: no answer within {budget.seconds:g} s")
        )
        if remaining <= 0:
            return timed_out
        try:
            async with asyncio.timeout(remaining):
                async with (
                    self._in_flight(),
                    self._client.stream(
                        method,
                        self.url(path),
                        params=list(params) if params is not None else None,
                        json=json_body,
                        headers=headers,
                        timeout=httpx.Timeout(remaining),
                    ) as response,
                ):
                    return await self._answer(method, path, response, accept)
        except (TimeoutError, httpx.TimeoutException):
            return timed_out
        except httpx.DecodingError:
            raise self.unavailable(
                "malformed_response", f"{method} {path}: the body could not be decoded"
            ) from None
        except (httpx.UnsupportedProtocol, httpx.LocalProtocolError, httpx.InvalidURL) as exc:
            raise self.rejected(
                "misconfigured",
                f"{method} {path}: the request could not be sent ({type(exc).__name__}); "
                "check base_url",
            ) from exc
        except httpx.HTTPError as exc:
            return _Retriable(
                self.unavailable("network_error", f"{method} {path}: {type(exc).__name__}")
            )

    async def _answer(
        self, method: str, path: str, response: httpx.Response, accept: Collection[int]
    ) -> Reply | _Retriable:
        status = response.status_code
        if status in accept:
            content = await self._read(method, path, response)
            return Reply(status, response.headers, content)
        if status == 429:
            return _Retriable(
                self.unavailable("rate_limited", f"{method} {path}: rate limited (HTTP 429)"),
                retry_after_seconds(response.headers.get("retry-after")),
            )
        if status >= 500:
            return _Retriable(
                self.unavailable("registry_fault", f"{method} {path}: HTTP {status}"),
                retry_after_seconds(response.headers.get("retry-after")),
            )
        said = await self._error_code(response)
        detail = f"{method} {path}: HTTP {status}" + (f" ({said})" if said else "")
        if status in (401, 403):
            raise self.rejected("unauthorised", f"{detail}; check the registry key")
        if status == 400:
            raise self.rejected("bad_request", f"{detail}; the registry refused our request")
        if status == 404:
            raise self.rejected("not_found", f"{detail}; check base_url")
        expected = "/".join(str(s) for s in sorted(accept))
        raise self.rejected("unexpected_status", f"{detail}, expected {expected}")

    async def _read(self, method: str, path: str, response: httpx.Response) -> bytes:
        limit = self.options.max_body_bytes
        too_large = self.unavailable(
            "response_too_large", f"{method} {path}: body larger than {limit} bytes"
        )
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for chunk in response.aiter_bytes():
            body += chunk
            if len(body) > limit:
                raise too_large
        return bytes(body)

    @staticmethod
    async def _error_code(response: httpx.Response) -> str | None:
        """The ``error`` member of an error body, if it has a sane one; any body is survivable."""
        body = bytearray()
        try:
            async for chunk in response.aiter_bytes():
                body += chunk
                if len(body) > _ERROR_BODY_BYTES:
                    return None
            doc = parse_json(bytes(body))
        except (httpx.HTTPError, ValueError):
            return None
        code = doc.get("error") if isinstance(doc, dict) else None
        return code if isinstance(code, str) and _ERROR_CODE_RE.fullmatch(code) else None


class HttpAdapter:
    """What both built-in adapters share: options from a model or a mapping, one RegistryHttp,
    and a refusal of queries of the other evidence kind."""

    options_model: ClassVar[type[AdapterOptions]]
    kind: ClassVar[EvidenceKind]

    def __init__(
        self,
        name: str,
        options: AdapterOptions | Mapping[str, Any],
        client: httpx.AsyncClient,
        *,
        clock: Clock | None = None,
    ) -> None:
        self.name = name
        model = self.options_model
        self.options = options if isinstance(options, model) else model.model_validate(options)
        self._http = RegistryHttp(name, self.options, client, clock)

    def _accept(self, query: EvidenceQuery) -> None:
        if query.kind != self.kind:
            raise ValueError(f"{self.name} serves {self.kind} queries, not {query.kind}")
