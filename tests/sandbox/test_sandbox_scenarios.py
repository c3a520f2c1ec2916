"""Each named holder gives the verification outcome its scenario promises, and the data is sound."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml
from stdnum.cn import ric, uscc

from adapters.model import Evidence, Holder, Issuer
from matcher.catalog.ids import check_holder_id
from matcher.errors import ConfigError
from matcher.sandbox import CERT_TYPES, SampleHolder, SandboxConfig, load_holders
from matcher.sandbox.registry import SandboxRegistry
from matcher.sandbox.samples import load_samples
from matcher.waiver.evidence import TrustStore, check_licence_id, verify_evidence
from tests.sample_types import LICENCE_TYPES
from tests.sandbox.conftest import FetchLicences

DATA = Path(__file__).resolve().parents[2] / "matcher" / "sandbox" / "data"
SAMPLES = load_samples()
CODES = {name: code for code, name in LICENCE_TYPES.items()}


def _licence_evidence(raw: dict[str, Any]) -> Evidence:
    return Evidence(
        kind="e_licence",
        registry="sandbox",
        id=raw["licence_id"],
        type=raw["type_code"],
        type_name=raw["type_name"],
        number=raw["number"],
        holder=Holder(**raw["holder"]),
        issuer=Issuer(**raw["issuer"]),
        issued_on=raw["issued_on"],
        valid_from=raw["valid_from"],
        valid_until=raw["valid_until"],
        status=raw["status"],
        fields=raw["surface"],
        raw=raw,
    )


def _certificate_evidence(raw: dict[str, Any]) -> Evidence:
    source = raw["source"]
    return Evidence(
        kind="data_certificate",
        registry="sandbox",
        id=raw["certificate_no"],
        type=raw["cert_type"],
        holder=Holder(**raw["holder"]),
        issuer=Issuer(name=source["department"], code=source["code"], region=source["region"]),
        issued_at=raw["issued_at"],
        valid_until=raw["valid_until"],
        fields=raw["data"],
        raw=raw,
    )


def _outcomes(
    holder: SampleHolder, store: TrustStore, fetch_licences: FetchLicences
) -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """Licence type name → (problems, flags) as the core's verification sees them."""
    found = {}
    for raw in fetch_licences(holder):
        v = verify_evidence(
            _licence_evidence(raw),
            store,
            holder_id_type=holder.id_type,
            holder_id=holder.id,
            expected_type=raw["type_code"],
            today=dt.date.today(),
        )
        found[raw["type_name"]] = (v.problems, v.flags)
    return found


OK: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())

SCENARIOS: dict[str, dict[str, tuple[tuple[str, ...], tuple[str, ...]]]] = {
    "zhang_wei": {
        name: OK
        for name in (
            "居民身份证",
            "居民户口簿",
            "居住证",
            "不动产权证书",
            "结婚证",
            "社会保障卡",
            "海船船员适任证书",
            "海员证",
        )
    },
    "li_na": {"居民身份证": OK, "结婚证": OK},
    "wang_fang": {"居民身份证": (("expired",), ())},
    "liu_yang": {"居民身份证": (("expired",), ())},
    "chen_jing": {"不动产权证书": (("revoked",), ())},
    "yang_fan": {"居民身份证": OK, "不动产权证书": (("signature_invalid",), ())},
    "zhao_lei": {"居民身份证": (("unknown_key",), ())},
    "zhou_jie": {"居民身份证": OK, "不动产权证书": (("holder_mismatch",), ())},
    "huang_min": {"不动产权证书": OK},
    "sun_hao": {},
    "lin_hai": {"居民身份证": OK, "海船船员适任证书": OK, "船员服务簿": OK, "离婚证": OK},
    "wu_jianguo": {"居民身份证": OK, "居民户口簿": OK},
    "he_ping": {"居民身份证": ((), ("licence_id_check_failed",))},
    "chan_ka_yan": {"居住证": OK},
    "lanhai_construction": {"营业执照": OK, "食品经营许可证": OK, "建筑业企业资质证书": OK},
    "haitian_property": {
        "营业执照": OK,
        "建设用地规划许可证": OK,
        "建设工程规划许可证": OK,
        "建筑工程施工许可证": OK,
    },
    "dongji_mutual": {},
    "xu_li": {"居民身份证": OK, "不动产权证书": OK},
}

CERTIFICATES = {
    "zhang_wei": {
        "social_insurance_record",
        "tax_payment_record",
        "no_criminal_record",
        "provident_fund_record",
        "household_record",
        "marriage_record",
        "real_estate_record",
        "residence_record",
        "name_declaration_record",
    },
    "chan_ka_yan": {"residence_record"},
    "lanhai_construction": {"enterprise_credit_record", "tax_payment_record"},
    "haitian_property": {"enterprise_credit_record", "construction_contract_record"},
    "dongji_mutual": {"tax_payment_record"},
    "xu_li": {"household_record", "name_declaration_record"},
}


def test_tampered_face_differs_from_what_the_issuer_signed(
    holders: dict[str, SampleHolder], fetch_licences: FetchLicences
) -> None:
    (served,) = fetch_licences(holders["yang_fan"], CODES["不动产权证书"])
    (written,) = [e.record for e in SAMPLES.licences if e.licence_id == served["licence_id"]]
    assert written["surface"]["坐落"] == "定海区环城北路39号"
    assert served["surface"]["坐落"] == "定海区环城北路30号"
    assert {k: v for k, v in served.items() if k not in ("surface", "signature")} == {
        k: v for k, v in written.items() if k not in ("surface", "_sandbox")
    }


def test_every_named_holder_has_a_scenario_here(holders: dict[str, SampleHolder]) -> None:
    assert set(holders) == set(SCENARIOS)


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_licences_verify_as_the_scenario_says(
    holders: dict[str, SampleHolder],
    trust_store: TrustStore,
    fetch_licences: FetchLicences,
    key: str,
) -> None:
    assert _outcomes(holders[key], trust_store, fetch_licences) == SCENARIOS[key]


@pytest.mark.parametrize("key", sorted(SCENARIOS))
def test_certificates_exist_exactly_as_the_scenario_says(
    client: httpx.Client, holders: dict[str, SampleHolder], trust_store: TrustStore, key: str
) -> None:
    holder = holders[key]
    issued = set()
    for cert_type in CERT_TYPES:
        body = {"cert_type": cert_type, "holder": {"id_type": holder.id_type, "id": holder.id}}
        response = client.post("/v1/certificates", json=body)
        assert response.status_code in (201, 404), response.text
        if response.status_code == 404:
            continue
        issued.add(cert_type)
        v = verify_evidence(
            _certificate_evidence(response.json()),
            trust_store,
            holder_id_type=holder.id_type,
            holder_id=holder.id,
            expected_type=cert_type,
            today=dt.date.today(),
        )
        assert (v.problems, v.flags) == OK
    assert issued == CERTIFICATES.get(key, set())


def test_holder_ids_pass_their_check(holders: dict[str, SampleHolder]) -> None:
    for holder in holders.values():
        assert check_holder_id(holder.id_type, holder.id).value == holder.id


def test_the_identifier_traps_are_present(holders: dict[str, SampleHolder]) -> None:
    zhang_wei = holders["zhang_wei"].id
    # Born 1981 under 定海区 330902, created in 1987: stdnum's full validator turns him away.
    assert zhang_wei.startswith("330902") and ric.get_birth_date(zhang_wei).year == 1981
    assert holders["li_na"].id.endswith("X")
    assert holders["chan_ka_yan"].id.startswith("810000")
    assert holders["lanhai_construction"].id.startswith("91330900")
    y1 = holders["dongji_mutual"].id
    assert y1.startswith("Y1")
    with pytest.raises(ValueError):
        uscc.validate(y1)


def test_licences_belong_to_named_holders_and_known_types(holders: dict[str, SampleHolder]) -> None:
    by_id = {(h.id_type, h.id): h for h in holders.values()}
    for entry in SAMPLES.licences:
        record = entry.record
        holder = by_id[(record["holder"]["id_type"], record["holder"]["id"])]
        assert record["holder"]["name"] == holder.name
        assert LICENCE_TYPES[record["type_code"]] == record["type_name"]
        check_holder_id("uscc", record["issuer"]["code"])


def test_licence_ids_pass_their_check_but_one(holders: dict[str, SampleHolder]) -> None:
    failing = [e.record for e in SAMPLES.licences if check_licence_id(e.licence_id) is not True]
    assert [r["holder"]["id"] for r in failing] == [holders["he_ping"].id]
    assert check_licence_id(failing[0]["licence_id"]) is False


def test_valid_licences_stay_valid_for_years(holders: dict[str, SampleHolder]) -> None:
    # All but wang_fang's card, whose registry record still says valid after its end date.
    lapsed = holders["wang_fang"].id
    for entry in SAMPLES.licences:
        record = entry.record
        assert dt.date.fromisoformat(record["valid_from"]) <= dt.date.today()
        if record["status"] == "valid" and record["holder"]["id"] != lapsed:
            until = record["valid_until"]
            assert until is None or dt.date.fromisoformat(until) >= dt.date(2036, 1, 1)


def test_certificate_names_match_their_types() -> None:
    for sample in SAMPLES.certificates:
        assert CERT_TYPES[sample.cert_type] == sample.cert_name
        check_holder_id("uscc", sample.source.code)


def test_both_signature_algorithms_are_used(trust_store: TrustStore) -> None:
    algs = [key.alg for key in trust_store.keys.values()]
    assert {"Ed25519", "ES256"} == set(algs)
    assert all(key.issuer_code for key in trust_store.keys.values())


def test_keys_follow_the_seed() -> None:
    same = SandboxRegistry.from_config(SandboxConfig()).trust_store()
    again = SandboxRegistry.from_config(SandboxConfig()).trust_store()
    other = SandboxRegistry.from_config(SandboxConfig(seed="another")).trust_store()
    assert same == again
    pems = {k["public_key_pem"] for k in same["keys"]}
    assert pems.isdisjoint(k["public_key_pem"] for k in other["keys"])


def test_trust_store_never_holds_the_unknown_key(trust_store: TrustStore) -> None:
    registry = SandboxRegistry.from_config(SandboxConfig())
    rogue = [
        r["signature"]["key_id"] for r in registry.licences if "unknown" in r["signature"]["key_id"]
    ]
    assert rogue and not set(rogue) & set(trust_store.keys)


def test_trust_store_endpoint_serves_the_written_store(
    client: httpx.Client, trust_store_path: Path
) -> None:
    assert client.get("/_sandbox/trust-store").json() == json.loads(trust_store_path.read_text())


def _copy_data(tmp_path: Path) -> Path:
    for name in ("holders.yaml", "licences.yaml", "certificates.yaml"):
        (tmp_path / name).write_text((DATA / name).read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path


def test_another_data_dir_is_used(tmp_path: Path) -> None:
    data = _copy_data(tmp_path)
    doc = yaml.safe_load((data / "holders.yaml").read_text(encoding="utf-8"))
    doc["holders"][0]["name"] = "张大伟"
    (data / "holders.yaml").write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    assert load_holders(data)["zhang_wei"].name == "张大伟"


@pytest.mark.parametrize(
    ("name", "old", "new", "message"),
    [
        ("licences.yaml", "status: revoked", "status: cancelled", "licences[12].status"),
        ("licences.yaml", "{serve_for: zhou_jie}", "{serve_for: nobody}", "serve_for"),
        ("certificates.yaml", "holder: dongji_mutual", "holder: nobody", "certificates[13].holder"),
        ("holders.yaml", "key: sun_hao", "key: zhang_wei", "appears twice"),
    ],
)
def test_bad_data_fails_with_the_file_and_entry(
    tmp_path: Path, name: str, old: str, new: str, message: str
) -> None:
    data = _copy_data(tmp_path)
    text = (data / name).read_text(encoding="utf-8")
    assert old in text
    (data / name).write_text(text.replace(old, new), encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        SandboxRegistry.from_config(SandboxConfig(data_dir=data))
    assert name in str(caught.value) and message in str(caught.value)
