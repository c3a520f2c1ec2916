"""The sandbox's sample data: holders, licence records and certificate bodies, read from YAML.

``holders.yaml``, ``licences.yaml`` and ``certificates.yaml`` live in ``matcher/sandbox/data`` (or a
directory given in the config). Loading checks their shape and cross-references and fails with an
error that names the file and the entry; signing is done by :mod:`matcher.sandbox.registry`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
)

from adapters.model import HolderIdType
from matcher.errors import ConfigError

__all__ = [
    "CERT_TYPES",
    "CertificateSample",
    "LicenceSample",
    "SampleData",
    "SampleHolder",
    "SandboxDirective",
    "load_holders",
    "load_samples",
]

# The data-certificate types the sandbox knows, with their names.
CERT_TYPES: Mapping[str, str] = {
    "social_insurance_record": "社会保险参保证明",
    "tax_payment_record": "纳税证明",
    "no_criminal_record": "无犯罪记录证明",
    "provident_fund_record": "住房公积金缴存证明",
    "marriage_record": "婚姻登记记录证明",
    "real_estate_record": "不动产登记信息查询结果",
    "household_record": "户籍证明",
    "residence_record": "居住登记证明",
    "enterprise_credit_record": "企业信用信息报告",
    "name_declaration_record": "名称自主申报告知书",
    "construction_contract_record": "建筑工程施工合同备案信息",
}


def _iso_date(value: str) -> str:
    dt.date.fromisoformat(value)
    return value


Text = Annotated[str, StringConstraints(strict=True, min_length=1)]
IsoDate = Annotated[
    str, StringConstraints(strict=True, pattern=r"^\d{4}-\d{2}-\d{2}$"), AfterValidator(_iso_date)
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SampleHolder(_Strict):
    """A named holder: tests and the demo say ``holders["zhang_wei"]``."""

    key: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")]
    id_type: HolderIdType
    id: Text
    name: Text
    # The number of the holder's real-name account (实名账号), as a portal sends it with an
    # application: forms fill 联系电话 from it. Made up.
    phone: str | None = None
    scenario: Text

    def wire(self) -> dict[str, str]:
        """The holder as a wire record names it."""
        return {"id_type": self.id_type, "id": self.id, "name": self.name}


class _WireHolder(_Strict):
    id_type: HolderIdType
    id: Text
    name: Text | None = None


class _WireIssuer(_Strict):
    name: Text
    code: Text
    region: Text | None = None


class _WireSource(_Strict):
    department: Text
    code: Text
    region: Text | None = None


class SandboxDirective(_Strict):
    """The sandbox-only ``_sandbox`` member of a licence; never served."""

    tamper: bool = Field(default=False, description="change the surface after signing")
    key: Literal["issuer", "unknown"] = "issuer"
    serve_for: str | None = Field(default=None, description="holder key that also gets it")


class LicenceSample(BaseModel):
    """A licence record's checked members; other members are kept and served as they are."""

    model_config = ConfigDict(extra="allow", frozen=True)

    licence_id: Text
    type_code: Text
    type_name: Text
    number: Text
    holder: _WireHolder
    issuer: _WireIssuer
    issued_on: IsoDate
    valid_from: IsoDate
    valid_until: IsoDate | None
    status: Literal["valid", "expired", "revoked", "suspended"]
    surface: dict[Text, Text]


@dataclass(frozen=True)
class LicenceEntry:
    """One licence as written, unsigned, with its directive."""

    record: dict[str, Any]
    directive: SandboxDirective

    @property
    def licence_id(self) -> str:
        return str(self.record["licence_id"])

    @property
    def issuer_code(self) -> str:
        return str(self.record["issuer"]["code"])


class CertificateSample(_Strict):
    """What the source holds for one (holder, cert_type); a certificate is made from it per POST."""

    holder: Text
    cert_type: Text
    cert_name: Text
    source: _WireSource
    data: dict[Text, Any]


@dataclass(frozen=True)
class SampleData:
    holders: dict[str, SampleHolder]
    licences: list[LicenceEntry]
    certificates: list[CertificateSample]

    def issuer_codes(self) -> set[str]:
        """Every issuer or source code that signs something."""
        return {e.issuer_code for e in self.licences} | {c.source.code for c in self.certificates}


def _read(data_dir: Path | None, name: str) -> tuple[str, Any]:
    source: Traversable
    if data_dir is None:
        source = resources.files("matcher.sandbox").joinpath("data", name)
        where = f"matcher/sandbox/data/{name}"
    else:
        source = data_dir / name
        where = str(source)
    try:
        text = source.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{where}: sandbox data file not found") from None
    try:
        return where, yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML ({exc})") from None


def _entries(where: str, doc: Any, member: str) -> list[Any]:
    items = doc.get(member) if isinstance(doc, dict) else None
    if not isinstance(items, list):
        raise ConfigError(f'{where}: expected a mapping with a "{member}" list')
    return items


def _validation_message(where: str, exc: ValidationError) -> str:
    first = exc.errors()[0]
    path = ".".join(str(p) for p in first["loc"])
    more = f" (and {exc.error_count() - 1} more)" if exc.error_count() > 1 else ""
    return f"{where}{'.' + path if path else ''}: {first['msg']}{more}"


def load_holders(data_dir: Path | None = None) -> dict[str, SampleHolder]:
    """The named holders, by key."""
    where, doc = _read(data_dir, "holders.yaml")
    holders: dict[str, SampleHolder] = {}
    for i, item in enumerate(_entries(where, doc, "holders")):
        try:
            holder = SampleHolder.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(_validation_message(f"{where}: holders[{i}]", exc)) from None
        if holder.key in holders:
            raise ConfigError(f"{where}: holders[{i}].key: {holder.key!r} appears twice")
        holders[holder.key] = holder
    return holders


def _load_licences(
    data_dir: Path | None, holders: Mapping[str, SampleHolder]
) -> list[LicenceEntry]:
    where, doc = _read(data_dir, "licences.yaml")
    entries: list[LicenceEntry] = []
    seen: set[str] = set()
    for i, item in enumerate(_entries(where, doc, "licences")):
        at = f"{where}: licences[{i}]"
        if not isinstance(item, dict):
            raise ConfigError(f"{at}: expected a mapping")
        record = {k: v for k, v in item.items() if k != "_sandbox"}
        try:
            LicenceSample.model_validate(record)
            directive = SandboxDirective.model_validate(item.get("_sandbox") or {})
        except ValidationError as exc:
            raise ConfigError(_validation_message(at, exc)) from None
        if directive.serve_for is not None and directive.serve_for not in holders:
            raise ConfigError(f"{at}._sandbox.serve_for: no holder {directive.serve_for!r}")
        entry = LicenceEntry(record, directive)
        if entry.licence_id in seen:
            raise ConfigError(f"{at}.licence_id: {entry.licence_id!r} appears twice")
        seen.add(entry.licence_id)
        entries.append(entry)
    return entries


def _load_certificates(
    data_dir: Path | None, holders: Mapping[str, SampleHolder]
) -> list[CertificateSample]:
    where, doc = _read(data_dir, "certificates.yaml")
    samples: list[CertificateSample] = []
    seen: set[tuple[str, str]] = set()
    for i, item in enumerate(_entries(where, doc, "certificates")):
        at = f"{where}: certificates[{i}]"
        try:
            sample = CertificateSample.model_validate(item)
        except ValidationError as exc:
            raise ConfigError(_validation_message(at, exc)) from None
        if sample.holder not in holders:
            raise ConfigError(f"{at}.holder: no holder {sample.holder!r} in holders.yaml")
        if (sample.holder, sample.cert_type) in seen:
            raise ConfigError(f"{at}: a second {sample.cert_type} for {sample.holder}")
        seen.add((sample.holder, sample.cert_type))
        samples.append(sample)
    return samples


def load_samples(data_dir: Path | None = None) -> SampleData:
    """Holders, licences and certificate bodies, checked."""
    holders = load_holders(data_dir)
    return SampleData(
        holders=holders,
        licences=_load_licences(data_dir, holders),
        certificates=_load_certificates(data_dir, holders),
    )
