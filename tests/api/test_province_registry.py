"""Three registries in one waive-check, the provincial interface among them, over real HTTP.

The city sandbox serves the reference protocol; the provincial sandbox its own format, and it
alone holds the 无犯罪记录证明 e-licences (张伟's valid one and the bad ones of the fault cases).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.api import create_app
from matcher.sandbox import (
    SampleHolder,
    SandboxConfig,
    create_province_sandbox_app,
    create_sandbox_app,
    write_trust_store,
)
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from tests.api.conftest import applicant

CONFIG = SandboxConfig()
PROVINCE_APP = {
    "app_id": CONFIG.province_app_id,
    "app_secret": CONFIG.province_app_secret.get_secret_value(),
}


@pytest.fixture(scope="module")
def city() -> Iterator[str]:
    with ServerThread(create_sandbox_app(CONFIG)) as server:
        yield server.url


@pytest.fixture(scope="module")
def province() -> Iterator[str]:
    with ServerThread(create_province_sandbox_app(CONFIG)) as server:
        yield server.url


def _api(
    stack: ExitStack, tmp: Path, city: str | None, province: str, **province_options: Any
) -> httpx.Client:
    trust = write_trust_store(CONFIG, tmp / "trust.json")
    registries = [
        RegistryConfig(
            name="zj-province",
            adapter="province",
            base_url=province,
            **{**PROVINCE_APP, **province_options},
        )
    ]
    if city is not None:
        registries += [
            RegistryConfig(name="zs-elicence", adapter="elicence", base_url=city),
            RegistryConfig(name="zs-datacert", adapter="datacert", base_url=city),
        ]
    settings = Settings(
        trust_store=trust,
        database_url=f"sqlite:///{tmp / 'matcher.db'}",
        state_dir=tmp,
        registries=registries,
    )
    server = stack.enter_context(ServerThread(create_app(settings)))
    return stack.enter_context(httpx.Client(base_url=server.url, timeout=30))


def _province_errors(api: httpx.Client) -> dict[str, float]:
    """The service's count of zj-province lookups that gave no usable answer, by error code."""
    found: dict[str, float] = {}
    for line in api.get("/metrics").text.splitlines():
        if line.startswith("matcher_registry_errors_total{") and 'registry="zj-province"' in line:
            labels, _, value = line.rpartition(" ")
            code = labels.split('code="', 1)[1].split('"', 1)[0]
            found[code] = float(value)
    return found


def _check(api: httpx.Client, holder: SampleHolder) -> dict[str, dict[str, Any]]:
    body = {"matter_code": "taxi-driver-qualification", "applicant": applicant(holder)}
    response = api.post("/v1/waive-check", json=body)
    assert response.status_code == 200, response.text
    return {d["material_code"]: d for d in response.json()["decisions"]}


def test_one_check_waives_materials_from_three_registries(
    tmp_path: Path, city: str, province: str, holders: dict[str, SampleHolder]
) -> None:
    with ExitStack() as stack:
        decisions = _check(_api(stack, tmp_path, city, province), holders["zhang_wei"])

    waived = [d for d in decisions.values() if d["decision"] == "waive"]
    # 身份证明 from the city's registry; 无暴力犯罪记录的证明 from the province, with the city's
    # data certificate beside it (he holds no 机动车驾驶证 in the sandbox)
    assert [d["material_code"] for d in waived] == ["no-violent-crime", "id-card"]
    assert len(decisions) == 5
    eligibility = decisions["no-violent-crime"]
    assert eligibility["basis"] == "e_licence"
    assert "浙江省公安厅" in eligibility["reason"]
    [licence] = [e for e in eligibility["evidence"] if e["kind"] == "e_licence"]
    assert licence["registry"] == "zj-province" and licence["verified"] is True
    used = {e["registry"] for d in waived for e in d["evidence"] if e["verified"]}
    assert used == {"zs-elicence", "zs-datacert", "zj-province"}


@pytest.mark.parametrize(
    ("holder", "decision", "problem"),
    [
        ("wang_fang", "require", "revoked"),
        ("liu_yang", "require", "status_unknown"),
        ("li_na", "require", "expired"),
        ("yang_fan", "review", "signature_invalid"),
        ("zhao_lei", "review", "unknown_key"),
    ],
)
def test_a_bad_provincial_record_is_never_waived(
    tmp_path: Path,
    city: str,
    province: str,
    holders: dict[str, SampleHolder],
    holder: str,
    decision: str,
    problem: str,
) -> None:
    with ExitStack() as stack:
        decisions = _check(_api(stack, tmp_path, city, province), holders[holder])

    eligibility = decisions["no-violent-crime"]
    assert (eligibility["decision"], eligibility["basis"]) == (decision, "evidence_invalid")
    [licence] = eligibility["evidence"]
    assert licence["registry"] == "zj-province"
    assert licence["verified"] is False and problem in licence["problems"]


@pytest.mark.parametrize("mode", ["5xx", "timeout", "garbage", "malformed", "429", "mixed"])
def test_a_faulty_provincial_interface_never_waives(
    tmp_path: Path, holders: dict[str, SampleHolder], mode: str
) -> None:
    config = SandboxConfig(fault_rate=1, fault_mode=mode, retry_after_s=5)  # type: ignore[arg-type]
    with ExitStack() as stack:
        faulty = stack.enter_context(ServerThread(create_province_sandbox_app(config)))
        api = _api(stack, tmp_path, None, faulty.url, timeout_s=1.0)
        decisions = _check(api, holders["zhang_wei"])

    eligibility = decisions["no-violent-crime"]
    assert (eligibility["decision"], eligibility["basis"]) == ("review", "registry_unavailable")
    assert eligibility["evidence"] == []
    assert not [d for d in decisions.values() if d["decision"] == "waive"]


def test_a_wrong_app_secret_is_refused_and_never_waives(
    tmp_path: Path, city: str, province: str, holders: dict[str, SampleHolder]
) -> None:
    with ExitStack() as stack:
        api = _api(stack, tmp_path, city, province, app_secret="not-the-secret")
        before = _province_errors(api)
        decisions = _check(api, holders["zhang_wei"])
        refused = {
            code: n - before.get(code, 0)
            for code, n in _province_errors(api).items()
            if n > before.get(code, 0)
        }

    # The province refused the signature (its code 1001): the service counts one lookup refused
    # as unauthorised, and nothing else.
    assert refused == {"unauthorised": 1.0}
    eligibility = decisions["no-violent-crime"]
    # The certificate of the city's registry still stands in; the province's answer is not used.
    assert eligibility["basis"] == "data_certificate"
    assert all(e["registry"] != "zj-province" for e in eligibility["evidence"])
