"""Data problems (数据问题反馈整改): list, read, change status, export, assessment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path as FsPath
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

import anyio.to_thread
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from pydantic import BaseModel, Field

from matcher.api.auth import caller_of, department_of
from matcher.api.deps import RequesterHeader, ServicesDep, requester_name
from matcher.errors import Forbidden, InputError, NotFound
from matcher.extras import charts_available
from matcher.problems.assess import AssessmentRow
from matcher.problems.charts import assessment_png, assessment_xlsx
from matcher.problems.codes import PROBLEM_TEXT
from matcher.problems.export import to_csv, to_xlsx
from matcher.problems.models import AssessmentOut, DataProblemOut, DataProblemPage
from matcher.problems.store import ProblemQuery
from matcher.wiring import Services

__all__ = ["router"]

router = APIRouter(prefix="/v1/data-problems", tags=["data problems"])

ProblemId = Annotated[int, Path(ge=1, le=2**31 - 1, description="the report's number")]
EARLIEST, LATEST = dt.date(1900, 1, 1), dt.date(2999, 12, 31)
StatusName = Literal["open", "acknowledged", "fixed", "verified", "rejected"]
DeptCode = Annotated[str | None, Query(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$")]


class StatusChange(BaseModel):
    status: Literal["acknowledged", "fixed", "rejected", "open"] = Field(
        description="acknowledged 已确认 / fixed 已整改 / rejected 驳回（须说明理由）"
        " / open 重新打开"
    )
    note: str | None = Field(default=None, max_length=1000, description="说明；驳回时必填")


def read_scope(request: Request, services: Services, asked: str | None) -> str | None:
    """The department whose reports this caller may read: a ``[[callers]]`` key set up for a
    department reads that department's only (as its data officers' pages do), asking for
    another is refused; the drive's office, and callers without a department, read what they
    ask for."""
    department, office = acting_department(request, services, None)
    if department is None or office:
        return asked
    if asked is not None and asked.lower() != department.lower():
        raise Forbidden(f"调用方只能查看本部门（{department}）的数据问题")
    return department


def _query(
    services: Services,
    department: str | None,
    status: str | None,
    code: str | None,
    since: dt.date | None,
    until: dt.date | None,
    holder_id_type: str | None,
    holder_id: str | None,
    page: int = 1,
    per_page: int = 50,
) -> ProblemQuery:
    if code is not None and code not in PROBLEM_TEXT:
        raise InputError(f"未知的问题代码 {code}", field="code")
    for name, day in (("since", since), ("until", until)):
        if day is not None and not EARLIEST <= day <= LATEST:
            raise InputError(f"日期超出范围（{EARLIEST} 至 {LATEST}）", field=name)
    holder_hash = None
    if holder_id is not None:
        if holder_id_type not in ("citizen_id", "uscc"):
            raise InputError("按持证主体查询须给出 holder_id_type", field="holder_id_type")
        holder_hash = services.checker.finder.holder_hash(holder_id_type, holder_id)
    return ProblemQuery(department, status, code, since, until, holder_hash, page, per_page)


class Filters:
    """The list and export filters, as one dependency."""

    def __init__(
        self,
        request: Request,
        services: ServicesDep,
        department: DeptCode = None,
        status: StatusName | None = None,
        code: Annotated[str | None, Query(max_length=64)] = None,
        since: Annotated[dt.date | None, Query(description="首次发现日期不早于")] = None,
        until: Annotated[dt.date | None, Query(description="首次发现日期不晚于")] = None,
        holder_id_type: Literal["citizen_id", "uscc"] | None = None,
        holder_id: Annotated[str | None, Query(max_length=32)] = None,
        page: Annotated[int, Query(ge=1, le=100_000)] = 1,
        per_page: Annotated[int, Query(ge=1, le=500)] = 50,
    ) -> None:
        self.query = _query(
            services,
            read_scope(request, services, department),
            status,
            code,
            since,
            until,
            holder_id_type,
            holder_id,
            page,
            per_page,
        )


FiltersDep = Annotated[Filters, Depends()]


def _json(value: Any, status_code: int = 200) -> JSONResponse:
    from fastapi.encoders import jsonable_encoder

    return JSONResponse(jsonable_encoder(value), status_code=status_code)


@router.get(
    "",
    response_model=DataProblemPage,
    summary="数据问题列表（按部门、状态、问题代码、时间筛选，分页）",
)
async def list_problems(services: ServicesDep, filters: FiltersDep) -> JSONResponse:
    q = filters.query
    page = await anyio.to_thread.run_sync(services.problems.search, q)
    return _json({"total": page.total, "page": q.page, "per_page": q.per_page, "items": page.items})


@router.get("/export.csv", summary="导出数据问题（CSV）")
async def export_csv(services: ServicesDep, filters: FiltersDep) -> Response:
    reports = await anyio.to_thread.run_sync(services.problems.all, filters.query)
    return Response(
        to_csv(reports),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": 'attachment; filename="data-problems.csv"'},
    )


@router.get("/export.xlsx", summary="导出数据问题（XLSX）")
async def export_xlsx(services: ServicesDep, filters: FiltersDep) -> Response:
    reports = await anyio.to_thread.run_sync(services.problems.all, filters.query)
    data = await anyio.to_thread.run_sync(to_xlsx, reports)
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="data-problems.xlsx"'},
    )


Month = Annotated[
    str | None, Query(pattern=r"^(19|2\d)\d{2}-(0[1-9]|1[0-2])$", description="YYYY-MM")
]


class Period:
    """The assessment's months (default: the last six, this one included) and department."""

    def __init__(
        self,
        request: Request,
        services: ServicesDep,
        since: Month = None,
        until: Month = None,
        department: DeptCode = None,
    ) -> None:
        today = dt.datetime.now(ZoneInfo(services.settings.timezone)).date()
        self.until = until or today.strftime("%Y-%m")
        year, month = divmod(today.year * 12 + today.month - 1 - 5, 12)
        self.since = since or f"{year:04d}-{month + 1:02d}"
        if self.since > self.until:
            raise InputError("起始月份晚于截止月份", field="since")
        self.department = read_scope(request, services, department)
        self.label = self.since if self.since == self.until else f"{self.since} 至 {self.until}"


PeriodDep = Annotated[Period, Depends()]


def _mpl(services: Services) -> FsPath:
    """Where matplotlib keeps its font cache: the state folder."""
    return services.settings.state_dir / "matplotlib"


async def _assessment(services: Services, period: Period) -> list[AssessmentRow]:
    return await anyio.to_thread.run_sync(
        services.problems.assessment,
        period.since,
        period.until,
        period.department,
        services.settings.problem_fix_deadline_days,
    )


@router.get(
    "/assessment",
    response_model=AssessmentOut,
    summary="考核：各部门按月的发现、整改、逾期、复发与整改用时",
)
async def assessment(services: ServicesDep, period: PeriodDep) -> JSONResponse:
    rows = await _assessment(services, period)
    return _json(
        {
            "since": period.since,
            "until": period.until,
            "department": period.department,
            "deadline_days": services.settings.problem_fix_deadline_days,
            "rows": [r.as_dict() for r in rows],
        }
    )


@router.get("/assessment.png", summary="考核图表（PNG）")
async def assessment_png_route(services: ServicesDep, period: PeriodDep) -> Response:
    rows = await _assessment(services, period)
    png = await anyio.to_thread.run_sync(assessment_png, rows, period.label, _mpl(services))
    return Response(png, media_type="image/png")


@router.get("/assessment.xlsx", summary="考核表（XLSX，含图表）")
async def assessment_xlsx_route(services: ServicesDep, period: PeriodDep) -> Response:
    rows = await _assessment(services, period)
    # Without matplotlib (matcher[reports]) the workbook keeps its native chart, not the picture.
    png = (
        await anyio.to_thread.run_sync(assessment_png, rows, period.label, _mpl(services))
        if charts_available()
        else None
    )
    data = await anyio.to_thread.run_sync(
        assessment_xlsx, rows, period.label, services.settings.problem_fix_deadline_days, png
    )
    return Response(
        data,
        media_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        headers={"Content-Disposition": 'attachment; filename="data-problem-assessment.xlsx"'},
    )


@router.get(
    "/{problem_id}",
    response_model=DataProblemOut,
    responses={404: {"description": "数据问题不存在"}},
    summary="数据问题详情（含证据与处理记录）",
)
async def get_problem(
    problem_id: ProblemId, request: Request, services: ServicesDep
) -> JSONResponse:
    report = await anyio.to_thread.run_sync(services.problems.get, problem_id)
    own = read_scope(request, services, None)
    if own is not None and (report.get("department") or "").lower() != own.lower():
        # another department's report is not found, as on the officers' pages
        raise NotFound(f"数据问题 {problem_id} 不存在")
    return _json(report)


def acting_department(
    request: Request, services: Services, x_department: str | None
) -> tuple[str | None, bool]:
    """The caller's department and whether it is the drive's office: a ``[[callers]]`` key's
    from its settings, a stored key's from the key (``matcher keys create --department``);
    without keys (open mode) ``X-Department`` is trusted."""
    caller = caller_of(request.scope)
    if caller is not None:
        config = next((c for c in services.settings.callers if c.name == caller), None)
        if config is not None:
            return config.department, config.office
        return department_of(request.scope), False  # a key made with `matcher keys create`
    return x_department, False


@router.post(
    "/{problem_id}/status",
    response_model=DataProblemOut,
    responses={
        403: {"description": "不是该数据问题的所属部门"},
        404: {"description": "数据问题不存在"},
        409: {"description": "当前状态不允许此变更"},
        422: {"description": "驳回未说明理由，或状态不正确"},
    },
    summary="变更数据问题状态（所属部门）",
)
async def change_status(
    problem_id: ProblemId,
    body: StatusChange,
    request: Request,
    services: ServicesDep,
    x_requester: RequesterHeader = None,
    x_department: Annotated[
        str | None,
        Header(pattern=r"^[a-z0-9][a-z0-9_-]{0,63}$", description="开放模式下的部门代码"),
    ] = None,
) -> JSONResponse:
    department, office = acting_department(request, services, x_department)
    change = await anyio.to_thread.run_sync(
        lambda: services.problems.transition(
            problem_id,
            body.status,
            actor=requester_name(request, x_requester),
            department=department,
            note=body.note,
            office=office,
        )
    )
    services.problem_loop.changed(change)
    return _json(change.report)
