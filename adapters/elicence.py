"""The e-licence registry (电子证照库): docs/registry-protocol.md §1.

``GET /v1/licences`` lists a holder's licences of the asked types, page by page; each LICENCE
becomes one :class:`Evidence` whose ``raw`` is the record exactly as received.
"""

from __future__ import annotations

import logging
from typing import Any, ClassVar, Literal
from urllib.parse import quote

from pydantic import BaseModel, ConfigDict

from adapters._http import (
    HttpAdapter,
    Reply,
    WireDate,
    WireHolder,
    WireText,
    mask_id,
    parse_json,
)
from adapters.base import AdapterOptions
from adapters.errors import RegistryUnavailable
from adapters.model import Evidence, EvidenceKind, EvidenceQuery, Issuer, RequestContext

__all__ = ["ElicenceAdapter", "ElicenceOptions"]

_log = logging.getLogger("adapters.elicence")


class ElicenceOptions(AdapterOptions):
    """Options of an e-licence registry."""

    kind: Literal["elicence"] = "elicence"


class _WireIssuer(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: WireText
    code: WireText
    region: str | None = None


class _WireLicence(BaseModel):
    """LICENCE. Every member the protocol shows is required except ``signature``, which the
    verifier checks; ``valid_until`` must be present and is null for 长期有效."""

    model_config = ConfigDict(extra="allow")

    licence_id: WireText
    type_code: WireText
    type_name: str
    number: str
    holder: WireHolder
    issuer: _WireIssuer
    issued_on: WireDate
    valid_from: WireDate
    valid_until: WireDate | None
    status: WireText
    surface: dict[str, Any]


class _WirePage(BaseModel):
    model_config = ConfigDict(extra="allow")

    items: list[_WireLicence]
    next: WireText | None


class ElicenceAdapter(HttpAdapter):
    """An e-licence registry speaking registry protocol §1."""

    options_model: ClassVar[type[AdapterOptions]] = ElicenceOptions
    kind: ClassVar[EvidenceKind] = "e_licence"

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]:
        """The holder's licences of ``query.types``; [] when it has none or none were asked for."""
        self._accept(query)
        if not query.types:
            return []  # asking for every licence a person holds would exceed the purpose
        budget = self._http.budget()
        params = [
            ("holder_id_type", query.holder.id_type),
            ("holder_id", query.holder.id),
            *(("type_code", code) for code in dict.fromkeys(query.types)),
        ]
        found: list[Evidence] = []
        cursor: str | None = None
        for _ in range(self.options.max_pages):
            page_params = [*params, ("cursor", cursor)] if cursor is not None else params
            evidence, cursor = await self._http.call(
                "GET",
                "/v1/licences",
                budget=budget,
                context=context,
                accept=(200,),
                decode=self._decode_page,
                params=page_params,
            )
            found.extend(evidence)
            if cursor is None:
                _log.debug(
                    "%s: %d licences for %s",
                    self.name,
                    len(found),
                    mask_id(query.holder.id),
                )
                return found
        raise RegistryUnavailable(
            self.name,
            f"GET /v1/licences: more than {self.options.max_pages} pages (max_pages)",
            code="too_many_pages",
        )

    async def get(self, licence_id: str, context: RequestContext) -> Evidence | None:
        """One licence by its 证照标识; None when the registry does not have it."""
        if licence_id.strip(".") == "":
            raise ValueError("a licence id cannot be empty or only dots")
        path = f"/v1/licences/{quote(licence_id, safe='')}"

        def decode(reply: Reply) -> Evidence | None:
            if reply.status == 404:
                return None
            doc = parse_json(reply.content)
            self._http.check_error_in_body(doc, path)
            licence = _WireLicence.model_validate(doc)
            if licence.licence_id != licence_id:
                raise ValueError("the registry answered with another licence")
            return self._evidence(licence, doc)

        return await self._http.call(
            "GET",
            path,
            budget=self._http.budget(),
            context=context,
            accept=(200, 404),
            decode=decode,
        )

    def _decode_page(self, reply: Reply) -> tuple[list[Evidence], str | None]:
        doc = parse_json(reply.content)
        self._http.check_error_in_body(doc, "GET /v1/licences")
        page = _WirePage.model_validate(doc)
        # ``raw`` is the parsed item itself, not a re-serialised model, so signatures still verify.
        evidence = [self._evidence(w, raw) for w, raw in zip(page.items, doc["items"], strict=True)]
        return evidence, page.next

    def _evidence(self, licence: _WireLicence, raw: dict[str, Any]) -> Evidence:
        return Evidence(
            kind="e_licence",
            registry=self.name,
            id=licence.licence_id,
            type=licence.type_code,
            type_name=licence.type_name,
            number=licence.number,
            holder=licence.holder.to_holder(),
            issuer=Issuer(
                name=licence.issuer.name, code=licence.issuer.code, region=licence.issuer.region
            ),
            issued_on=licence.issued_on,
            valid_from=licence.valid_from,
            valid_until=licence.valid_until,
            status=licence.status,
            fields=licence.surface,
            raw=raw,
        )
