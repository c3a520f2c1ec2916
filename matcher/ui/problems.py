"""Data-problem pages (数据问题反馈整改) for the departments' data officers and the drive's office.

A data officer (role ``data_officer``) sees and acts on the reports of the department their
account names (a directory code); an admin (the drive's office) sees and acts on every report.
Each page has a JSON twin at the same address with ``.json`` appended.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any
from zoneinfo import ZoneInfo

import anyio.to_thread
from fastapi import APIRouter, Depends, Form, Path, Query, Request
from fastapi.encoders import jsonable_encoder
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.templating import Jinja2Templates

from matcher.access.users import Session
from matcher.api.deps import ServicesDep
from matcher.applications import zeros as zeros_report
from matcher.applications.zeros import MatterZeros, five_zeros
from matcher.errors import Forbidden as NotYours
from matcher.errors import InputError, NotFound, TransitionNotAllowed
from matcher.extras import charts_available
from matcher.problems.assess import months_span
from matcher.problems.charts import assessment_png
from matcher.problems.codes import PROBLEM_TEXT, STATUS_TEXT
from matcher.problems.store import DEPARTMENT_MOVES, ProblemQuery
from matcher.ui.deps import CsrfSessionDep, Forbidden, permitted, require
from matcher.wiring import Services

__all__ = ["router"]

router = APIRouter(prefix="/ui", include_in_schema=False)
OfficerDep = Annotated[Session, Depends(permitted("problems.view"))]
MESSAGES = {"status_changed": "状态已更新，并已记录操作人。"}
# What a report's evidence members are called on the page (the JSON keeps the codes).
EVIDENCE_LABELS = {
    "found": "核验发现",
    "holder": "持证主体",
    "holder_name": "持证人",
    "queried_holder": "查询的持证主体",
    "id": "证照标识",
    "number": "证照编号",
    "kind": "类别",
    "type": "类型代码",
    "types": "类型代码",
    "type_name": "证照名称",
    "issuer": "颁发机构",
    "issuer_code": "颁发机构代码",
    "key_id": "签名密钥",
    "status": "证照状态",
    "valid_until": "有效期至",
    "registry": "证照库",
    "matter_code": "事项",
    "material_code": "材料",
    "material_name": "材料名称",
    "records": "返回的他人证照",
    "mismatches": "不一致的字段",
    "file_id": "上传文件",
    "standard": "校验标准",
    "error": "错误",
    "field": "表单字段",
    "label": "字段名称",
}
MOVE_TEXT = {
    "acknowledged": "确认收到",
    "fixed": "已整改",
    "rejected": "驳回",
    "open": "重新打开",
}
Code = Annotated[str | None, Query(max_length=64)]
ProblemId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def _department(session: Session) -> str | None:
    """The department whose reports this account sees; None: every department (admin)."""
    if session.user.role == "admin":
        return None
    if not session.user.department:
        raise Forbidden("您的账号未设置所属部门，无法查看数据问题。", session)
    return session.user.department.lower()


def _page(request: Request, name: str, context: dict[str, Any], status_code: int = 200) -> Response:
    templates: Jinja2Templates = request.app.state.ui_templates
    msg = request.query_params.get("msg")
    context = {
        "message": MESSAGES.get(msg or ""),
        "problem_text": PROBLEM_TEXT,
        "status_text": STATUS_TEXT,
        "evidence_labels": EVIDENCE_LABELS,
        **context,
    }
    return templates.TemplateResponse(request, name, context, status_code=status_code)


def _query(
    session: Session, status: str | None, code: str | None, department: str | None, page: int
) -> ProblemQuery:
    own = _department(session)
    return ProblemQuery(
        department=own or department or None,
        status=status if status in STATUS_TEXT else None,
        code=code if code in PROBLEM_TEXT else None,
        page=page,
        per_page=50,
    )


async def _queue(
    services: Services,
    session: Session,
    status: str | None,
    code: str | None,
    department: str | None,
    page: int,
) -> tuple[ProblemQuery, Any]:
    q = _query(session, status, code, department, page)
    found = await anyio.to_thread.run_sync(services.problems.search, q)
    return q, found


@router.get("/data-problems.json")
async def queue_json(
    services: ServicesDep,
    session: OfficerDep,
    status: Code = None,
    code: Code = None,
    department: Code = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> JSONResponse:
    q, found = await _queue(services, session, status, code, department, page)
    return JSONResponse(
        jsonable_encoder({"total": found.total, "page": q.page, "items": found.items})
    )


@router.get("/data-problems", response_class=HTMLResponse)
async def queue(
    request: Request,
    services: ServicesDep,
    session: OfficerDep,
    status: Code = None,
    code: Code = None,
    department: Code = None,
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> Response:
    q, found = await _queue(services, session, status, code, department, page)
    return _page(
        request,
        "problems.html",
        {
            "session": session,
            "q": q,
            "rows": found.items,
            "total": found.total,
            "pages": max(1, -(-found.total // q.per_page)),
            "departments": services.directory.departments,
            "own": _department(session),
        },
    )


async def _report(services: Services, session: Session, problem_id: int) -> dict[str, Any]:
    try:
        report = await anyio.to_thread.run_sync(services.problems.get, problem_id)
    except NotFound as exc:
        raise Forbidden(f"没有找到数据问题 {problem_id}。", session, status_code=404) from exc
    own = _department(session)
    if own is not None and report["department"] != own:
        raise Forbidden(f"没有找到数据问题 {problem_id}。", session, status_code=404)
    return report


@router.get("/data-problems/{problem_id}.json")
async def report_json(
    problem_id: ProblemId, services: ServicesDep, session: OfficerDep
) -> JSONResponse:
    return JSONResponse(jsonable_encoder(await _report(services, session, problem_id)))


def _report_page(
    request: Request,
    session: Session,
    report: dict[str, Any],
    errors: list[tuple[str, str]] | None = None,
    note: str = "",
    status_code: int = 200,
) -> Response:
    moves = sorted(DEPARTMENT_MOVES.get(report["status"], frozenset()), key=list(MOVE_TEXT).index)
    return _page(
        request,
        "problem.html",
        {
            "session": session,
            "r": report,
            "moves": [(m, MOVE_TEXT[m]) for m in moves],
            "errors": errors or [],
            "note": note,
        },
        status_code=status_code,
    )


@router.get("/data-problems/{problem_id}", response_class=HTMLResponse)
async def report_page(
    problem_id: ProblemId, request: Request, services: ServicesDep, session: OfficerDep
) -> Response:
    return _report_page(request, session, await _report(services, session, problem_id))


@router.post("/data-problems/{problem_id}/status", response_class=HTMLResponse)
async def change_status(
    problem_id: ProblemId,
    request: Request,
    services: ServicesDep,
    session: CsrfSessionDep,
    status: Annotated[str, Form(max_length=16)] = "",
    note: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    require(session, "problems.act")
    report = await _report(services, session, problem_id)
    try:
        change = await anyio.to_thread.run_sync(
            lambda: services.problems.transition(
                problem_id,
                status,
                actor=session.user.username,
                department=_department(session),
                note=note.strip() or None,
                office=session.user.role == "admin",
            )
        )
    except (InputError, TransitionNotAllowed, NotYours) as exc:
        field = "note" if isinstance(exc, InputError) else "status"
        code = 422 if isinstance(exc, InputError) else 409
        return _report_page(request, session, report, [(field, str(exc))], note, code)
    services.problem_loop.changed(change)
    return RedirectResponse(f"/ui/data-problems/{problem_id}?msg=status_changed", status_code=303)


def _month(value: str | None, default: dt.date) -> str:
    if value and len(value) == 7 and value[4] == "-" and value[:4].isdigit():
        if value[5:].isdigit() and 1 <= int(value[5:]) <= 12:
            return value
    return default.strftime("%Y-%m")


async def _assessment(
    services: Services, session: Session, since: str | None, until: str | None
) -> tuple[str, str, list[Any]]:
    today = dt.date.today()
    year, month = divmod(today.year * 12 + today.month - 1 - 5, 12)
    start = _month(since, dt.date(year, month + 1, 1))
    end = _month(until, today)
    if start > end:
        start, end = end, start
    rows = await anyio.to_thread.run_sync(
        services.problems.assessment,
        start,
        end,
        _department(session),
        services.settings.problem_fix_deadline_days,
    )
    return start, end, rows


Month = Annotated[str | None, Query(max_length=7)]


def _zeros(services: Services, session: Session, start: str, end: str) -> list[MatterZeros]:
    """The five zeros per matter for the months ``start``..``end`` (the account's department's
    matters; every matter for the office)."""
    zone = ZoneInfo(services.settings.timezone)
    since, until = (
        dt.datetime.combine(day, dt.time(), tzinfo=zone) for day in months_span(start, end)
    )
    department = _department(session)
    matters = None if department is None else services.applications.matters_of(department)
    return five_zeros(
        services.applications,
        since.astimezone(dt.UTC),
        until.astimezone(dt.UTC),
        matters=matters,
        limit=zeros_report.LIMIT,
    )


@router.get("/assessment.json")
async def assessment_json(
    services: ServicesDep, session: OfficerDep, since: Month = None, until: Month = None
) -> JSONResponse:
    start, end, rows = await _assessment(services, session, since, until)
    zeros = await anyio.to_thread.run_sync(_zeros, services, session, start, end)
    return JSONResponse(
        {
            "since": start,
            "until": end,
            "rows": [r.as_dict() for r in rows],
            "five_zeros": [z.as_dict() for z in zeros],
        }
    )


@router.get("/assessment.png")
async def assessment_chart(
    services: ServicesDep, session: OfficerDep, since: Month = None, until: Month = None
) -> Response:
    start, end, rows = await _assessment(services, session, since, until)
    label = start if start == end else f"{start} 至 {end}"
    png = await anyio.to_thread.run_sync(
        assessment_png, rows, label, services.settings.state_dir / "matplotlib"
    )
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


@router.get("/assessment", response_class=HTMLResponse)
async def assessment_page(
    request: Request,
    services: ServicesDep,
    session: OfficerDep,
    since: Month = None,
    until: Month = None,
) -> Response:
    start, end, rows = await _assessment(services, session, since, until)
    return _page(
        request,
        "assessment.html",
        {
            "session": session,
            "since": start,
            "until": end,
            "rows": rows,
            "zeros": await anyio.to_thread.run_sync(_zeros, services, session, start, end),
            "zeros_limit": zeros_report.LIMIT,
            "deadline": services.settings.problem_fix_deadline_days,
            "charts": charts_available(),
        },
    )
