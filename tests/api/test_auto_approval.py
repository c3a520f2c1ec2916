"""No-touch approval (智能秒办): a matter marked for it says, in the answer, whether the application
meets its conditions — every material waived on verified evidence, nothing for review, and (with
a form) every required field filled from a verified source without conflict — and names each
unmet one. The service never approves."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

from matcher.catalog.matters import load_catalog
from tests.api.conftest import ApiFactory, Sandbox, applicant

PACKAGED = Path(load_catalog.__code__.co_filename).parents[1] / "data" / "catalog"


def _marked(tmp_path: Path, file: str, line: str) -> Path:
    """A copy of the packaged catalog with ``auto_approval: true`` added after ``line`` (a line
    of the matter's mapping, or its first)."""
    catalog = tmp_path / "catalog"
    shutil.copytree(PACKAGED, catalog)
    path = catalog / file
    text = path.read_text(encoding="utf-8")
    marked = text.replace(line, f"{line}    auto_approval: true\n", 1)
    assert marked != text
    path.write_text(marked, encoding="utf-8")
    return catalog


def _check(api: Any, holder: Any, matter: str) -> dict[str, Any]:
    r = api.check({"matter_code": matter, "applicant": applicant(holder)})
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


def test_met_and_each_material_condition_unmet(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox)
    # 张伟's ID card is on file and verifies: eligible, nothing unmet
    met = _check(api, holders["zhang_wei"], "social-insurance-proof")["auto_approval"]
    assert met == {"status": "eligible", "unmet": []}
    # an expired ID card: the material is required, so not eligible, and it is named
    expired = _check(api, holders["wang_fang"], "social-insurance-proof")["auto_approval"]
    assert expired["status"] == "not_eligible"
    assert [(u["condition"], u["items"]) for u in expired["unmet"]] == [
        ("materials_waived", ["居民身份证或社会保障卡"])
    ]
    # a card signed by a key the trust store lacks: it goes to review
    unknown = _check(api, holders["zhao_lei"], "social-insurance-proof")["auto_approval"]
    assert [u["condition"] for u in unknown["unmet"]] == ["no_review"]
    # a matter not marked for it says nothing either way
    assert _check(api, holders["zhang_wei"], "ent-establish")["auto_approval"] is None


def test_an_application_adds_the_form_condition(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], tmp_path: Path
) -> None:
    # the city's own catalog marks 企业设立登记 for it (a copy of the packaged one)
    catalog = _marked(tmp_path, "business.yaml", "    form: company-registration\n")
    api = make_api(sandbox, catalog=str(catalog))
    body = {
        "matter_code": "ent-establish",
        "applicant": applicant(holders["zhang_wei"]),
        "application_id": "AUTO-1",
    }
    app = api.client.post("/v1/applications", json=body).json()
    check_unmet = {u["condition"] for u in app["check"]["auto_approval"]["unmet"]}
    assert check_unmet == {"materials_waived"}  # 章程 and 任职文件 have no electronic source
    brought = next(u["items"] for u in app["check"]["auto_approval"]["unmet"])
    assert "公司登记（备案）申请书" not in brought  # the pre-filled form is not a material brought
    unmet = {u["condition"]: u["items"] for u in app["auto_approval"]["unmet"]}
    assert app["auto_approval"]["status"] == "not_eligible"
    assert unmet["fields_verified"] == ["移动电话"]  # the one field no registry holds


def test_a_prefilled_form_and_the_accounts_phone_make_an_application_eligible(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any], tmp_path: Path
) -> None:
    # the city marks 不动产变更登记 for it: its 申请书 is the form the service pre-fills
    catalog = _marked(tmp_path, "real_estate.yaml", "  - code: re-change-name\n")
    api = make_api(sandbox, catalog=str(catalog))
    zhang = holders["zhang_wei"]

    def submit(app_id: str, **more: str) -> dict[str, Any]:
        body = {
            "matter_code": "re-change-name",
            "applicant": {**applicant(zhang), **more},
            "application_id": app_id,
        }
        r = api.client.post("/v1/applications", json=body)
        assert r.status_code == 200, r.text
        result: dict[str, Any] = r.json()
        return result

    # every material on record, the form filled from the registries and his account's phone
    met = submit("AUTO-PHONE-1", phone=zhang.phone)
    assert met["check"]["auto_approval"] == {"status": "eligible", "unmet": []}
    assert met["auto_approval"] == {"status": "eligible", "unmet": []}
    # without the phone, the one field left is named; the 申请书 itself never is
    typed = submit("AUTO-PHONE-2")
    assert typed["auto_approval"]["status"] == "not_eligible"
    assert [(u["condition"], u["items"]) for u in typed["auto_approval"]["unmet"]] == [
        ("fields_verified", ["联系电话"])
    ]
