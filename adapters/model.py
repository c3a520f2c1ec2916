"""The evidence model shared by adapters and the core.

An adapter turns one registry's wire record into an :class:`Evidence`, keeping the record exactly
as received in ``raw`` so that the core can verify its signature.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "Evidence",
    "EvidenceKind",
    "EvidenceQuery",
    "Holder",
    "HolderIdType",
    "Issuer",
    "RequestContext",
]

EvidenceKind = Literal["e_licence", "data_certificate"]
HolderIdType = Literal["citizen_id", "uscc"]


class Holder(BaseModel):
    """A licence holder (持证主体).

    A person by 公民身份号码 or an organisation by 统一社会信用代码.
    """

    model_config = ConfigDict(frozen=True)

    id_type: HolderIdType
    id: str
    name: str | None = None


class Issuer(BaseModel):
    """The department that issued a licence (颁发机构) or is the source of a certificate."""

    model_config = ConfigDict(frozen=True)

    name: str
    code: str | None = None
    region: str | None = None


class Evidence(BaseModel):
    """One e-licence or data certificate as a registry returned it, not yet verified."""

    kind: EvidenceKind
    registry: str = Field(description="name of the configured registry that returned it")
    id: str = Field(description="licence_id (证照标识) or certificate_no")
    type: str = Field(description="licence type_code or certificate cert_type")
    type_name: str | None = None
    number: str | None = Field(default=None, description="number printed on a licence (证照编号)")
    holder: Holder
    issuer: Issuer
    issued_on: dt.date | None = None
    issued_at: dt.datetime | None = None
    valid_from: dt.date | None = None
    valid_until: dt.date | None = None
    status: str = "valid"
    fields: dict[str, Any] = Field(default_factory=dict, description="surface fields or data")
    raw: dict[str, Any] = Field(
        description="the wire record exactly as received, signature included"
    )


class EvidenceQuery(BaseModel):
    """What to look up for one holder: e-licence type codes or data-certificate types."""

    model_config = ConfigDict(frozen=True)

    kind: EvidenceKind
    holder: Holder
    types: tuple[str, ...]


class RequestContext(BaseModel):
    """Who asks and why; sent to registries as X-Requester, X-Purpose, X-Application-Id …"""

    model_config = ConfigDict(frozen=True)

    requester: str
    matter_code: str
    application_id: str | None = None
    consent_token: str | None = None
