"""Evidence authenticity: canonical JSON (RFC 8785), signatures, the trust store, validity.

docs/registry-protocol.md §4–5: the signed bytes are the JCS form of the record without its
``signature`` member; ``key_id`` names a trust-store key whose algorithm must match and whose
``issuer_code``, where given, must equal the record's issuer (licence) or source (certificate) code.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import json
import re
from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import rfc8785
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from stdnum.iso7064 import mod_37_36

from adapters.model import Evidence
from matcher.catalog.ids import normalise_holder_id
from matcher.errors import TrustStoreError

__all__ = [
    "PrivateKey",
    "Problem",
    "PublicKey",
    "TrustStore",
    "TrustedKey",
    "Verification",
    "canonical_bytes",
    "check_evidence",
    "check_licence_id",
    "generate_key",
    "load_trust_store",
    "public_key_pem",
    "sign_record",
    "signature_problem",
    "trust_entry",
    "trust_store_from",
    "verify_evidence",
]

Alg = Literal["Ed25519", "ES256"]
PublicKey = ed25519.Ed25519PublicKey | ec.EllipticCurvePublicKey
PrivateKey = ed25519.Ed25519PrivateKey | ec.EllipticCurvePrivateKey

# Problems that make evidence unusable; the first group says the record itself cannot be trusted.
INTEGRITY_PROBLEMS = frozenset(
    {
        "unsigned",
        "unknown_key",
        "alg_mismatch",
        "issuer_mismatch",
        "signature_invalid",
        "holder_mismatch",
        "type_mismatch",
    }
)
VALIDITY_PROBLEMS = frozenset(
    {"expired", "not_yet_valid", "revoked", "suspended", "status_unknown"}
)
Problem = str


def canonical_bytes(record: Mapping[str, Any]) -> bytes:
    """RFC 8785 bytes of ``record`` without its ``signature`` member."""
    unsigned = {k: v for k, v in record.items() if k != "signature"}
    return rfc8785.dumps(unsigned)


@dataclass(frozen=True)
class TrustedKey:
    key_id: str
    alg: Alg
    public_key: PublicKey
    issuer_code: str | None = None


@dataclass
class TrustStore:
    """Key id → issuer public key."""

    keys: dict[str, TrustedKey] = field(default_factory=dict)
    _memo: OrderedDict[tuple[str, bytes, bytes], bool] = field(default_factory=OrderedDict)

    def __len__(self) -> int:
        return len(self.keys)

    def record_signature_ok(
        self, key: TrustedKey, record: Mapping[str, Any], signature: bytes
    ) -> bool:
        """Verify a record's signature, remembering recent answers.

        Cached registry answers come back many times. The memo is keyed by a digest of the
        record's plain sorted-key JSON: equal JSON text means an equal value, so an equal RFC 8785
        form, and the key and signature bytes are part of the key too. A miss canonicalises and
        verifies for real.
        """
        unsigned = {k: v for k, v in record.items() if k != "signature"}
        plain = json.dumps(unsigned, sort_keys=True, ensure_ascii=False, allow_nan=False)
        memo_key = (key.key_id, hashlib.sha256(plain.encode()).digest(), signature)
        known = self._memo.get(memo_key)
        if known is None:
            known = _signature_ok(key, rfc8785.dumps(unsigned), signature)
            self._memo[memo_key] = known
            if len(self._memo) > 4096:
                self._memo.popitem(last=False)
        return known


def _load_public_key(pem: str, alg: Alg, where: str) -> PublicKey:
    try:
        key = serialization.load_pem_public_key(pem.encode())
    except (ValueError, TypeError) as exc:
        raise TrustStoreError(f"{where}: public_key_pem is not a PEM public key ({exc})") from None
    if alg == "Ed25519" and isinstance(key, ed25519.Ed25519PublicKey):
        return key
    if (
        alg == "ES256"
        and isinstance(key, ec.EllipticCurvePublicKey)
        and isinstance(key.curve, ec.SECP256R1)
    ):
        return key
    raise TrustStoreError(f"{where}: the key in public_key_pem is not an {alg} key")


def load_trust_store(path: str | Path) -> TrustStore:
    """Read a trust-store JSON file (registry protocol §5); errors name the entry and the key."""
    path = Path(path)
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise TrustStoreError(f"{path}: trust store not found") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise TrustStoreError(f"{path}: not a readable JSON file ({exc})") from None
    if not isinstance(doc, dict):
        raise TrustStoreError(f'{path}: expected an object with a "keys" list')
    return trust_store_from(doc, str(path))


def generate_key(alg: Alg) -> PrivateKey:
    if alg == "Ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    return ec.generate_private_key(ec.SECP256R1())


def public_key_pem(key: PrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def trust_entry(key: TrustedKey) -> dict[str, Any]:
    """A trusted key as the trust-store file lists it (registry protocol §5)."""
    pem = key.public_key.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    ).decode()
    entry: dict[str, Any] = {"key_id": key.key_id, "alg": key.alg, "public_key_pem": pem}
    if key.issuer_code is not None:
        entry["issuer_code"] = key.issuer_code
    return entry


def trust_store_from(doc: Mapping[str, Any], where: str) -> TrustStore:
    """A trust store from a parsed trust-store document (as :func:`load_trust_store` reads)."""
    store = TrustStore()
    keys = doc.get("keys")
    if not isinstance(keys, list):
        raise TrustStoreError(f'{where}: expected an object with a "keys" list')
    for i, entry in enumerate(keys):
        here = f"{where}: keys[{i}]"
        if not isinstance(entry, dict):
            raise TrustStoreError(f"{here}: expected an object")
        key_id, alg, pem = entry.get("key_id"), entry.get("alg"), entry.get("public_key_pem")
        if not isinstance(key_id, str) or not key_id:
            raise TrustStoreError(f"{here}.key_id: missing")
        if alg not in ("Ed25519", "ES256"):
            raise TrustStoreError(f"{here}.alg: {alg!r} is not supported (Ed25519, ES256)")
        if not isinstance(pem, str):
            raise TrustStoreError(f"{here}.public_key_pem: missing")
        if key_id in store.keys:
            raise TrustStoreError(f"{here}.key_id: {key_id!r} appears twice")
        issuer_code = entry.get("issuer_code")
        if issuer_code is not None and not isinstance(issuer_code, str):
            raise TrustStoreError(f"{here}.issuer_code: expected a string")
        store.keys[key_id] = TrustedKey(key_id, alg, _load_public_key(pem, alg, here), issuer_code)
    return store


def sign_record(record: Mapping[str, Any], key: PrivateKey, key_id: str) -> dict[str, Any]:
    """A copy of ``record`` with a ``signature`` member (used by the sandbox and tests)."""
    data = canonical_bytes(record)
    if isinstance(key, ed25519.Ed25519PrivateKey):
        alg, raw = "Ed25519", key.sign(data)
    else:
        alg, raw = "ES256", key.sign(data, ec.ECDSA(hashes.SHA256()))
    signed = {k: v for k, v in record.items() if k != "signature"}
    signed["signature"] = {"alg": alg, "key_id": key_id, "value": base64.b64encode(raw).decode()}
    return signed


def _signature_ok(key: TrustedKey, data: bytes, signature: bytes) -> bool:
    try:
        if isinstance(key.public_key, ed25519.Ed25519PublicKey):
            key.public_key.verify(signature, data)
        else:
            key.public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
    except InvalidSignature:
        return False
    return True


def signature_problem(
    record: Mapping[str, Any], store: TrustStore, issuer_code: str | None
) -> str | None:
    """None when the record's signature verifies against the trust store, else a problem code."""
    sig = record.get("signature")
    if not isinstance(sig, dict):
        return "unsigned"
    key_id = sig.get("key_id")
    key = store.keys.get(key_id) if isinstance(key_id, str) else None
    if key is None:
        return "unknown_key"
    if sig.get("alg") != key.alg:
        return "alg_mismatch"
    if key.issuer_code is not None and key.issuer_code != issuer_code:
        return "issuer_mismatch"
    value = sig.get("value")
    if not isinstance(value, str):
        return "signature_invalid"
    try:
        raw = base64.b64decode(value, validate=True)
        if not store.record_signature_ok(key, record, raw):
            return "signature_invalid"
    except (binascii.Error, ValueError, TypeError, rfc8785.CanonicalizationError):
        return "signature_invalid"
    return None


_MOD_37_36_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_LICENCE_ID_RE = re.compile(r"^1\.2\.156\.3005\.2\.([^.]+)\.([^.]+)\.([^.]+)\.(\d{3})\.([0-9A-Z])$")


@lru_cache(maxsize=4096)
def check_licence_id(licence_id: str) -> bool | None:
    """GB/T 36904: True/False for an identifier of that shape, None for any other shape."""
    m = _LICENCE_ID_RE.fullmatch(licence_id)
    if not m:
        return None
    type_code, issuer, serial, version, check = m.groups()
    body = (type_code + issuer + serial + version).upper()
    if any(c not in _MOD_37_36_ALPHABET for c in body):
        return False
    return mod_37_36.calc_check_digit(body) == check


@dataclass(frozen=True)
class Verification:
    """What verifying one piece of evidence found. ``problems`` empty ⇔ usable for a waiver."""

    problems: tuple[Problem, ...] = ()
    flags: tuple[str, ...] = ()

    @property
    def verified(self) -> bool:
        return not self.problems

    @property
    def integrity_failed(self) -> bool:
        return any(p in INTEGRITY_PROBLEMS for p in self.problems)


def verify_evidence(
    evidence: Evidence,
    store: TrustStore,
    *,
    holder_id_type: str,
    holder_id: str,
    expected_type: str,
    today: dt.date,
) -> Verification:
    """Signature, holder, type, status and validity dates of one record, all checked."""
    return check_evidence(
        evidence,
        signature_problem(evidence.raw, store, evidence.issuer.code),
        holder_id_type=holder_id_type,
        holder_id=holder_id,
        expected_type=expected_type,
        today=today,
    )


def check_evidence(
    evidence: Evidence,
    sig_problem: Problem | None,
    *,
    holder_id_type: str,
    holder_id: str,
    expected_type: str,
    today: dt.date,
) -> Verification:
    """:func:`verify_evidence` for a record whose signature was already checked: ``sig_problem``
    is what :func:`signature_problem` said of it (the signature does not change with the holder
    asked about or the day, so a cached answer keeps it)."""
    problems: list[Problem] = []
    flags: list[str] = []
    if sig_problem:
        problems.append(sig_problem)
    if evidence.holder.id_type != holder_id_type or normalise_holder_id(
        holder_id_type, evidence.holder.id
    ) != normalise_holder_id(holder_id_type, holder_id):
        problems.append("holder_mismatch")
    if evidence.type != expected_type:
        problems.append("type_mismatch")
    if evidence.status in ("expired", "revoked", "suspended"):
        problems.append(evidence.status)
    elif evidence.status != "valid":
        problems.append("status_unknown")
    if evidence.valid_from is not None and today < evidence.valid_from:
        problems.append("not_yet_valid")
    if (
        evidence.valid_until is not None
        and today > evidence.valid_until
        and "expired" not in problems
    ):
        problems.append("expired")
    if evidence.kind == "e_licence" and check_licence_id(evidence.id) is False:
        flags.append("licence_id_check_failed")
    return Verification(tuple(problems), tuple(flags))
