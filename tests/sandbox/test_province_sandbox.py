"""The provincial sandbox over real HTTP: the signed envelope, answer codes, records, faults."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from adapters.model import Evidence, Holder, Issuer
from matcher.sandbox import SampleHolder, SandboxConfig, create_province_sandbox_app
from matcher.sandbox import write_trust_store as write_store
from matcher.sandbox.gate import GARBAGE_BODY
from matcher.sandbox.province import MALFORMED_BODY, PROVINCE_PATH
from matcher.sandbox.serving import ServerThread
from matcher.waiver.evidence import TrustStore, load_trust_store, verify_evidence

APP_ID = "matcher-sandbox"
SECRET = "sandbox-app-secret"
E010 = "11100000000013888E010"


@pytest.fixture(scope="module")
def province() -> Iterator[httpx.Client]:
    with (
        ServerThread(create_province_sandbox_app(SandboxConfig())) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        yield client


@pytest.fixture(scope="module")
def trust(tmp_path_factory: pytest.TempPathFactory) -> TrustStore:
    path = tmp_path_factory.mktemp("province") / "trust.json"
    return load_trust_store(write_store(SandboxConfig(), path))


def envelope(holder: SampleHolder, *, secret: str = SECRET, **changes: Any) -> dict[str, str]:
    """A request signed here, by hand: HMAC-SHA256 over the sorted k=v pairs."""
    body = {
        "appId": APP_ID,
        "timestamp": str(int(time.time() * 1000)),
        "nonce": secrets.token_hex(8),
        "holderCode": holder.id,
        "holderTypeCode": "111" if holder.id_type == "citizen_id" else "001",
        "certTypeCode": E010,
        "useCause": "ent-establish",
        **changes,
    }
    text = "&".join(f"{k}={body[k]}" for k in sorted(body))
    body["sign"] = hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest()
    return body


def _post(client: httpx.Client, body: dict[str, str]) -> dict[str, Any]:
    response = client.post(PROVINCE_PATH, json=body)
    assert response.status_code == 200, response.text
    return dict(response.json())


def _evidence(cert: dict[str, Any]) -> Evidence:
    """The record read by this test's own mapping, to verify it against the trust store."""
    end = cert["validEnd"]
    return Evidence(
        kind="e_licence",
        registry="province",
        id=cert["certId"],
        type=cert["certTypeCode"],
        holder=Holder(id_type="citizen_id", id=cert["holderCode"]),
        issuer=Issuer(name=cert["issueOrgName"], code=cert["issueOrgCode"]),
        valid_from=dt.datetime.strptime(cert["validBegin"], "%Y%m%d").date(),
        valid_until=dt.datetime.strptime(end, "%Y%m%d").date(),
        status={"10": "valid", "30": "revoked"}.get(cert["certStatus"], "unknown"),
        raw=cert,
    )


def _problems(cert: dict[str, Any], trust: TrustStore) -> tuple[str, ...]:
    result = verify_evidence(
        _evidence(cert),
        trust,
        holder_id_type="citizen_id",
        holder_id=cert["holderCode"],
        expected_type=E010,
        today=dt.date.today(),
    )
    return result.problems


def test_a_signed_request_gets_the_holders_record_and_it_verifies(
    province: httpx.Client, holders: dict[str, SampleHolder], trust: TrustStore
) -> None:
    answer = _post(province, envelope(holders["zhang_wei"]))

    assert answer["code"] == "0"
    [item] = answer["data"]
    cert = item["cert"]
    assert cert["holderCode"] == holders["zhang_wei"].id
    assert cert["certStatus"] == "10" and len(cert["validEnd"]) == 8
    assert {"name": "姓名", "value": "张伟"} in cert["surface"]
    assert _problems(cert, trust) == ()


@pytest.mark.parametrize(
    ("holder", "problems"),
    [
        ("wang_fang", ("revoked",)),
        ("liu_yang", ("status_unknown",)),
        ("li_na", ("expired",)),
        ("yang_fan", ("signature_invalid",)),
        ("zhao_lei", ("unknown_key",)),
    ],
)
def test_the_bad_records_fail_verification_as_described(
    province: httpx.Client,
    holders: dict[str, SampleHolder],
    trust: TrustStore,
    holder: str,
    problems: tuple[str, ...],
) -> None:
    [item] = _post(province, envelope(holders[holder]))["data"]

    assert _problems(item["cert"], trust) == problems


def test_a_holder_with_nothing_gets_code_0_and_no_data(
    province: httpx.Client, holders: dict[str, SampleHolder]
) -> None:
    assert _post(province, envelope(holders["sun_hao"])) == {
        "code": "0",
        "msg": "成功",
        "data": [],
    }


@pytest.mark.parametrize(
    ("changes", "code"),
    [
        ({"secret": "wrong-secret"}, "1001"),
        ({"appId": "another-app"}, "1002"),
        ({"timestamp": str(int((time.time() - 3600) * 1000))}, "1003"),
        ({"holderTypeCode": "414"}, "2001"),
        ({"useCause": ""}, "2001"),
    ],
    ids=["wrong-secret", "unknown-app", "stale-timestamp", "bad-holder-type", "no-purpose"],
)
def test_a_wrong_request_is_a_code_in_a_200(
    province: httpx.Client, holders: dict[str, SampleHolder], changes: dict[str, str], code: str
) -> None:
    answer = _post(province, envelope(holders["zhang_wei"], **changes))

    assert answer["code"] == code
    assert answer["data"] is None


def test_the_file_link_works_until_it_is_changed(
    province: httpx.Client, holders: dict[str, SampleHolder]
) -> None:
    [item] = _post(province, envelope(holders["zhang_wei"]))["data"]

    good = province.get(item["fileUrl"])
    assert good.status_code == 200 and good.headers["content-type"] == "application/ofd"
    forged = province.get(item["fileUrl"].replace("sign=", "sign=0"))
    assert forged.status_code == 403


@pytest.mark.parametrize(
    ("mode", "check"),
    [
        ("5xx", lambda r: r.status_code == 503),
        ("429", lambda r: r.status_code == 429 and r.headers["retry-after"] == "1"),
        ("garbage", lambda r: r.status_code == 200 and r.content == GARBAGE_BODY),
        ("malformed", lambda r: r.status_code == 200 and r.content == MALFORMED_BODY),
    ],
)
def test_the_sandbox_faults_apply_to_the_interface_but_not_admin(
    holders: dict[str, SampleHolder], mode: str, check: Any, tmp_path: Path
) -> None:
    config = SandboxConfig(fault_rate=1, fault_mode=mode)  # type: ignore[arg-type]
    with (
        ServerThread(create_province_sandbox_app(config)) as server,
        httpx.Client(base_url=server.url, timeout=5) as client,
    ):
        response = client.post(PROVINCE_PATH, json=envelope(holders["zhang_wei"]))
        assert check(response), (response.status_code, response.content[:80])
        assert client.get("/_sandbox/faults").json()["fault_mode"] == mode
        stats = client.get("/_sandbox/stats").json()
        assert stats["faults_injected"] == {mode: 1}
        assert stats["requests"] == {f"POST {PROVINCE_PATH}": 1}


def test_one_trust_store_holds_the_city_and_the_province_issuers(trust: TrustStore) -> None:
    codes = {key.issuer_code for key in trust.keys.values()}
    assert "11330000002482034Y" in codes  # 浙江省公安厅, the province's
    assert "11330902002601423W" in codes  # 舟山市公安局定海区分局, the city's
