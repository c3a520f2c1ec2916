"""The data-certificate registry (数据凭证): docs/registry-protocol.md §2.

One ``POST /v1/certificates`` per certificate type, concurrently, inside one time budget. A ``404``
means "the source holds nothing" only with the body ``{"error": "no_data"}``; any other 404 is a
misconfiguration and must not pass for "the holder has nothing".
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import anyio
from pydantic import BaseModel, ConfigDict

from adapters._http import (
    Budget,
    HttpAdapter,
    Reply,
    WireDate,
    WireHolder,
    WireInstant,
    WireText,
    parse_json,
)
from adapters.base import AdapterOptions
from adapters.errors import RegistryError, RegistryRejected
from adapters.model import (
    Evidence,
    EvidenceKind,
    EvidenceQuery,
    Holder,
    Issuer,
    RequestContext,
)

__all__ = ["DatacertAdapter", "DatacertOptions"]


class DatacertOptions(AdapterOptions):
    """Options of a data-certificate registry."""

    kind: Literal["datacert"] = "datacert"


class _WireSource(BaseModel):
    model_config = ConfigDict(extra="allow")

    department: WireText
    code: WireText
    region: str | None = None


class _WireCertificate(BaseModel):
    """CERTIFICATE. Every member the protocol shows is required except ``signature``, which the
    verifier checks."""

    model_config = ConfigDict(extra="allow")

    certificate_no: WireText
    cert_type: WireText
    cert_name: str
    holder: WireHolder
    source: _WireSource
    issued_at: WireInstant
    valid_until: WireDate
    data: dict[str, Any]
    # Not in the protocol today; honoured if a registry adds it, since a revoked
    # certificate must not pass for a valid one.
    status: WireText = "valid"


class DatacertAdapter(HttpAdapter):
    """A data-certificate registry speaking registry protocol §2."""

    options_model: ClassVar[type[AdapterOptions]] = DatacertOptions
    kind: ClassVar[EvidenceKind] = "data_certificate"

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]:
        """One certificate per type in ``query.types`` that the source holds; any failure fails
        the whole lookup."""
        self._accept(query)
        types = list(dict.fromkeys(query.types))
        budget = self._http.budget()
        if len(types) <= 1:
            found = [await self._fetch(t, query.holder, context, budget) for t in types]
            return [e for e in found if e is not None]
        results: dict[str, Evidence | None] = {}

        async def fetch(cert_type: str) -> None:
            results[cert_type] = await self._fetch(cert_type, query.holder, context, budget)

        try:
            async with anyio.create_task_group() as tg:
                for cert_type in types:
                    tg.start_soon(fetch, cert_type)
        except* RegistryError as group:
            raise _most_telling(group) from None
        return [e for t in types if (e := results.get(t)) is not None]

    async def _fetch(
        self, cert_type: str, holder: Holder, context: RequestContext, budget: Budget
    ) -> Evidence | None:
        purpose = {"matter_code": context.matter_code}
        if context.application_id is not None:
            purpose["application_id"] = context.application_id
        body = {
            "cert_type": cert_type,
            "holder": {"id_type": holder.id_type, "id": holder.id},
            "purpose": purpose,
        }
        return await self._http.call(
            "POST",
            "/v1/certificates",
            budget=budget,
            context=context,
            accept=(200, 201, 404),
            decode=self._decode,
            json_body=body,
        )

    def _decode(self, reply: Reply) -> Evidence | None:
        if reply.status == 404:
            if _says_no_data(reply.content):
                return None
            raise RegistryRejected(
                self.name,
                'POST /v1/certificates: HTTP 404 without {"error": "no_data"}; check base_url',
                code="not_found",
            )
        doc = parse_json(reply.content)
        self._http.check_error_in_body(doc, "POST /v1/certificates")
        cert = _WireCertificate.model_validate(doc)
        return Evidence(
            kind="data_certificate",
            registry=self.name,
            id=cert.certificate_no,
            type=cert.cert_type,
            type_name=cert.cert_name,
            holder=cert.holder.to_holder(),
            issuer=Issuer(
                name=cert.source.department, code=cert.source.code, region=cert.source.region
            ),
            issued_at=cert.issued_at,
            valid_until=cert.valid_until,
            status=cert.status,
            fields=cert.data,
            raw=doc,
        )


def _says_no_data(content: bytes) -> bool:
    try:
        doc = parse_json(content)
    except ValueError:
        return False
    return isinstance(doc, dict) and doc.get("error") == "no_data"


def _most_telling(group: BaseExceptionGroup[RegistryError]) -> RegistryError:
    """A rejection (needs someone to act) over an unavailability (may pass by itself)."""
    errors: list[RegistryError] = []
    stack: list[BaseException] = [group]
    while stack:
        exc = stack.pop(0)
        if isinstance(exc, BaseExceptionGroup):
            stack.extend(exc.exceptions)
        elif isinstance(exc, RegistryError):
            errors.append(exc)
    rejected = [e for e in errors if isinstance(e, RegistryRejected)]
    return (rejected or errors)[0]
