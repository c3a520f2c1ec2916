"""The other kinds of bad data: an identifier failing GB/T 36904, a licence type missing from
the licence directory, a registry answering garbage — each filed once, to its owner."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from matcher.api import create_app
from matcher.catalog.departments import load_directory
from matcher.catalog.licences import load_directory as load_licence_directory
from matcher.errors import ConfigError
from matcher.sandbox.serving import ServerThread
from matcher.settings import RegistryConfig, Settings
from matcher.wiring import build_services
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant

ID_CARD = "11100000000013888E001"


def _check(api: Api, holder: Any, matter: str = "social-insurance-proof") -> dict[str, Any]:
    r = api.check({"matter_code": matter, "applicant": applicant(holder)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def _reports(api: Api, **filters: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = api.client.get(
        "/v1/data-problems", params={"per_page": 500, **filters}
    ).json()["items"]
    return items


def test_licence_id_failing_its_check_is_flagged_and_filed_but_still_waives(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    body = _check(api, holders["he_ping"])
    (d,) = body["decisions"]
    assert d["decision"] == "waive"
    assert "licence_id_check_failed" in d["evidence"][0]["flags"]
    (report,) = _reports(api)
    assert (report["problem"], report["department"]) == ("licence_id_check_failed", "zs-psb")
    assert report["evidence_id"] == d["evidence"][0]["id"]
    assert report["evidence"]["standard"] == "GB/T 36904"


def test_type_code_missing_from_the_licence_directory_is_filed(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], tmp_path: Path
) -> None:
    # The sample city's departments, with a licence-type list that lacks 居民身份证.
    packaged = Path(__file__).resolve().parents[2] / "matcher/data/departments/zhoushan.yaml"
    types = [t for t in load_licence_directory().licence_types if t.code != ID_CARD]
    listed = "\n".join(f'  - {{code: "{t.code}", name: {t.name}}}' for t in types)
    directory = tmp_path / "departments.yaml"
    directory.write_text(
        packaged.read_text(encoding="utf-8") + "licence_types:\n" + listed + "\n", "utf-8"
    )
    assert load_directory(directory).knows_type(ID_CARD) is False
    api = make_api(sandbox, department_directory=directory)
    _check(api, holders["zhang_wei"])
    (report,) = _reports(api)
    assert (report["problem"], report["department"]) == ("type_not_in_directory", "zs-psb")
    assert report["evidence_type"] == ID_CARD


def test_garbage_from_a_registry_is_filed_once_and_verified_when_it_answers_again(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, timeout_s=1.0)
    faulty_sandbox.faults(fault_rate=1, fault_mode="garbage")
    for _ in range(2):
        (d,) = _check(api, holders["zhang_wei"])["decisions"]
        assert (d["decision"], d["basis"]) == ("review", "registry_unavailable")
    (report,) = _reports(api)
    assert (report["problem"], report["department"]) == ("registry_garbage", "zs-dsj")
    assert report["registry"] == "zs-elicence" and report["occurrences"] == 2
    moved = api.client.post(
        f"/v1/data-problems/{report['id']}/status",
        json={"status": "fixed"},
        headers={"X-Department": "zs-dsj"},
    )
    assert moved.status_code == 200
    faulty_sandbox.faults(fault_rate=0)
    (d,) = _check(api, holders["zhang_wei"])["decisions"]
    assert d["decision"] == "waive"
    deadline = time.monotonic() + 10
    while api.client.get(f"/v1/data-problems/{report['id']}").json()["status"] != "verified":
        assert time.monotonic() < deadline, "not verified"
        time.sleep(0.05)


def _settings(box: Sandbox, tmp_path: Path, department: str) -> Settings:
    return Settings(
        trust_store=box.trust_store,
        database_url=f"sqlite:///{tmp_path / 'matcher.db'}",
        state_dir=tmp_path,
        registries=[
            RegistryConfig(
                name="zs-elicence",
                adapter="elicence",
                base_url=box.url,
                timeout_s=1.0,
                department=department,
            )
        ],
    )


def test_a_registrys_configured_department_receives_its_garbage(
    faulty_sandbox: Sandbox, holders: dict[str, Any], tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match=r"registries\[zs-elicence\]\.department"):
        build_services(_settings(faulty_sandbox, tmp_path, "no-such-dept"))
    faulty_sandbox.faults(fault_rate=1, fault_mode="garbage")
    with (
        ServerThread(create_app(_settings(faulty_sandbox, tmp_path, "zs-hrss"))) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        h = holders["zhang_wei"]
        body = {
            "matter_code": "social-insurance-proof",
            "applicant": {"id_type": h.id_type, "id": h.id, "name": h.name},
        }
        assert client.post("/v1/waive-check", json=body).status_code == 200
        (report,) = client.get("/v1/data-problems").json()["items"]
    assert (report["problem"], report["department"]) == ("registry_garbage", "zs-hrss")


def test_a_city_issued_material_behind_a_registry_that_is_down_is_not_reported_missing(
    faulty_sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(faulty_sandbox, timeout_s=1.0)
    faulty_sandbox.faults(fault_rate=1, fault_mode="5xx")
    body = _check(api, holders["sun_hao"], "indiv-establish")
    premises = next(d for d in body["decisions"] if d["material_code"] == "premises")
    assert (premises["decision"], premises["basis"]) == ("review", "registry_unavailable")
    assert api.problems(body["check_id"]) == []  # a 5xx is an outage, not bad data
    faulty_sandbox.faults(fault_rate=0)
    body = _check(api, holders["sun_hao"], "indiv-establish")
    premises = next(d for d in body["decisions"] if d["material_code"] == "premises")
    assert (premises["decision"], premises["basis"]) == ("review", "city_issued")
    assert [p["problem"] for p in api.problems(body["check_id"])] == ["record_missing"]
