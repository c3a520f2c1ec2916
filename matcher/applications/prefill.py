"""Pre-fill an application form (信息免填) from the registries, the uploads and the request.

Every field gets the value of the first of its sources (in the form's order) that has a *usable*
value, with where it came from; the other sources' values that differ are kept as candidates, and
a difference between two usable sources is a conflict for the clerk to settle. The rule, like
decide.py's: **only a verified registry record or a checked upload fills a field.** A record that
failed verification (bad signature, unknown key, expired, holder mismatch …) and an upload field
that failed its check or was read with low confidence can only appear as candidates.

Values are compared in their normal form (full/half width and blanks evened, dates as
``YYYY-MM-DD``, money in yuan — ``100万元`` equals ``1000000``) and shown as the source printed
them. No FastAPI here: the API, the UI and the CLI call :func:`prefill` alike.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from pydantic import BaseModel, Field
from stdnum.cn import ric

from adapters.model import Evidence
from matcher.applications.forms import (
    CertificateSource,
    DerivedSource,
    Form,
    FormField,
    LicenceSource,
    RequestSource,
    Source,
    UploadSource,
)
from matcher.catalog.ids import check_citizen_id
from matcher.catalog.regions import province_name, region_name
from matcher.errors import InvalidIdentifier
from matcher.waiver.decide import PROBLEM_TEXT
from matcher.waiver.uploads import ReadUpload

__all__ = [
    "Candidate",
    "FoundRecord",
    "Party",
    "PrefillResult",
    "PrefilledField",
    "SourceKind",
    "SourceRef",
    "prefill",
]

SourceKind = Literal["e_licence", "data_certificate", "upload", "request", "derived"]

# An upload field read with less confidence than this is shown, never used to fill.
MIN_UPLOAD_CONFIDENCE = 0.85

ID_TYPE_NAMES = {"citizen_id": "居民身份证", "uscc": "统一社会信用代码"}

# The request field of a value the applicant typed (an ``answers`` entry of the request).
ANSWER = "answers"


class SourceRef(BaseModel):
    """Where a value came from (in the spirit of Singapore Myinfo's per-field envelope)."""

    kind: SourceKind
    registry: str | None = Field(default=None, description="the configured registry's name")
    record_id: str | None = Field(
        default=None, description="licence_id, certificate_no, or the upload's file_id"
    )
    type_name: str | None = Field(default=None, description="e.g. 居民身份证, 户籍证明")
    field: str | None = Field(
        default=None,
        description="surface label, data member, extracted field, request field "
        "(answers: typed by the applicant)",
    )
    role: str | None = Field(default=None, description="whose record: applicant, contractor …")
    retrieved_at: dt.datetime | None = None


class Candidate(BaseModel):
    """A value one source gave for a field."""

    value: str = Field(description="as the source printed it")
    normalised: str = Field(description="the form used to compare values")
    source: SourceRef
    verified: bool = Field(description="from a registry record that passed verification")
    confidence: float | None = Field(default=None, description="for an upload: OCR confidence")
    usable: bool = Field(description="may fill the field (verified record, checked upload …)")
    reason: str | None = Field(default=None, description="why it may not fill the field (zh-CN)")


class PrefilledField(BaseModel):
    key: str
    label: str
    section: str
    type: str
    required: bool
    value: str | None = Field(description="as its source printed it; null when missing")
    normalised: str | None = None
    source: SourceRef | None = None
    verified: bool = False
    confidence: float | None = None
    candidates: list[Candidate] = Field(
        default_factory=list, description="other sources' values that differ from the value"
    )
    conflict: bool = Field(
        default=False, description="a usable source disagrees with the value: the clerk chooses"
    )


class PrefillResult(BaseModel):
    form_code: str
    form_name: str
    fields: list[PrefilledField]
    missing: list[str] = Field(description="keys of the fields no source could fill")
    filled: int = Field(description="fields filled without the applicant typing them")
    answered: int = Field(default=0, description="fields filled by the applicant's answers")
    total: int
    fill_rate: float = Field(description="填报免填率: filled / total")


@dataclass(frozen=True)
class FoundRecord:
    """A registry record the application's lookups returned for one party, and its verification
    (``problems`` empty ⇔ verified: matcher.waiver.evidence)."""

    role: str
    evidence: Evidence
    problems: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return not self.problems


@dataclass(frozen=True)
class Party:
    """A person or organisation of the request, by role (the applicant is ``applicant``)."""

    id_type: str
    id: str
    name: str
    phone: str | None = None  # the real-name account's number, where the request gives it


@dataclass
class _Context:
    matter_name: str
    parties: Mapping[str, Party]
    records: Sequence[FoundRecord]
    uploads: Sequence[ReadUpload]
    retrieved_at: dt.datetime
    chosen: dict[str, PrefilledField] = field(default_factory=dict)


def prefill(
    form: Form,
    *,
    matter_name: str,
    parties: Mapping[str, Party],
    records: Sequence[FoundRecord],
    uploads: Sequence[ReadUpload] = (),
    answers: Mapping[str, str] | None = None,
    retrieved_at: dt.datetime,
) -> PrefillResult:
    """The form with every field filled from its sources, where one has a usable value.

    ``answers`` are values the applicant typed in the business system (申请人填报), by field key:
    each is the field's last source, so it fills only what no other source could, and a field
    it fills does not count toward the fill rate (the applicant had to type it).
    """
    ctx = _Context(matter_name, parties, records, uploads, retrieved_at)
    fields = []
    for spec in form.fields:
        filled = _fill(spec, ctx, (answers or {}).get(spec.key))
        ctx.chosen[spec.key] = filled
        fields.append(filled)
    missing = [f.key for f in fields if f.value is None]
    answered = sum(f.source is not None and f.source.field == ANSWER for f in fields)
    total = len(fields)
    filled_count = total - len(missing) - answered
    return PrefillResult(
        form_code=form.code,
        form_name=form.name,
        fields=fields,
        missing=missing,
        filled=filled_count,
        answered=answered,
        total=total,
        fill_rate=round(filled_count / total, 4) if total else 1.0,
    )


def _fill(spec: FormField, ctx: _Context, answer: str | None) -> PrefilledField:
    found = [c for source in spec.sources for c in _values(spec, source, ctx)]
    if answer is not None:
        ref = SourceRef(kind="request", field=ANSWER, role="applicant")
        typed = _candidate(spec, answer, ref, verified=False, usable=True)
        if typed is not None:
            found.append(typed)
    chosen = next((c for c in found if c.usable), None)
    out = PrefilledField(
        key=spec.key,
        label=spec.label,
        section=spec.section,
        type=spec.type,
        required=spec.required,
        value=None,
    )
    seen: set[str] = set()
    if chosen is not None:
        out.value, out.normalised, out.source = chosen.value, chosen.normalised, chosen.source
        out.verified, out.confidence = chosen.verified, chosen.confidence
        seen.add(chosen.normalised)
    for c in found:
        if c.normalised in seen:
            continue
        seen.add(c.normalised)
        out.candidates.append(c)
    out.conflict = chosen is not None and any(c.usable for c in out.candidates)
    return out


# ── what each kind of source says ────────────────────────────────────────────────────────────


def _candidate(
    spec: FormField,
    raw: object,
    source: SourceRef,
    *,
    verified: bool,
    usable: bool,
    reason: str | None = None,
    confidence: float | None = None,
) -> Candidate | None:
    if raw is None:
        return None
    value = str(raw).strip()
    if not value:
        return None
    checked = spec.check(value)
    if not checked.valid and reason is None:
        reason = f"格式不符：{checked.reason}"
    return Candidate(
        value=value,
        normalised=checked.normalised,
        source=source,
        verified=verified,
        confidence=confidence,
        usable=usable and checked.valid,
        reason=reason,
    )


def _values(spec: FormField, source: Source, ctx: _Context) -> list[Candidate]:
    match source:
        case LicenceSource() | CertificateSource():
            return _record_values(spec, source, ctx)
        case UploadSource():
            return _upload_values(spec, source, ctx)
        case RequestSource():
            party = ctx.parties.get(source.role)
            raw: str | None
            if source.field == "matter_name":
                raw = ctx.matter_name
            elif party is None:
                raw = None
            elif source.field == "id_type_name":
                raw = ID_TYPE_NAMES.get(party.id_type, party.id_type)
            else:
                raw = {"name": party.name, "id": party.id, "phone": party.phone}[source.field]
            ref = SourceRef(kind="request", field=source.field, role=source.role)
            c = _candidate(spec, raw, ref, verified=False, usable=True)
            return [c] if c else []
        case DerivedSource():
            return _derived_values(spec, source, ctx)
    return []


def _meta(e: Evidence, name: str) -> object:
    match name:
        case "number":
            return e.number if e.kind == "e_licence" else e.id
        case "issuer":
            return e.issuer.name
        case "issued_on":
            return e.issued_on or (e.issued_at.date() if e.issued_at else None)
        case "valid_from":
            return e.valid_from
        case "valid_until":
            return e.valid_until
        case "holder_name":
            return e.holder.name
        case "holder_id":
            return e.holder.id
    return None


def _record_values(
    spec: FormField, source: LicenceSource | CertificateSource, ctx: _Context
) -> list[Candidate]:
    mine = [
        r
        for r in ctx.records
        if r.role == source.role
        and r.evidence.kind == source.kind
        and r.evidence.type == source.type
    ]
    mine.sort(key=lambda r: not r.verified)  # a verified record first
    out = []
    for r in mine:
        e = r.evidence
        raw = e.fields.get(source.field) if source.field else _meta(e, source.meta or "")
        if isinstance(raw, dt.date):
            raw = raw.isoformat()
        ref = SourceRef(
            kind=source.kind,
            registry=e.registry,
            record_id=e.id,
            type_name=e.type_name,
            field=source.field or source.meta,
            role=source.role,
            retrieved_at=ctx.retrieved_at,
        )
        reason = None
        if not r.verified:
            problems = "、".join(PROBLEM_TEXT.get(p, p) for p in r.problems)
            reason = f"记录未通过核验：{problems}"
        c = _candidate(spec, raw, ref, verified=r.verified, usable=r.verified, reason=reason)
        if c is not None:
            out.append(c)
    return out


def _upload_values(spec: FormField, source: UploadSource, ctx: _Context) -> list[Candidate]:
    out = []
    for upload in ctx.uploads:
        extraction = upload.extraction
        if extraction is None or extraction.kind != source.doc_kind:
            continue
        for f in extraction.fields:
            if f.name != source.field:
                continue
            ref = SourceRef(
                kind="upload",
                record_id=upload.file_id,
                type_name=extraction.kind_name,
                field=f.name,
                retrieved_at=ctx.retrieved_at,
            )
            reason = None
            if not f.valid:
                reason = f"识别结果未通过校验：{f.reason}"
            elif f.confidence < MIN_UPLOAD_CONFIDENCE:
                reason = f"识别置信度较低（{f.confidence:.2f}），请核对原件"
            c = _candidate(
                spec,
                f.value,
                ref,
                verified=False,
                usable=reason is None,
                reason=reason,
                confidence=round(f.confidence, 4),
            )
            if c is not None:
                out.append(c)
    return out


def _derived_values(spec: FormField, source: DerivedSource, ctx: _Context) -> list[Candidate]:
    base = ctx.chosen.get(source.from_)
    if base is None or base.value is None or base.normalised is None:
        return []
    value = _derive(source.rule, base.normalised)
    ref = SourceRef(kind="derived", field=source.from_, retrieved_at=ctx.retrieved_at)
    c = _candidate(spec, value, ref, verified=base.verified, usable=True)
    return [c] if c else []


def _derive(rule: str, value: str) -> str | None:
    if rule == "region_name":
        return region_name(value)
    try:
        number = check_citizen_id(value).value
    except InvalidIdentifier:
        return None
    match rule:
        case "birth_date":
            return ric.get_birth_date(number).isoformat()
        case "sex":
            # GB 11643: the order code's last digit is odd for men, even for women.
            return "男" if int(number[16]) % 2 else "女"
        case "native_region":
            return region_name(number[:6])
        case "native_province":
            return province_name(number[:6])
    return None
