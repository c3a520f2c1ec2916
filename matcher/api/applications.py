"""Applications for business systems: one call checks, pre-fills and keeps; read back; the PDF."""

from __future__ import annotations

from typing import Annotated, Any

import anyio.to_thread
from fastapi import APIRouter, Path, Query
from fastapi.responses import Response

from matcher.api.deps import RequesterDep, ServicesDep
from matcher.api.routes import ERRORS
from matcher.applications.formpdf import fill, template_for
from matcher.applications.service import ApplicationRequest, ApplicationResponse
from matcher.archive.package import build_package, package_name
from matcher.errors import ApplicationNotFound

__all__ = ["router"]

router = APIRouter(prefix="/v1/applications")

ApplicationId = Annotated[str, Path(pattern=r"^[A-Za-z0-9_.:-]{1,128}$")]
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"description": "申请不存在"}}


@router.post(
    "",
    response_model=ApplicationResponse,
    responses=ERRORS,
    summary="提交一件申请：核验材料、预填申请表并保存",
)
async def submit_application(
    body: ApplicationRequest, services: ServicesDep, requester: RequesterDep
) -> ApplicationResponse:
    return await services.applications.submit(body, requester)


@router.get(
    "/{application_id}",
    response_model=ApplicationResponse,
    responses=NOT_FOUND,
    summary="已保存申请的当前状态",
)
async def get_application(
    application_id: ApplicationId, services: ServicesDep, requester: RequesterDep
) -> ApplicationResponse:
    return await anyio.to_thread.run_sync(services.applications.find, requester, application_id)


@router.get(
    "/{application_id}/archive",
    response_class=Response,
    responses={200: {"content": {"application/zip": {}}}, **NOT_FOUND},
    summary="申请的电子归档包（BagIt，经本服务签名；离线用 matcher archive verify 校验）",
)
async def get_application_archive(
    application_id: ApplicationId, services: ServicesDep, requester: RequesterDep
) -> Response:
    def build() -> bytes:
        row = services.applications.store.find(requester, application_id)
        if row is None:
            raise ApplicationNotFound(f"申请 {application_id} 不存在")
        return build_package(services, row)

    package = await anyio.to_thread.run_sync(build)
    return Response(
        package,
        media_type="application/zip",
        # It holds the applicant's full ID number and the uploads: no cache keeps it.
        headers={
            "Content-Disposition": f'attachment; filename="{package_name(application_id)}"',
            "Cache-Control": "no-store",
        },
    )


@router.get(
    "/{application_id}/form.pdf",
    response_class=Response,
    responses={200: {"content": {"application/pdf": {}}}, **NOT_FOUND},
    summary="填好的申请表（PDF）",
)
async def get_application_pdf(
    application_id: ApplicationId,
    services: ServicesDep,
    requester: RequesterDep,
    flatten: Annotated[bool, Query(description="把表单域转为页面内容")] = False,
) -> Response:
    service = services.applications

    def render() -> bytes:
        view = service.find(requester, application_id)
        if view.form is None:
            raise ApplicationNotFound(f"事项 {view.matter_code} 没有申请表")
        template = template_for(service.forms.get(view.form.form_code))
        return fill(template, service.values(view), flatten=flatten)

    pdf = await anyio.to_thread.run_sync(render)
    name = f"{application_id}.pdf"
    return Response(
        pdf,
        media_type="application/pdf",
        # It shows the applicant's full ID number: no cache keeps it.
        headers={"Content-Disposition": f'inline; filename="{name}"', "Cache-Control": "no-store"},
    )
