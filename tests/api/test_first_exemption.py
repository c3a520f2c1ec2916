"""The first exemption, complete (凡是本市政府部门核发的材料，原则上一律免交): a material a city
department issues is never handed back to the applicant for lack of a record or of an electronic
source. The window obtains it by 部门协查, and the issuer is told its source is missing."""

from __future__ import annotations

from typing import Any

from matcher.catalog.matters import load_catalog
from tests.api.conftest import ApiFactory, Sandbox

# A valid ID number the sandbox registries know nothing of.
STRANGER = {"id_type": "citizen_id", "id": "11010519491231002X", "name": "路人甲"}

# The four the drive named: issued by a city department, with no electronic source yet.
NO_SOURCE = {
    ("re-transfer-sale", "存量房买卖合同（网签备案）"),
    ("hpf-withdraw-purchase", "购房合同（网签备案）"),
    ("construction-permit", "施工图设计文件审查合格书"),
    ("completion-filing", "消防验收意见书或备案凭证"),
}


def test_no_city_issued_material_is_required_of_an_applicant_the_registries_do_not_know(
    sandbox: Sandbox, make_api: ApiFactory
) -> None:
    api = make_api(sandbox)
    catalog = load_catalog()
    seen_no_source = set()
    for matter in catalog.matters:
        r = api.check(
            {
                "matter_code": matter.code,
                "applicant": STRANGER,
                "application_id": f"EXEMPT-{matter.code}",
                "consent_token": "ct-exempt-1",
                # every situation, so that every material of the matter is asked for
                "situations": [s.code for s in matter.situations],
            }
        )
        assert r.status_code == 200, (matter.code, r.text)
        for d in r.json()["decisions"]:
            material = matter.material(d["material_code"])
            if not material.issued_by_city:
                continue
            assert d["decision"] != "require" or d["basis"] == "party_missing", (matter.code, d)
            assert d["decision"] != "waive"  # nothing verified stands behind it
            if (matter.code, material.name) in NO_SOURCE:
                seen_no_source.add((matter.code, material.name))
                assert (d["decision"], d["basis"]) == ("review", "city_issued")
                assert "不需申请人提交" in d["reason"] and "部门协查" in d["reason"]
                assert material.issuer and material.issuer in d["reason"]
    assert seen_no_source == NO_SOURCE


def test_a_missing_source_is_reported_to_the_issuer_once_and_counted(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    first = api.check(
        {"matter_code": "construction-permit", "applicant": STRANGER, "application_id": "SRC-1"}
    ).json()
    api.check(
        {"matter_code": "construction-permit", "applicant": STRANGER, "application_id": "SRC-2"}
    )
    reports = [p for p in api.problems(first["check_id"]) if p["problem"] == "source_missing"]
    assert len(reports) == 1
    (report,) = reports
    assert report["department"] == "zs-housing" and report["subject"] == "material"
    assert report["occurrences"] == 2
    assert report["holder_masked"] is None and STRANGER["id"] not in str(report)
    assert "施工图设计文件审查合格书" in report["evidence_json"]
