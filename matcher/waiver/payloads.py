"""API payloads: the waive-check request and response. ``schemas/`` holds their JSON Schemas."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from matcher.problems.models import AssessmentOut, DataProblemOut, DataProblemPage

__all__ = [
    "Basis",
    "DecisionKind",
    "EvidenceRef",
    "ExtractionResponse",
    "FieldMismatch",
    "FieldOut",
    "FileOut",
    "MaterialDecision",
    "PageOut",
    "Party",
    "Person",
    "Summary",
    "Upload",
    "UploadCheck",
    "WaiveCheckRequest",
    "WaiveCheckResponse",
]

DecisionKind = Literal["waive", "require", "review"]
Basis = Literal[
    "e_licence",
    "data_certificate",
    "no_evidence",
    "no_evidence_source",
    "evidence_invalid",
    "registry_unavailable",
    "party_missing",
    "upload_verified",
    "upload_mismatch",
    "upload_unverified",
    "city_issued",
    "application_form",
]
IdType = Literal["citizen_id", "uscc"]


class Person(BaseModel):
    """The applicant: a person (citizen_id) or an organisation (uscc)."""

    model_config = ConfigDict(extra="forbid")

    id_type: IdType
    id: str = Field(min_length=1, max_length=32, examples=["330902198101011236"])
    name: str = Field(min_length=1, max_length=100, examples=["张伟"])
    phone: str | None = Field(
        default=None,
        pattern=r"^[0-9+() -]{5,24}$",
        description="the contact number of the holder's real-name account (实名账号), where the "
        "caller has it: a form's 联系电话 is filled from it instead of being typed",
        examples=["13905800123"],
    )


class Party(Person):
    """Another party of the application, named by role (legal_representative, spouse …)."""

    role: str = Field(pattern=r"^[a-z_]{1,32}$", examples=["spouse"])


class Upload(BaseModel):
    """A document the applicant uploaded for one material (``POST /v1/files`` gave its id)."""

    model_config = ConfigDict(extra="forbid")

    material_code: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", examples=["legal-rep-id"])
    file_id: str = Field(pattern=r"^f_[0-9a-f]{32}$")


class WaiveCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    matter_code: str = Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$", examples=["ent-establish"])
    applicant: Person
    parties: list[Party] = Field(default_factory=list, max_length=100)
    application_id: str | None = Field(
        default=None,
        pattern=r"^[A-Za-z0-9_.:-]{1,128}$",
        description="the caller's application number; also the idempotency key",
    )
    consent_token: str | None = Field(default=None, max_length=2048)
    situations: list[Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9_.-]{1,64}$")]] = Field(
        default_factory=list,
        max_length=20,
        description="the situations (情形) that apply, by the matter's codes "
        "(GET /v1/matters/{code}): a material asked for only in a situation is asked for only "
        "when it is named",
        examples=[["spouses-joint-investment"]],
    )
    uploads: list[Upload] = Field(
        default_factory=list,
        max_length=20,
        description="uploaded documents, each checked against the registry's record",
    )


class EvidenceRef(BaseModel):
    """One registry record considered for a material, and what verifying it found."""

    kind: Literal["e_licence", "data_certificate"]
    registry: str
    id: str
    type: str
    type_name: str | None = None
    number: str | None = None
    holder_role: str
    issuer: str | None = None
    valid_until: dt.date | None = None
    verified: bool
    problems: list[str] = Field(default_factory=list)
    flags: list[str] = Field(default_factory=list)


class FieldMismatch(BaseModel):
    """A field where the uploaded document and the registry's record disagree."""

    field: str
    label: str
    uploaded: str | None
    registry: str | None


class UploadCheck(BaseModel):
    """What reading an uploaded document for this material found."""

    file_id: str
    kind: str | None = None
    fields_compared: list[str] = Field(default_factory=list)
    mismatches: list[FieldMismatch] = Field(default_factory=list)


class MaterialDecision(BaseModel):
    material_code: str
    material_name: str
    decision: DecisionKind
    basis: Basis
    reason: str = Field(description="一句给窗口人员看的中文说明")
    commitment_allowed: bool = False
    evidence: list[EvidenceRef] = Field(default_factory=list)
    upload: UploadCheck | None = None


class Summary(BaseModel):
    waived: int
    required: int
    review: int


class UnmetCondition(BaseModel):
    """One condition of no-touch approval (智能秒办) the application does not meet."""

    condition: Literal["materials_waived", "no_review", "fields_verified"]
    reason: str = Field(description="中文说明")
    items: list[str] = Field(
        default_factory=list, description="the materials or fields that keep it unmet"
    )


class AutoApproval(BaseModel):
    """Whether the application meets the conditions of no-touch approval (智能秒办) its matter is
    marked for. The service never approves: it tells the business system that it may."""

    status: Literal["eligible", "not_eligible"]
    unmet: list[UnmetCondition] = Field(default_factory=list)


class WaiveCheckResponse(BaseModel):
    check_id: str
    matter_code: str
    matter_name: str
    application_id: str | None = None
    checked_at: dt.datetime
    decisions: list[MaterialDecision]
    summary: Summary
    warnings: list[str] = Field(default_factory=list)
    auto_approval: AutoApproval | None = Field(
        default=None,
        description="null unless the matter is marked for no-touch approval (智能秒办); an "
        "application's form conditions are judged in the application's answer",
    )


class FieldOut(BaseModel):
    name: str
    label: str
    value: str
    normalised: str | None
    confidence: float
    page: int
    box: list[float] | None = Field(default=None, description="[x0, y0, x1, y1] in page units")
    valid: bool
    reason: str | None = None


class PageOut(BaseModel):
    index: int
    source: Literal["text_layer", "ocr"]
    rotation: int
    width: float
    height: float
    text: str


class ExtractionResponse(BaseModel):
    kind: str | None
    kind_name: str | None
    fields: list[FieldOut]
    pages: list[PageOut]
    warnings: list[str]


class FileOut(BaseModel):
    file_id: str
    sha256: str
    media_type: str
    size: int
    pages: int
    expires_at: dt.datetime = Field(
        description="when the file is deleted (upload_retention_hours after its upload); "
        "a waive-check or extraction must name it before then"
    )


class UsageItem(BaseModel):
    """One use of a holder's record (用证记录): who asked, when, for what, and what was found."""

    seq: int = Field(description="place in the usage records' hash chain")
    used_at: dt.datetime
    requester: str = Field(description="the business system that asked")
    matter_code: str
    application_id: str | None
    check_id: str
    holder_role: str
    registry: str
    evidence_kind: str
    evidence_type: str
    evidence_id: str | None
    outcome: str = Field(description="found | none | unavailable | rejected")
    verified: bool | None
    from_cache: bool


class UsageList(BaseModel):
    holder_id_type: str
    holder_id_masked: str
    items: list[UsageItem]
    next_cursor: int | None = Field(
        description="pass as ?cursor= for the next page; null on the last page"
    )


SCHEMA_FILES: dict[str, type[BaseModel]] = {
    "waive-check-request.schema.json": WaiveCheckRequest,
    "waive-check-response.schema.json": WaiveCheckResponse,
    "extraction-response.schema.json": ExtractionResponse,
    "file-response.schema.json": FileOut,
    "data-problem.schema.json": DataProblemOut,
    "data-problem-page.schema.json": DataProblemPage,
    "data-problem-assessment.schema.json": AssessmentOut,
    "usage-response.schema.json": UsageList,
}
