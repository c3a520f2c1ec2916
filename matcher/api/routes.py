"""Thin routers: parse, call the service, return."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import anyio.to_thread
import httpx
from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from matcher.api.auth import caller_of, scopes_of
from matcher.api.deps import RequesterHeader, ServicesDep, requester_name
from matcher.catalog.ids import check_holder_id
from matcher.catalog.matters import Matter
from matcher.errors import InputError
from matcher.extras import installed_parts
from matcher.observe import mask_identifiers, metrics_text
from matcher.waiver.check import WaiveCheckService
from matcher.waiver.payloads import UsageItem, UsageList, WaiveCheckRequest, WaiveCheckResponse

__all__ = ["health", "v1"]

v1 = APIRouter(prefix="/v1")
health = APIRouter()

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"description": "请求体不是有效的 JSON"},
    404: {"description": "事项不存在"},
    403: {"description": "该事项须持证主体授权（consent_token），或调用方无权访问"},
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


@v1.get(
    "/waive-check/{application_id}",
    response_model=WaiveCheckResponse,
    responses={404: {"description": "该调用方没有这个申请编号的核验记录"}},
    summary="取回一件申请当前的核验结果（证照库恢复后重新核验的结果也在这里）",
)
async def current_answer(
    application_id: Annotated[str, Path(max_length=128)],
    request: Request,
    services: ServicesDep,
    x_requester: RequesterHeader = None,
) -> Response:
    requester = requester_name(request, x_requester)
    stored, status = await anyio.to_thread.run_sync(
        lambda: (
            services.records.find_idempotent(requester, application_id),
            services.records.recheck_status(requester, application_id),
        )
    )
    if stored is None:
        return JSONResponse(
            {"error": "not_found", "message": f"没有申请编号为 {application_id} 的核验记录"},
            status_code=404,
        )
    # X-Recheck: pending while the answer waits for a registry to come back; done once it did.
    headers = {"X-Recheck": status} if status else {}
    return Response(stored.response_json.encode(), media_type="application/json", headers=headers)


@v1.get(
    "/usage",
    response_model=UsageList,
    responses={422: ERRORS[422]},
    summary="用证记录：谁在何时为何事项使用了持证主体的证照和数据",
)
async def usage(
    request: Request,
    services: ServicesDep,
    holder_id: Annotated[str, Query(max_length=32, description="公民身份号码或统一社会信用代码")],
    holder_id_type: Annotated[Literal["citizen_id", "uscc"], Query()] = "citizen_id",
    cursor: Annotated[int, Query(ge=0, description="the previous page's next_cursor")] = 0,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
    x_requester: RequesterHeader = None,
) -> UsageList:
    try:
        checked = check_holder_id(
            holder_id_type,
            holder_id,
            accept_pre_standard_uscc=services.settings.accept_pre_standard_uscc,
        )
    except InputError as exc:
        raise type(exc)(str(exc), field="holder_id") from None
    # A caller sees its own uses; every caller's, only with the holder's-view scope (the
    # citizen portal). Without keys (behind a gateway) X-Requester names the caller, if sent.
    caller = caller_of(request.scope)
    if caller is not None:
        scopes = scopes_of(request.scope)
        requester = None if {"holder-usage", "admin"} & scopes else caller
    else:
        requester = x_requester
    rows = await anyio.to_thread.run_sync(
        lambda: services.records.usage_page(
            holder_id_type, checked.value, after=cursor, limit=limit + 1, requester=requester
        )
    )
    tz = ZoneInfo(services.settings.timezone)
    items = [
        UsageItem(
            seq=r["seq"],
            # SQLite keeps no offset: what it holds is the check's time in the service's zone.
            used_at=r["created_at"]
            if r["created_at"].tzinfo
            else r["created_at"].replace(tzinfo=tz),
            **{k: r[k] for k in UsageItem.model_fields if k not in ("seq", "used_at")},
        )
        for r in rows[:limit]
    ]
    return UsageList(
        holder_id_type=holder_id_type,
        holder_id_masked=mask_identifiers(checked.value),
        items=items,
        next_cursor=items[-1].seq if len(rows) > limit else None,
    )


class MatterSummary(BaseModel):
    code: str
    name: str
    department: str
    domain: str | None = Field(default=None, description="领域: 商事登记, 不动产登记 …")
    materials: int
    form: str | None = Field(default=None, description="its application form's code, if any")
    auto_approval: bool = Field(default=False, description="marked for 智能秒办")


@v1.get("/matters", response_model=list[MatterSummary], summary="事项列表")
async def list_matters(services: ServicesDep) -> list[MatterSummary]:
    return [
        MatterSummary(
            code=m.code,
            name=m.name,
            department=m.department,
            domain=m.domain,
            materials=len(m.materials),
            form=m.form,
            auto_approval=m.auto_approval,
        )
        for m in services.catalog.matters
    ]


@v1.get("/matters/{code}", response_model=Matter, responses={404: ERRORS[404]}, summary="事项详情")
async def get_matter(code: str, services: ServicesDep) -> Matter:
    return services.catalog.get(code)


@health.get("/metrics", summary="Prometheus 指标", response_class=Response)
async def metrics() -> Response:
    body, content_type = metrics_text()
    return Response(body, media_type=content_type)


@health.get("/service-keys", summary="本服务的签名公钥（归档包与检查点）：当前的在前，已轮换的在后")
async def service_keys(services: ServicesDep) -> dict[str, Any]:
    """What a records office compares an archive package's signing key with: the service's
    Ed25519 public keys, current first, then the retired ones still published."""
    keys = await anyio.to_thread.run_sync(services.settings.published_service_keys)
    return {"keys": keys}


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
        # where the keys that seal and index personal data at rest live: "beside_database"
        # means one backup of the state folder holds data and keys (set data_keys_env and
        # index_keys_env)
        "data_key": (
            "beside_database"
            if services.settings.data_key_beside_database()
            else ("environment" if services.settings.data_keys_env else "state_folder")
        ),
        "registries": registries,
        # the optional parts (pip extras) this install has; a missing one is not a fault
        **installed_parts(services.settings.ocr_engine),
    }
    return JSONResponse(body, status_code=200 if db_ok else 503)
