import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest

from adapters.model import Evidence, Holder, Issuer
from matcher.errors import TrustStoreError
from matcher.waiver.evidence import (
    canonical_bytes,
    check_licence_id,
    generate_key,
    load_trust_store,
    public_key_pem,
    sign_record,
    verify_evidence,
)

TODAY = dt.date(2026, 11, 27)
HOLDER = "330902198101011230"
ISSUER = "11330900002576123X"


def _record(**over: Any) -> dict[str, Any]:
    rec = {
        "licence_id": "LIC-1",
        "type_code": "T001",
        "type_name": "居民身份证",
        "number": "330902198101011230",
        "holder": {"id_type": "citizen_id", "id": HOLDER, "name": "张伟"},
        "issuer": {"name": "舟山市公安局定海区分局", "code": ISSUER, "region": "330902"},
        "issued_on": "2020-01-01",
        "valid_from": "2020-01-01",
        "valid_until": "2040-01-01",
        "status": "valid",
        "surface": {"姓名": "张伟"},
    }
    rec.update(over)
    return rec


def _evidence(raw: dict[str, Any]) -> Evidence:
    return Evidence(
        kind="e_licence",
        registry="r",
        id=raw["licence_id"],
        type=raw["type_code"],
        type_name=raw["type_name"],
        holder=Holder(**raw["holder"]),
        issuer=Issuer(**raw["issuer"]),
        valid_from=raw["valid_from"],
        valid_until=raw["valid_until"],
        status=raw["status"],
        fields=raw["surface"],
        raw=raw,
    )


@pytest.fixture(params=["Ed25519", "ES256"])
def signer(request: pytest.FixtureRequest, tmp_path: Path) -> tuple[Any, Path]:
    key = generate_key(request.param)
    store = tmp_path / "trust.json"
    entry = {
        "key_id": "k1",
        "alg": request.param,
        "issuer_code": ISSUER,
        "public_key_pem": public_key_pem(key),
    }
    store.write_text(json.dumps({"keys": [entry]}))
    return key, store


def _verify(raw: dict[str, Any], store: Path, holder: str = HOLDER) -> tuple[str, ...]:
    return verify_evidence(
        _evidence(raw),
        load_trust_store(store),
        holder_id_type="citizen_id",
        holder_id=holder,
        expected_type="T001",
        today=TODAY,
    ).problems


def test_canonical_bytes_follow_rfc8785_and_drop_signature() -> None:
    data = canonical_bytes({"b": 1, "a": "中", "signature": {"x": 1}, "c": 1.0})
    assert data == '{"a":"中","b":1,"c":1}'.encode()


def test_signed_valid_record_verifies(signer: tuple[Any, Path]) -> None:
    key, store = signer
    assert _verify(sign_record(_record(), key, "k1"), store) == ()


def test_tampered_surface_fails_signature(signer: tuple[Any, Path]) -> None:
    key, store = signer
    raw = sign_record(_record(), key, "k1")
    raw["surface"] = {"姓名": "李四"}
    assert _verify(raw, store) == ("signature_invalid",)


def test_unknown_key_id_fails(signer: tuple[Any, Path]) -> None:
    key, store = signer
    assert _verify(sign_record(_record(), key, "other"), store) == ("unknown_key",)


def test_key_of_another_issuer_fails(signer: tuple[Any, Path]) -> None:
    key, store = signer
    raw = sign_record(_record(issuer={"name": "某局", "code": "X", "region": "1"}), key, "k1")
    assert _verify(raw, store) == ("issuer_mismatch",)


def test_garbage_signature_value_fails(signer: tuple[Any, Path]) -> None:
    key, store = signer
    raw = sign_record(_record(), key, "k1")
    raw["signature"]["value"] = "not base64!"
    assert _verify(raw, store) == ("signature_invalid",)


def test_expired_and_revoked_are_reported(signer: tuple[Any, Path]) -> None:
    key, store = signer
    assert _verify(sign_record(_record(valid_until="2026-11-26"), key, "k1"), store) == ("expired",)
    assert _verify(sign_record(_record(status="revoked"), key, "k1"), store) == ("revoked",)
    assert _verify(sign_record(_record(valid_from="2026-11-28"), key, "k1"), store) == (
        "not_yet_valid",
    )


def test_open_ended_licence_is_valid(signer: tuple[Any, Path]) -> None:
    key, store = signer
    assert _verify(sign_record(_record(valid_until=None), key, "k1"), store) == ()


def test_holder_must_match_and_lowercase_x_is_the_same_holder(signer: tuple[Any, Path]) -> None:
    key, store = signer
    x_holder = "11010519491231002X"
    raw = sign_record(_record(holder={"id_type": "citizen_id", "id": x_holder.lower()}), key, "k1")
    assert _verify(raw, store, holder=x_holder) == ()
    assert _verify(raw, store, holder=HOLDER) == ("holder_mismatch",)


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        ("[]", "keys"),
        ('{"keys": [{"key_id": "a", "alg": "RSA"}]}', "alg"),
        ('{"keys": [{"key_id": "a", "alg": "Ed25519", "public_key_pem": "x"}]}', "PEM"),
    ],
)
def test_bad_trust_store_names_the_problem(tmp_path: Path, body: str, problem: str) -> None:
    path = tmp_path / "trust.json"
    path.write_text(body)
    with pytest.raises(TrustStoreError, match=problem):
        load_trust_store(path)


def test_gbt36904_licence_id_check() -> None:
    from stdnum.iso7064 import mod_37_36

    body = ("11100000000013888E001", "11330900002576123X", "0000123", "001")
    good = "1.2.156.3005.2." + ".".join(body) + "." + mod_37_36.calc_check_digit("".join(body))
    assert check_licence_id(good) is True
    bad = good[:-1] + ("0" if good[-1] != "0" else "1")
    assert check_licence_id(bad) is False
    assert check_licence_id("opaque-id-42") is None
