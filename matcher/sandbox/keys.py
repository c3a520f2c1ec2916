"""Deterministic issuer keys for the sandbox: the same seed gives the same keys on every start.

One key per issuer code. Every third issuer (in code order) signs with ES256, the rest with
Ed25519, so both algorithms are exercised. A second, *unknown* key per issuer signs the records
that must fail with ``unknown_key``; it is never written to the trust store.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric import ec, ed25519

from matcher.waiver.evidence import PrivateKey, public_key_pem, sign_record

__all__ = ["Keyring", "SigningKey"]

# Order of the P-256 group: a private scalar must lie in [1, n - 1].
_P256_ORDER = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551


@dataclass(frozen=True)
class SigningKey:
    """An issuer's private key with the ``key_id`` and algorithm that records name."""

    key_id: str
    alg: str
    issuer_code: str
    private_key: PrivateKey

    def sign(self, record: Mapping[str, Any]) -> dict[str, Any]:
        return sign_record(record, self.private_key, self.key_id)

    def trust_entry(self) -> dict[str, str]:
        """This key as a trust-store entry (registry protocol §5)."""
        return {
            "key_id": self.key_id,
            "alg": self.alg,
            "issuer_code": self.issuer_code,
            "public_key_pem": public_key_pem(self.private_key),
        }


def _derive(seed: str, label: str, alg: str) -> PrivateKey:
    digest = hashlib.sha256(f"{seed}|{label}".encode()).digest()
    if alg == "Ed25519":
        return ed25519.Ed25519PrivateKey.from_private_bytes(digest)
    return ec.derive_private_key(int.from_bytes(digest, "big") % _P256_ORDER or 1, ec.SECP256R1())


class Keyring:
    """The issuer keys for one seed and one set of issuer codes."""

    def __init__(self, seed: str, issuer_codes: Iterable[str]) -> None:
        self.seed = seed
        self._algs = {
            code: "ES256" if i % 3 == 2 else "Ed25519"
            for i, code in enumerate(sorted(set(issuer_codes)))
        }
        self._known: dict[str, SigningKey] = {}
        self._unknown: dict[str, SigningKey] = {}

    @property
    def issuer_codes(self) -> list[str]:
        return list(self._algs)

    def _alg(self, issuer_code: str) -> str:
        try:
            return self._algs[issuer_code]
        except KeyError:
            raise KeyError(f"no sandbox key for issuer code {issuer_code!r}") from None

    def issuer_key(self, issuer_code: str) -> SigningKey:
        """The key the trust store knows for ``issuer_code``."""
        key = self._known.get(issuer_code)
        if key is None:
            alg = self._alg(issuer_code)
            key = SigningKey(
                key_id=f"sandbox-{issuer_code}-{alg.lower()}",
                alg=alg,
                issuer_code=issuer_code,
                private_key=_derive(self.seed, issuer_code, alg),
            )
            self._known[issuer_code] = key
        return key

    def unknown_key(self, issuer_code: str) -> SigningKey:
        """A key that claims to be ``issuer_code``'s but is in no trust store."""
        key = self._unknown.get(issuer_code)
        if key is None:
            alg = self._alg(issuer_code)
            key = SigningKey(
                key_id=f"sandbox-unknown-{issuer_code}-{alg.lower()}",
                alg=alg,
                issuer_code=issuer_code,
                private_key=_derive(self.seed, f"unknown|{issuer_code}", alg),
            )
            self._unknown[issuer_code] = key
        return key

    def trust_store(self) -> dict[str, Any]:
        """The trust-store document for every known issuer key; unknown keys are left out."""
        return {"keys": [self.issuer_key(code).trust_entry() for code in self.issuer_codes]}
