"""A provincial e-licence sharing interface (省级电子证照共享接口), national-platform style.

Not our protocol (docs/province.md): one ``POST`` with a JSON envelope — ``appId``, ``timestamp``,
``nonce``, ``holderCode``, ``holderTypeCode``, ``certTypeCode`` (comma-separated), ``useCause``
and ``sign``, an HMAC-SHA256 with the app secret over the other members sorted by name. Answers
are ``{"code": "0", "msg": …, "data": [{"cert": CERT, "fileUrl": …}]}`` with HTTP 200 even for
errors, status codes instead of words, dates as ``yyyyMMdd`` and the face of the licence as a
list of ``{name, value}``. CERT carries its issuer's signature (registry protocol §4), so ``raw``
is CERT exactly as received; ``fileUrl`` is a signed, expiring link to the licence file: a
credential, never fetched, logged or kept.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time
from typing import Annotated, Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field, PlainValidator, SecretStr

from adapters.base import AdapterOptions
from adapters.errors import RegistryRejected, RegistryUnavailable
from adapters.model import (
    Evidence,
    EvidenceKind,
    EvidenceQuery,
    Holder,
    HolderIdType,
    Issuer,
    RequestContext,
)
from adapters.sdk import HttpAdapter, Reply, WireText, mask_id, parse_json

__all__ = [
    "HOLDER_TYPE_CODES",
    "STATUS_CODES",
    "ProvinceAdapter",
    "ProvinceOptions",
    "sign_request",
]

_log = logging.getLogger("adapters.province")

# 持证主体代码类型: 111 居民身份证, 001 统一社会信用代码.
HOLDER_TYPE_CODES: dict[HolderIdType, str] = {"citizen_id": "111", "uscc": "001"}
_HOLDER_TYPES = {code: id_type for id_type, code in HOLDER_TYPE_CODES.items()}
# certStatus: 10 正常, 20 已过期, 30 已注销, 40 已挂失 (暂停使用).
STATUS_CODES: dict[str, str] = {"10": "valid", "20": "expired", "30": "revoked", "40": "suspended"}
NO_END_DATE = "长期"

# Answer codes that are refusals (someone must fix the configuration) rather than faults.
_REJECTED = {
    "1001": ("unauthorised", "signature refused; check app_secret"),
    "1002": ("unauthorised", "app not authorised; check app_id and its grants"),
    "1003": ("unauthorised", "timestamp outside the allowed window; check the host's clock"),
    "2001": ("bad_request", "the interface refused our parameters"),
}
_UNAVAILABLE = {
    "3001": ("rate_limited", "call quota exceeded"),
    "9999": ("registry_fault", "system busy"),
}


def sign_request(params: dict[str, str], secret: str) -> str:
    """HMAC-SHA256 (hex) over ``k=v`` pairs of every non-empty member but ``sign``, sorted by
    name and joined with ``&``."""
    text = "&".join(f"{k}={params[k]}" for k in sorted(params) if k != "sign" and params[k] != "")
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()


def _compact_date(value: object) -> dt.date:
    if not isinstance(value, str) or len(value) != 8 or not value.isdigit():
        raise ValueError("expected a yyyyMMdd date")
    return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))


def _end_date(value: object) -> dt.date | None:
    return None if value == NO_END_DATE else _compact_date(value)


CompactDate = Annotated[dt.date, PlainValidator(_compact_date)]
EndDate = Annotated[dt.date | None, PlainValidator(_end_date)]


class ProvinceOptions(AdapterOptions):
    """Options of a provincial sharing interface: the app it calls as, and where."""

    kind: Literal["province"] = "province"
    app_id: str = Field(min_length=1, max_length=64, description="应用标识 issued by the province")
    app_secret: SecretStr = Field(description="应用密钥: signs every request")
    path: str = Field(default="/api/v1/certificate/query", pattern=r"^/[A-Za-z0-9/_.-]*$")


class _SurfaceItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    name: WireText
    value: str | int | float | bool | None


class _WireCert(BaseModel):
    """CERT. Every member shown in docs/province.md is required except ``signature``."""

    model_config = ConfigDict(extra="allow")

    certId: WireText  # the wire's camelCase names, as sent
    certTypeCode: WireText
    certTypeName: str
    certNo: str
    holderName: str | None = None
    holderCode: WireText
    holderTypeCode: WireText
    issueOrgName: WireText
    issueOrgCode: WireText
    issueOrgDivisionCode: str | None = None
    issueDate: CompactDate
    validBegin: CompactDate
    validEnd: EndDate
    certStatus: WireText
    surface: list[_SurfaceItem]


class _WireItem(BaseModel):
    model_config = ConfigDict(extra="allow")

    cert: _WireCert
    fileUrl: str | None = None


class _WireAnswer(BaseModel):
    model_config = ConfigDict(extra="allow")

    code: WireText | int
    msg: str | None = None
    data: list[_WireItem] | None = None


class ProvinceAdapter(HttpAdapter):
    """E-licences from a provincial sharing interface; see the module docstring."""

    options_model: ClassVar[type[AdapterOptions]] = ProvinceOptions
    kind: ClassVar[EvidenceKind] = "e_licence"

    async def lookup(self, query: EvidenceQuery, context: RequestContext) -> list[Evidence]:
        """The holder's licences of ``query.types``; [] when the interface says it has none."""
        self._accept(query)
        if not query.types:
            return []
        options = self.options
        assert isinstance(options, ProvinceOptions)
        params = {
            "appId": options.app_id,
            "timestamp": str(int(time.time() * 1000)),
            "nonce": secrets.token_hex(8),
            "holderCode": query.holder.id,
            "holderTypeCode": HOLDER_TYPE_CODES[query.holder.id_type],
            "certTypeCode": ",".join(dict.fromkeys(query.types)),
            "useCause": context.matter_code,
            "applyNo": context.application_id or "",
        }
        params["sign"] = sign_request(params, options.app_secret.get_secret_value())
        found: list[Evidence] = await self._http.call(
            "POST",
            options.path,
            budget=self._http.budget(),
            context=context,
            accept=(200,),
            decode=self._decode,
            json_body={k: v for k, v in params.items() if v != ""},
        )
        _log.debug("%s: %d licences for %s", self.name, len(found), mask_id(query.holder.id))
        return found

    def _decode(self, reply: Reply) -> list[Evidence]:
        doc = parse_json(reply.content)
        answer = _WireAnswer.model_validate(doc)
        code = str(answer.code)
        if code != "0":
            self._raise_for(code)
        if answer.data is None:
            raise ValueError('data: a "code": "0" answer without a data list')
        raws = doc["data"]
        return [
            self._evidence(item.cert, raw["cert"])
            for item, raw in zip(answer.data, raws, strict=True)
        ]

    def _raise_for(self, code: str) -> None:
        options = self.options
        assert isinstance(options, ProvinceOptions)
        # The answer's msg is not repeated: a registry may echo the holder in it.
        what = f"POST {options.path}: code {code[:16]!r}"
        if code in _REJECTED:
            error, text = _REJECTED[code]
            raise RegistryRejected(self.name, f"{what}, {text}", code=error)
        error, text = _UNAVAILABLE.get(code, ("error_in_body", "an error in a 200 answer"))
        raise RegistryUnavailable(self.name, f"{what}, {text}", code=error)

    def _evidence(self, cert: _WireCert, raw: dict[str, Any]) -> Evidence:
        id_type = _HOLDER_TYPES.get(cert.holderTypeCode)
        if id_type is None:
            raise ValueError(f"holderTypeCode: {cert.holderTypeCode[:8]!r} is not 111 or 001")
        fields: dict[str, Any] = {}
        for item in cert.surface:
            if item.name in fields:
                raise ValueError(f"surface: the label {item.name!r} appears twice")
            fields[item.name] = item.value
        status = STATUS_CODES.get(cert.certStatus, f"unknown ({cert.certStatus[:8]})")
        return Evidence(
            kind="e_licence",
            registry=self.name,
            id=cert.certId,
            type=cert.certTypeCode,
            type_name=cert.certTypeName,
            number=cert.certNo,
            holder=Holder(id_type=id_type, id=cert.holderCode, name=cert.holderName),
            issuer=Issuer(
                name=cert.issueOrgName, code=cert.issueOrgCode, region=cert.issueOrgDivisionCode
            ),
            issued_on=cert.issueDate,
            valid_from=cert.validBegin,
            valid_until=cert.validEnd,
            status=status,
            fields=fields,
            raw=raw,
        )
