"""Map the error tree to HTTP answers: a code, a Chinese message, never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from matcher.errors import (
    CatalogError,
    ConflictError,
    ConsentRequired,
    ExtractionError,
    FeatureUnavailable,
    Forbidden,
    InputError,
    MatcherError,
    NotFound,
    RecordsUnavailable,
    RegistryError,
    UnknownMatter,
)

__all__ = ["install_error_handlers"]

log = logging.getLogger(__name__)


def _body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": code, "message": message, **extra}


def _location(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p != "body"]
    return ".".join(parts) or "body"


async def _validation(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        return JSONResponse(_body("malformed_json", "请求体不是有效的 JSON"), status_code=400)
    details = [
        {"field": _location(tuple(e.get("loc", ()))), "problem": e.get("msg", "")} for e in errors
    ]
    first = details[0]["field"] if details else "body"
    return JSONResponse(
        _body("invalid_request", f"请求内容不符合要求：{first}", details=details),
        status_code=422,
    )


async def _matcher_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, MatcherError)
    if isinstance(exc, FeatureUnavailable):
        return JSONResponse(
            _body(exc.code, str(exc), extra=exc.extra, install=exc.install),
            status_code=exc.status_code,
        )
    if isinstance(exc, ExtractionError):
        return JSONResponse(_body(exc.code, str(exc)), status_code=exc.status_code)
    if isinstance(exc, UnknownMatter | NotFound):
        return JSONResponse(_body(exc.code, str(exc)), status_code=404)
    if isinstance(exc, InputError):
        extra = {"field": exc.field} if exc.field else {}
        return JSONResponse(_body(exc.code, str(exc), **extra), status_code=422)
    if isinstance(exc, NotFound):
        return JSONResponse(_body(exc.code, str(exc)), status_code=404)
    if isinstance(exc, Forbidden):
        return JSONResponse(_body(exc.code, str(exc)), status_code=403)
    if isinstance(exc, ConflictError):
        return JSONResponse(_body(exc.code, str(exc)), status_code=409)
    if isinstance(exc, ConsentRequired):
        return JSONResponse(_body(exc.code, str(exc), field="consent_token"), status_code=403)
    if isinstance(exc, RecordsUnavailable):
        log.error("records database unavailable: %s", exc)
        return JSONResponse(
            _body(exc.code, "用证记录无法保存，暂不能核验，请稍后重试"), status_code=503
        )
    if isinstance(exc, CatalogError):
        return JSONResponse(_body(exc.code, str(exc)), status_code=404)
    log.error("unhandled service error: %s", exc)
    return JSONResponse(_body(exc.code, "服务内部错误"), status_code=500)


async def _registry_error(request: Request, exc: Exception) -> JSONResponse:
    # Decisions absorb registry faults; one reaching here came from a direct lookup endpoint.
    assert isinstance(exc, RegistryError)
    return JSONResponse(_body("registry_unavailable", "证照库暂时无法访问"), status_code=503)


async def _http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    messages = {404: "资源不存在", 405: "不支持该请求方法", 413: "请求体过大"}
    return JSONResponse(
        _body(f"http_{exc.status_code}", messages.get(exc.status_code, str(exc.detail))),
        status_code=exc.status_code,
        headers=getattr(exc, "headers", None),
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(MatcherError, _matcher_error)
    app.add_exception_handler(RegistryError, _registry_error)
    app.add_exception_handler(StarletteHTTPException, _http_error)
