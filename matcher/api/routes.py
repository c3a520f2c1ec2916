"""Thin routers: parse, call the service, return."""

from __future__ import annotations

import asyncio
from typing import Any

import anyio.to_thread
import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel

from matcher.api.deps import RequesterHeader, ServicesDep, requester_name
from matcher.catalog import Matter
from matcher.check import WaiveCheckService
from matcher.payloads import WaiveCheckRequest, WaiveCheckResponse

__all__ = ["health", "v1"]

v1 = APIRouter(prefix="/v1")
health = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "请求体不是有效的 JSON"},
    404: {"description": "事项不存在"},
    409: {"description": "申请编号已用于内容不同的请求"},
    413: {"description": "请求体过大"},
    422: {"description": "请求内容或证件号码不符合要求"},
}


@v1.post(
    "/waive-check",
    response_model=WaiveCheckResponse,
    responses=ERRORS,
    summary="核验一件申请的材料能否免交",
)
async def waive_check(
    body: WaiveCheckRequest, request: Request, x_requester: RequesterHeader = None
) -> Response:
    # No dependencies here: resolving them cost ~7% of a warm-cache check's CPU time.
    checker: WaiveCheckService = request.app.state.services.checker
    result = await checker.check(body, requester_name(request, x_requester))
    # The bytes recorded with the check are the bytes sent: serialised once, identical on replay.
    return Response(content=result.body, media_type="application/json")


class MatterSummary(BaseModel):
    code: str
    name: str
    department: str
    materials: int


@v1.get("/matters", response_model=list[MatterSummary], summary="事项列表")
async def list_matters(services: ServicesDep) -> list[MatterSummary]:
    return [
        MatterSummary(code=m.code, name=m.name, department=m.department, materials=len(m.materials))
        for m in services.catalog.matters
    ]


@v1.get("/matters/{code}", response_model=Matter, responses={404: ERRORS[404]}, summary="事项详情")
async def get_matter(code: str, services: ServicesDep) -> Matter:
    return services.catalog.get(code)


@health.get("/healthz", summary="存活检查")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


async def _registry_up(client: httpx.AsyncClient, url: str) -> bool:
    try:
        response = await client.get(url, timeout=1.0)
    except httpx.HTTPError:
        return False
    return response.status_code < 500


@health.get("/readyz", summary="就绪检查：数据库、Redis、各证照库")
async def readyz(services: ServicesDep) -> JSONResponse:
    db_ok, cache_ok, *regs = await asyncio.gather(
        anyio.to_thread.run_sync(services.records.ping),
        services.cache.ping(),
        *(
            _registry_up(services.client, r.base_url.rstrip("/") + "/")
            for r in services.settings.registries
        ),
    )
    registries = {
        r.name: ("up" if ok else "down")
        for r, ok in zip(services.settings.registries, regs, strict=True)
    }
    # Without its database the service cannot record usage, so it must not take traffic.
    # A registry or Redis outage degrades answers (review, no cache) but is not fatal.
    status = "ready" if db_ok and cache_ok and all(regs) else ("degraded" if db_ok else "down")
    body = {
        "status": status,
        "database": "up" if db_ok else "down",
        "cache": ("up" if cache_ok else "down"),
        "cache_kind": "redis" if services.settings.redis_url else "memory",
        "cache_errors": services.cache.errors,
        "registries": registries,
    }
    return JSONResponse(body, status_code=200 if db_ok else 503)
