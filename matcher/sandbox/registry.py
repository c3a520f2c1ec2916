"""The registry behind the sandbox's endpoints: signed licences and certificate issuing.

Licences are signed once, when the registry is built, and kept as encoded JSON bytes so that a
request only slices and joins. Certificates are made and signed per request, as a real
data-certificate service does.
"""

from __future__ import annotations

import copy
import datetime as dt
import json
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from matcher.catalog.ids import normalise_holder_id
from matcher.sandbox.config import SandboxConfig
from matcher.sandbox.keys import Keyring, SigningKey
from matcher.sandbox.samples import (
    CertificateSample,
    LicenceEntry,
    SampleData,
    SampleHolder,
    load_samples,
)

__all__ = ["CERTIFICATE_DAYS", "CHINA_TZ", "SandboxRegistry", "encode_json"]

CHINA_TZ = dt.timezone(dt.timedelta(hours=8))
CERTIFICATE_DAYS = 30

HolderRef = tuple[str, str]


def encode_json(document: Any) -> bytes:
    return json.dumps(document, ensure_ascii=False, separators=(",", ":")).encode()


def _holder_ref(id_type: str, holder_id: str) -> HolderRef:
    return id_type, normalise_holder_id(id_type, holder_id)


def _tamper(surface: dict[str, Any]) -> None:
    """Change the face of a signed licence so that its signature no longer holds."""
    # A forger's edit: the last digit of the first field that has one (a house number, an area).
    for label, text in surface.items():
        digits = [i for i, c in enumerate(text) if c in "0123456789"]
        if digits:
            i = digits[-1]
            surface[label] = f"{text[:i]}{(int(text[i]) + 1) % 10}{text[i + 1 :]}"
            return
    surface["备注"] = f"{surface.get('备注', '')}某"


def _sign_licence(entry: LicenceEntry, keyring: Keyring) -> dict[str, Any]:
    code = entry.issuer_code
    key = (
        keyring.unknown_key(code) if entry.directive.key == "unknown" else keyring.issuer_key(code)
    )
    signed = key.sign(copy.deepcopy(entry.record))
    if entry.directive.tamper:
        _tamper(signed["surface"])
    return signed


@dataclass(frozen=True)
class _Listed:
    type_code: str
    body: bytes


@dataclass(frozen=True)
class _CertificateSource:
    holder: SampleHolder
    sample: CertificateSample
    key: SigningKey


class SandboxRegistry:
    """Both registries of the registry protocol over one set of sample data."""

    def __init__(self, samples: SampleData, keyring: Keyring) -> None:
        self.samples = samples
        self.keyring = keyring
        self.licences: list[dict[str, Any]] = []
        self._licence_bodies: dict[str, bytes] = {}
        self._by_holder: dict[HolderRef, list[_Listed]] = {}
        for entry in samples.licences:
            signed = _sign_licence(entry, keyring)
            body = encode_json(signed)
            self.licences.append(signed)
            self._licence_bodies[entry.licence_id] = body
            listed = _Listed(str(signed["type_code"]), body)
            holder = signed["holder"]
            self._by_holder.setdefault(_holder_ref(holder["id_type"], holder["id"]), []).append(
                listed
            )
            if entry.directive.serve_for is not None:
                liar = samples.holders[entry.directive.serve_for]
                self._by_holder.setdefault(_holder_ref(liar.id_type, liar.id), []).append(listed)
        self._certificates: dict[tuple[str, str, str], _CertificateSource] = {}
        for sample in samples.certificates:
            owner = samples.holders[sample.holder]
            ref = _holder_ref(owner.id_type, owner.id)
            self._certificates[(*ref, sample.cert_type)] = _CertificateSource(
                owner, sample, keyring.issuer_key(sample.source.code)
            )
        self.cert_types = frozenset(s.cert_type for s in samples.certificates)

    @classmethod
    def from_config(cls, config: SandboxConfig) -> SandboxRegistry:
        samples = load_samples(config.data_dir)
        return cls(samples, Keyring(config.seed, samples.issuer_codes()))

    def trust_store(self) -> dict[str, Any]:
        return self.keyring.trust_store()

    def licence(self, licence_id: str) -> bytes | None:
        """One licence's JSON body, or None."""
        return self._licence_bodies.get(licence_id)

    def licences_for(
        self, id_type: str, holder_id: str, type_codes: Collection[str] = ()
    ) -> list[bytes]:
        """The JSON bodies of a holder's licences, in data order, optionally of some types only."""
        listed = self._by_holder.get(_holder_ref(id_type, holder_id), [])
        if not type_codes:
            return [item.body for item in listed]
        return [item.body for item in listed if item.type_code in type_codes]

    def correct(self, licence_id: str, changes: dict[str, Any]) -> bytes | None:
        """Replace a licence by a corrected one, soundly signed by its issuer and served for its
        own holder only (the data problem "fixed" at the source); ``changes`` are merged into
        the record (``surface`` member by member). None when there is no such licence."""
        entry = next((e for e in self.samples.licences if e.licence_id == licence_id), None)
        old = self._licence_bodies.get(licence_id)
        if entry is None or old is None:
            return None
        record = copy.deepcopy(entry.record)
        surface = {**record.get("surface", {}), **changes.pop("surface", {})}
        record.update(changes, surface=surface, licence_id=licence_id)
        signed = self.keyring.issuer_key(str(record["issuer"]["code"])).sign(record)
        body = encode_json(signed)
        for listed in self._by_holder.values():
            listed[:] = [item for item in listed if item.body != old]
        holder = signed["holder"]
        self._by_holder.setdefault(_holder_ref(holder["id_type"], holder["id"]), []).append(
            _Listed(str(signed["type_code"]), body)
        )
        self._licence_bodies[licence_id] = body
        self.licences = [signed if x["licence_id"] == licence_id else x for x in self.licences]
        return body

    def certificate(
        self, cert_type: str, id_type: str, holder_id: str, *, now: dt.datetime | None = None
    ) -> dict[str, Any] | None:
        """A freshly issued, signed certificate, or None when the source holds nothing."""
        source = self._certificates.get((*_holder_ref(id_type, holder_id), cert_type))
        if source is None:
            return None
        issued = (now or dt.datetime.now(CHINA_TZ)).astimezone(CHINA_TZ).replace(microsecond=0)
        sample = source.sample
        record = {
            "certificate_no": f"{sample.source.region or 'SBX'}{issued:%Y%m%d}"
            f"{secrets.token_hex(5).upper()}",
            "cert_type": sample.cert_type,
            "cert_name": sample.cert_name,
            "holder": source.holder.wire(),
            "source": sample.source.model_dump(exclude_none=True),
            "issued_at": issued.isoformat(),
            "valid_until": (issued.date() + dt.timedelta(days=CERTIFICATE_DAYS)).isoformat(),
            "data": copy.deepcopy(sample.data),
        }
        return source.key.sign(record)
