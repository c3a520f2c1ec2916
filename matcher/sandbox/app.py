"""The sandbox registry app: both registries of the registry protocol, admin under ``/_sandbox/``.

Endpoints (see docs/sandbox.md):

- ``GET /v1/licences``, ``GET /v1/licences/{licence_id}`` — the e-licence registry (§1)
- ``POST /v1/certificates`` — the data-certificate registry (§2)
- ``GET|PUT /_sandbox/faults``, ``GET|DELETE /_sandbox/stats``, ``GET /_sandbox/trust-store``,
  ``GET /_sandbox/holders``, ``PUT /_sandbox/licences/{licence_id}`` (correct a record) — admin,
  never faulted and never behind the API key
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from pathlib import Path
from typing import Annotated, Any

from fastapi import Body, FastAPI, Query, Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse, Response

from adapters.model import HolderIdType
from matcher.catalog.ids import normalise_holder_id
from matcher.sandbox.config import SandboxConfig
from matcher.sandbox.control import add_control_routes
from matcher.sandbox.gate import RegistryGate, SandboxState
from matcher.sandbox.province import sandbox_trust_store
from matcher.sandbox.registry import SandboxRegistry, encode_json
from matcher.sandbox.samples import CERT_TYPES
from matcher.sandbox.serving import serve

__all__ = ["create_sandbox_app", "run_sandbox", "sandbox_trust_store", "write_trust_store"]

_HOLDER_ID_RE = re.compile(r"^[0-9A-Z]{18}$")
_JSON = "application/json"
_ERROR_CODES = {400: "bad_request", 401: "unauthorized", 404: "not_found", 405: "not_allowed"}


class CertificateHolder(BaseModel):
    id_type: HolderIdType
    id: str = Field(min_length=1, max_length=64)


class CertificateRequest(BaseModel):
    """Registry protocol §2 request body; members beyond these are accepted and ignored."""

    model_config = ConfigDict(extra="allow")

    cert_type: str = Field(min_length=1, max_length=64)
    holder: CertificateHolder
    purpose: dict[str, Any] | None = None


class BadRequest(Exception):
    def __init__(self, message: str, code: str = "bad_request") -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _error(status: int, code: str, message: str) -> JSONResponse:
    return JSONResponse({"error": code, "message": message}, status_code=status)


def _holder_id(id_type: str, value: str) -> str:
    holder_id = normalise_holder_id(id_type, value)
    if not _HOLDER_ID_RE.fullmatch(holder_id):
        raise BadRequest("holder id must be 18 characters of digits and capital letters")
    return holder_id


def _encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        label, _, number = text.partition(":")
        offset = int(number)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        offset, label = -1, ""
    if label != "offset" or offset < 0:
        raise BadRequest("cursor is not one this registry returned", code="bad_cursor")
    return offset


def _install_error_handlers(app: FastAPI) -> None:
    async def bad_request(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, BadRequest)
        return _error(400, exc.code, exc.message)

    async def invalid(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        parts = []
        for err in exc.errors()[:5]:
            where = ".".join(str(p) for p in err.get("loc", ()) if p not in ("query", "body"))
            parts.append(f"{where}: {err.get('msg')}" if where else str(err.get("msg")))
        return _error(400, "bad_request", "; ".join(parts) or "malformed request")

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        code = _ERROR_CODES.get(exc.status_code, "error")
        return JSONResponse(
            {"error": code, "message": str(exc.detail)},
            status_code=exc.status_code,
            headers=exc.headers,
        )

    app.add_exception_handler(BadRequest, bad_request)
    app.add_exception_handler(RequestValidationError, invalid)
    app.add_exception_handler(HTTPException, http_error)


def _add_registry_routes(app: FastAPI, registry: SandboxRegistry, state: SandboxState) -> None:
    known_cert_types = frozenset(CERT_TYPES) | registry.cert_types

    @app.get("/v1/licences", tags=["e-licence registry"])
    async def search_licences(
        holder_id_type: HolderIdType,
        holder_id: Annotated[str, Query(min_length=1, max_length=64)],
        type_code: Annotated[list[str] | None, Query()] = None,
        cursor: Annotated[str | None, Query(max_length=64)] = None,
    ) -> Response:
        """A holder's licences, a page at a time; ``items`` is empty when there are none."""
        holder_id = _holder_id(holder_id_type, holder_id)
        offset = _decode_cursor(cursor) if cursor else 0
        bodies = registry.licences_for(holder_id_type, holder_id, type_code or ())
        end = offset + state.faults.page_size
        following = json.dumps(_encode_cursor(end)).encode() if end < len(bodies) else b"null"
        content = b'{"items":[' + b",".join(bodies[offset:end]) + b'],"next":' + following + b"}"
        return Response(content, media_type=_JSON)

    @app.get("/v1/licences/{licence_id}", tags=["e-licence registry"])
    async def get_licence(licence_id: str) -> Response:
        body = registry.licence(licence_id)
        if body is None:
            return _error(404, "not_found", "no licence with that licence_id")
        return Response(body, media_type=_JSON)

    @app.post("/v1/certificates", status_code=201, tags=["data-certificate registry"])
    async def issue_certificate(ask: CertificateRequest) -> Response:
        """A fresh, signed certificate; 404 ``no_data`` when the source holds nothing."""
        if ask.cert_type not in known_cert_types:
            raise BadRequest(f"unknown cert_type {ask.cert_type!r}", code="unknown_cert_type")
        holder = ask.holder
        certificate = registry.certificate(
            ask.cert_type, holder.id_type, _holder_id(holder.id_type, holder.id)
        )
        if certificate is None:
            return _error(404, "no_data", "the source holds no data for this holder")
        return Response(encode_json(certificate), status_code=201, media_type=_JSON)


def _add_admin_routes(app: FastAPI, registry: SandboxRegistry, state: SandboxState) -> None:
    add_control_routes(app, state, encode_json(sandbox_trust_store(state.config)))

    @app.put("/_sandbox/licences/{licence_id}", tags=["sandbox admin"])
    async def correct_licence(
        licence_id: str, changes: Annotated[dict[str, Any], Body()]
    ) -> Response:
        """Correct a licence at the source: merge ``changes``, sign soundly, serve it only for
        its holder (a data problem fixed by its department)."""
        body = registry.correct(licence_id, changes)
        if body is None:
            return _error(404, "not_found", "no licence with this id")
        return Response(body, media_type=_JSON)

    holders = [holder.model_dump() for holder in registry.samples.holders.values()]

    @app.get("/_sandbox/holders", tags=["sandbox admin"])
    async def get_holders() -> list[dict[str, Any]]:
        return holders


def create_sandbox_app(config: SandboxConfig | None = None) -> FastAPI:
    """The sandbox registry. Records are signed here, once; certificates per request."""
    config = config or SandboxConfig()
    registry = SandboxRegistry.from_config(config)
    state = SandboxState(config=config, faults=config.fault_settings())
    state.rng.seed(config.seed)
    app = FastAPI(
        title="Matcher sandbox registry",
        description="E-licence and data-certificate registries of the registry protocol.",
        version="1",
    )
    _install_error_handlers(app)
    _add_registry_routes(app, registry, state)
    _add_admin_routes(app, registry, state)
    app.add_middleware(RegistryGate, state=state)
    app.state.sandbox = state
    app.state.registry = registry
    return app


def write_trust_store(config: SandboxConfig, path: str | Path) -> Path:
    """Write the trust store for ``config``'s keys (registry protocol §5) to ``path``."""
    document = sandbox_trust_store(config)
    path = Path(path)
    path.write_text(json.dumps(document, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return path


def run_sandbox(
    config: SandboxConfig,
    host: str,
    port: int,
    trust_store_out: Path | None = None,
    *,
    access_log: bool = True,
) -> None:
    """Serve the sandbox until interrupted, after writing its trust store if asked to."""
    if trust_store_out is not None:
        write_trust_store(config, trust_store_out)
    serve(create_sandbox_app(config), host, port, log_level="info" if access_log else "warning")
