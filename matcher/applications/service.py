"""Applications: one call checks the materials, pre-fills the form and keeps both; a clerk then
settles the form's values and confirms them.

:class:`ApplicationService` is what the API (``POST/GET /v1/applications``) and the clerk's pages
call; it never imports FastAPI. Its blocking methods (``load``, ``find``, ``recent``,
``set_value``, ``confirm``, ``values``) touch the database: call them from a worker thread
(a plain ``def`` route does). ``submit`` is a coroutine.

The flow of :meth:`ApplicationService.submit`: idempotency per (requester, application_id) as for
the waive-check (the same request again gets the kept application; another request under the same
number is ``409``; a kept one that met an unavailable registry and was not touched is run again),
then :meth:`~matcher.waiver.check.WaiveCheckService.gather` — the waive-check plus the lookups the
form reads, all recorded as usage — then :func:`~matcher.applications.prefill.prefill`, then the
row.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Sequence
from typing import Annotated, Literal
from zoneinfo import ZoneInfo

import anyio.to_thread
from pydantic import BaseModel, Field, StringConstraints

from adapters.model import EvidenceKind
from matcher.applications.approval import with_form_condition
from matcher.applications.forms import Form, FormField, Forms
from matcher.applications.prefill import (
    FoundRecord,
    Party,
    PrefilledField,
    PrefillResult,
    SourceRef,
    prefill,
)
from matcher.errors import ApplicationNotFound, ConflictError, InputError
from matcher.problems.detect import ProblemFinder
from matcher.store.applications import ApplicationRow, ApplicationStore, EditRow
from matcher.store.records import DataProblem
from matcher.waiver.check import WaiveCheckService
from matcher.waiver.evidence import trust_entry
from matcher.waiver.payloads import AutoApproval, WaiveCheckRequest, WaiveCheckResponse

__all__ = [
    "ApplicationNotFound",
    "ApplicationRequest",
    "ApplicationResponse",
    "ApplicationService",
    "Confirmation",
    "FieldChange",
    "FieldEdit",
    "conflict_problems",
]

REGISTRY_KINDS = ("e_licence", "data_certificate")


Answer = Annotated[str, StringConstraints(min_length=1, max_length=2000)]


class ApplicationRequest(WaiveCheckRequest):
    """A waive-check request whose application is kept: ``application_id`` is required."""

    application_id: str = Field(
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="the caller's application number; the application is kept under it",
    )
    answers: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{0,63}$")], Answer] = (
        Field(
            default_factory=dict,
            max_length=200,
            description="values the applicant typed in the business system (申请人填报), by form "
            "field key; each is checked as its field's type says, fills only a field no other "
            "source could, and does not count toward fill_rate",
        )
    )


class FieldEdit(BaseModel):
    """The value a clerk settled on for one field (the latest of their edits)."""

    value: str
    how: Literal["prefilled", "candidate", "typed"] = Field(
        description="kept the pre-filled value, chose another source's, or typed it"
    )
    source: SourceRef | None = None
    by: str
    at: dt.datetime


class FieldChange(BaseModel):
    key: str
    label: str
    prefilled: str | None
    final: str | None
    how: Literal["prefilled", "candidate", "typed"]
    source: SourceRef | None = None


class Confirmation(BaseModel):
    by: str
    at: dt.datetime
    values: dict[str, str | None] = Field(description="the form's final values, by field key")
    changes: list[FieldChange] = Field(
        description="the fields whose value differs from the prefill"
    )


class ApplicationResponse(BaseModel):
    id: str = Field(description="the service's own id of the kept application")
    application_id: str
    requester: str
    matter_code: str
    matter_name: str
    status: Literal["prefilled", "confirmed"]
    created_at: dt.datetime
    updated_at: dt.datetime
    check: WaiveCheckResponse
    form: PrefillResult | None = Field(description="null when the matter names no form")
    edits: dict[str, FieldEdit] = Field(
        default_factory=dict, description="the clerk's latest value per field key"
    )
    confirmation: Confirmation | None = None
    auto_approval: AutoApproval | None = Field(
        default=None,
        description="no-touch approval (智能秒办), for a matter marked for it: the check's "
        "conditions and, with a form, every required field filled from a verified source "
        "without conflict",
    )


def _hash(request: ApplicationRequest) -> str:
    body = request.model_dump(mode="json", exclude={"consent_token"})
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def conflict_problems(
    filled: PrefillResult, records: Sequence[FoundRecord], finder: ProblemFinder
) -> list[DataProblem]:
    """Data problems (数据问题反馈) for verified registry records that disagree on a field: one of
    them is wrong, and each owner department should hear of it (``field_conflict``)."""
    by_id = {(r.evidence.registry, r.evidence.id): r.evidence for r in records}
    problems: dict[tuple[str, str], DataProblem] = {}
    for field in filled.fields:
        if not field.conflict or field.source is None or field.source.kind not in REGISTRY_KINDS:
            continue
        others = [
            c.source for c in field.candidates if c.usable and c.source.kind in REGISTRY_KINDS
        ]
        for ref in (field.source, *others) if others else ():
            e = by_id.get((ref.registry or "", ref.record_id or ""))
            if e is not None:
                problems[(e.registry, e.id)] = finder.record_problem(
                    "field_conflict", e, field=field.key, label=field.label
                )
    return list(problems.values())


def _check_answers(form: Form | None, answers: dict[str, str]) -> None:
    """Every answer names a field of the matter's form and passes that field's check."""
    for key, value in answers.items():
        if form is None:
            raise InputError("该事项没有申请表，不能填写 answers", field="answers")
        try:
            spec = form.field(key)
        except KeyError:
            raise InputError(f"申请表没有字段 {key}", field=f"answers.{key}") from None
        checked = spec.check(value)
        if not checked.valid:
            raise InputError(f"{spec.label}：{checked.reason}", field=f"answers.{key}")


def _wanted(form: Form) -> list[tuple[str, EvidenceKind, str]]:
    """(role, kind, type) of every registry source of the form."""
    return [(s.role, s.kind, s.type) for s in form.registry_sources()]


class ApplicationService:
    """Built once at start-up (matcher.wiring) over the checker, the forms and the store."""

    def __init__(
        self, *, checker: WaiveCheckService, forms: Forms, store: ApplicationStore
    ) -> None:
        self.checker = checker
        self.forms = forms
        self.store = store
        self._tz = ZoneInfo(checker.options.timezone)

    # -- a business system's call ---------------------------------------------------------------

    async def submit(self, request: ApplicationRequest, requester: str) -> ApplicationResponse:
        """Check + prefill + keep; idempotent per (requester, application_id)."""
        req_hash = _hash(request)
        kept = await anyio.to_thread.run_sync(self.store.find, requester, request.application_id)
        if kept is not None:
            if kept.request_hash != req_hash:
                raise ConflictError(f"申请编号 {request.application_id} 已用于内容不同的申请")
            if not await anyio.to_thread.run_sync(self._should_rerun, kept):
                return await anyio.to_thread.run_sync(self.view, kept)
        matter = self.checker.catalog.get(request.matter_code)
        form = self.forms.get(matter.form) if matter.form else None
        _check_answers(form, request.answers)
        gathered = await self.checker.gather(
            request, requester, extra=_wanted(form) if form else ()
        )
        filled = None
        if form is not None:
            parties = {"applicant": Party(**request.applicant.model_dump())}
            parties |= {
                p.role: Party(id_type=p.id_type, id=p.id, name=p.name, phone=p.phone)
                for p in request.parties
            }
            filled = prefill(
                form,
                matter_name=matter.name,
                parties=parties,
                records=gathered.records,
                uploads=gathered.uploads,
                answers=request.answers,
                retrieved_at=gathered.checked_at,
            )
        check = gathered.result.response
        if filled is not None:
            problems = conflict_problems(filled, gathered.records, self.checker.finder)
            if problems:
                await anyio.to_thread.run_sync(
                    self.checker.records.add_problems,
                    check.check_id,
                    problems,
                    gathered.checked_at,
                )
        prefill_json = filled.model_dump_json() if filled else None
        evidence_json = self._kept_records(gathered.records)
        if kept is not None:
            await anyio.to_thread.run_sync(
                lambda: self.store.replace_prefill(
                    kept.id,
                    check_id=check.check_id,
                    prefill_json=prefill_json,
                    evidence_json=evidence_json,
                    at=gathered.checked_at,
                )
            )
            return await anyio.to_thread.run_sync(self.load, kept.id)
        row = ApplicationRow(
            id=str(uuid.uuid4()),
            requester=requester,
            application_id=request.application_id,
            matter_code=matter.code,
            form_code=form.code if form else None,
            holder_id_type=request.applicant.id_type,
            holder_id=request.applicant.id.upper(),
            holder_name=request.applicant.name,
            request_hash=req_hash,
            request_json=request.model_dump_json(exclude={"consent_token"}),
            check_id=check.check_id,
            prefill_json=prefill_json,
            status="prefilled",
            created_at=gathered.checked_at,
            updated_at=gathered.checked_at,
            evidence_json=evidence_json,
        )
        stored = await anyio.to_thread.run_sync(self.store.insert, row)
        if stored.id != row.id and stored.request_hash != req_hash:
            raise ConflictError(f"申请编号 {request.application_id} 已用于内容不同的申请")
        return await anyio.to_thread.run_sync(self.view, stored)

    def _kept_records(self, records: list[FoundRecord]) -> str:
        """The registry records the check was given, each exactly as its registry signed it and
        with the trust-store entry of its key (None for a key the trust store does not list):
        kept (sealed) with the application for its archive package."""
        trust = self.checker.trust_store
        kept = []
        for found in records:
            e = found.evidence
            signature = e.raw.get("signature")
            key_id = signature.get("key_id") if isinstance(signature, dict) else None
            key = trust.keys.get(key_id) if isinstance(key_id, str) else None
            kept.append(
                {
                    "role": found.role,
                    "registry": e.registry,
                    "kind": e.kind,
                    "id": e.id,
                    "type": e.type,
                    "issuer_code": e.issuer.code,
                    "problems": list(found.problems),
                    "record": e.raw,
                    "trust": trust_entry(key) if key is not None else None,
                }
            )
        return json.dumps(kept, ensure_ascii=False, default=str)

    def _should_rerun(self, kept: ApplicationRow) -> bool:
        """A kept application whose check met an unavailable registry, untouched by any clerk."""
        if kept.status != "prefilled" or self.store.edits(kept.id):
            return False
        check = self._check(kept)
        return any(d.basis == "registry_unavailable" for d in check.decisions)

    # -- reading ---------------------------------------------------------------------------------

    def find(self, requester: str, application_id: str) -> ApplicationResponse:
        """A business system's application by its number; ApplicationNotFound if none."""
        row = self.store.find(requester, application_id)
        if row is None:
            raise ApplicationNotFound(f"申请 {application_id} 不存在")
        return self.view(row)

    def load(self, key: str) -> ApplicationResponse:
        """An application by the service's own id; ApplicationNotFound if none."""
        row = self.store.get(key)
        if row is None:
            raise ApplicationNotFound(f"申请 {key} 不存在")
        return self.view(row)

    def recent(
        self,
        *,
        limit: int = 50,
        search: str | None = None,
        department: str | None = None,
        every_department: bool = False,
    ) -> list[ApplicationRow]:
        """The newest applications, or those whose number or holder ID is ``search``: of the
        matters of ``department``, or of every department's with ``every_department``."""
        matters = None if every_department else self.matters_of(department)
        return self.store.recent(limit=limit, search=search, matters=matters)

    def matters_of(self, department: str | None) -> frozenset[str]:
        """The codes of a department's matters (its directory code; none for no department).
        A matter names its department as the portal does, by name: the directory gives its
        code."""
        if not department:
            return frozenset()
        directory = self.checker.finder.directory
        wanted = department.lower()
        return frozenset(
            m.code
            for m in self.checker.catalog.matters
            if (directory.route(issuer_name=m.department) or "").lower() == wanted
        )

    def _check(self, row: ApplicationRow) -> WaiveCheckResponse:
        body = self.checker.records.get_check(row.check_id)
        if body is None:  # the row's foreign key makes this a broken database
            raise ApplicationNotFound(f"申请 {row.application_id} 的核验记录缺失")
        return WaiveCheckResponse.model_validate(body)

    def view(self, row: ApplicationRow) -> ApplicationResponse:
        check = self._check(row)
        form = PrefillResult.model_validate_json(row.prefill_json) if row.prefill_json else None
        edits = {
            e.field_key: FieldEdit(
                value=e.value,
                how=e.how,
                source=SourceRef.model_validate_json(e.source_json) if e.source_json else None,
                by=e.clerk,
                at=e.created_at,
            )
            for e in self.store.edits(row.id)
        }
        confirmation = None
        if row.status == "confirmed" and row.confirmed_by and row.confirmed_at:
            confirmation = Confirmation(
                by=row.confirmed_by,
                at=row.confirmed_at,
                values=json.loads(row.final_json or "{}"),
                changes=[
                    FieldChange.model_validate(c) for c in json.loads(row.changes_json or "[]")
                ],
            )
        return ApplicationResponse(
            id=row.id,
            application_id=row.application_id,
            requester=row.requester,
            matter_code=row.matter_code,
            matter_name=check.matter_name,
            status=row.status,
            created_at=row.created_at,
            updated_at=row.updated_at,
            check=check,
            form=form,
            edits=edits,
            confirmation=confirmation,
            auto_approval=with_form_condition(check.auto_approval, form),
        )

    # -- the clerk's work ------------------------------------------------------------------------

    def set_value(self, key: str, field_key: str, value: str, *, clerk: str) -> ApplicationResponse:
        """Settle one field: ``value`` is the pre-filled value, a candidate's (its source is
        kept) or typed by the clerk — checked as its field's type says (InputError with
        ``field`` = the key and a zh-CN reason otherwise)."""
        view = self.load(key)
        if view.status == "confirmed":
            raise ConflictError("该申请已确认，不能再修改")
        field, spec = self._field(view, field_key)
        checked = spec.check(value)
        if not checked.valid:
            raise InputError(f"{spec.label}：{checked.reason}", field=field_key)
        how: Literal["prefilled", "candidate", "typed"] = "typed"
        source: SourceRef | None = None
        text = value.strip()
        if field.normalised == checked.normalised and field.value is not None:
            how, source, text = "prefilled", field.source, field.value
        else:
            same = next((c for c in field.candidates if c.normalised == checked.normalised), None)
            if same is not None:
                how, source, text = "candidate", same.source, same.value
        self.store.add_edit(
            key,
            EditRow(
                field_key=field_key,
                value=text,
                how=how,
                source_json=source.model_dump_json() if source else None,
                clerk=clerk,
                created_at=dt.datetime.now(self._tz),
            ),
        )
        return self.load(key)

    def _field(self, view: ApplicationResponse, key: str) -> tuple[PrefilledField, FormField]:
        if view.form is None:
            raise InputError("该事项没有申请表", field="field")
        field = next((f for f in view.form.fields if f.key == key), None)
        if field is None:
            raise InputError(f"申请表没有字段 {key}", field="field")
        return field, self.forms.get(view.form.form_code).field(key)

    def values(self, view: ApplicationResponse) -> dict[str, str | None]:
        """The form's values now: the confirmed ones, else the prefill with the clerk's edits."""
        if view.confirmation is not None:
            return dict(view.confirmation.values)
        if view.form is None:
            return {}
        out: dict[str, str | None] = {f.key: f.value for f in view.form.fields}
        out |= {k: e.value for k, e in view.edits.items()}
        return out

    def confirm(self, key: str, *, clerk: str) -> ApplicationResponse:
        """Record, durably, who confirmed, the final values and what changed from the prefill.

        Refused (InputError, zh-CN) while a required field is empty, a value fails its check, or
        a conflict has not been settled by the clerk; ConflictError once confirmed already.
        """
        view = self.load(key)
        if view.status == "confirmed":
            raise ConflictError("该申请已确认")
        final = self.values(view)
        problems: list[str] = []
        changes: list[FieldChange] = []
        form = self.forms.get(view.form.form_code) if view.form else None
        for field in view.form.fields if view.form else []:
            assert form is not None
            spec = form.field(field.key)
            value = final.get(field.key)
            edit = view.edits.get(field.key)
            if value is None:
                if field.required:
                    problems.append(f"{field.label}：必填")
                continue
            checked = spec.check(value)
            if not checked.valid:
                problems.append(f"{field.label}：{checked.reason}")
            if field.conflict and edit is None:
                problems.append(f"{field.label}：来源之间不一致，请选择")
            if edit is not None and edit.how != "prefilled":
                changes.append(
                    FieldChange(
                        key=field.key,
                        label=field.label,
                        prefilled=field.value,
                        final=value,
                        how=edit.how,
                        source=edit.source,
                    )
                )
        if problems:
            raise InputError("尚不能确认：" + "；".join(problems), field="form")
        at = dt.datetime.now(self._tz)
        done = self.store.confirm(
            key,
            clerk=clerk,
            at=at,
            final_json=json.dumps(final, ensure_ascii=False),
            changes_json=json.dumps(
                [c.model_dump(mode="json") for c in changes], ensure_ascii=False
            ),
        )
        if not done:
            raise ConflictError("该申请已确认")
        return self.load(key)
