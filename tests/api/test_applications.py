"""POST/GET /v1/applications end to end: real HTTP, the sandbox registry, real databases."""

from __future__ import annotations

import io
import json
import shutil
from importlib.resources import files
from pathlib import Path
from typing import Any

import jsonschema
import pymupdf
import pytest

from matcher.sandbox import SandboxConfig, create_sandbox_app, write_trust_store
from matcher.sandbox.serving import ServerThread
from tests.api.conftest import Api, ApiFactory, Sandbox, applicant
from tests.extract.corpus import make_samples

SCHEMAS = Path(__file__).resolve().parents[2] / "schemas"

# (matter, applicant, parties by role): one sandbox applicant per sample form whose data is all
# in the registries.
SAMPLE_APPLICATIONS = {
    "company-registration": ("ent-establish", "zhang_wei", {}),
    "individual-business-registration": ("indiv-establish", "xu_li", {}),
    "real-estate-registration": ("re-change-name", "zhang_wei", {}),
    "seafarer-passport": ("seafarer-passport", "zhang_wei", {}),
    "hpf-withdrawal": ("hpf-withdraw-purchase", "zhang_wei", {}),
    "construction-permit": (
        "construction-permit",
        "haitian_property",
        {"contractor": "lanhai_construction"},
    ),
}


def _body(holders: dict[str, Any], matter: str, who: str, app_id: str, **extra: Any) -> Any:
    parties = extra.pop("parties", {})
    return {
        "matter_code": matter,
        "applicant": applicant(holders[who]),
        "parties": [{"role": r, **applicant(holders[k])} for r, k in parties.items()],
        "application_id": app_id,
        **extra,
    }


def _submit(api: Api, body: dict[str, Any]) -> dict[str, Any]:
    r = api.client.post("/v1/applications", json=body)
    assert r.status_code == 200, r.text
    return dict(r.json())


def _fields(app: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["key"]: f for f in app["form"]["fields"]}


@pytest.mark.parametrize("form_code", sorted(SAMPLE_APPLICATIONS))
def test_sample_form_is_filled_from_verified_records(
    api: Api, holders: dict[str, Any], form_code: str
) -> None:
    matter, who, parties = SAMPLE_APPLICATIONS[form_code]
    # 住房公积金提取 asks the registries only with the holder's consent (授权).
    body = _body(holders, matter, who, f"FILL-{form_code}", parties=parties, consent_token="ct-1")
    app = _submit(api, body)
    form = app["form"]
    assert form["form_code"] == form_code
    assert form["fill_rate"] >= 0.9, form["missing"]
    assert form["filled"] == form["total"] - len(form["missing"])
    from_registry = [
        f
        for f in form["fields"]
        if f["source"] and f["source"]["kind"] in ("e_licence", "data_certificate")
    ]
    assert len(from_registry) >= form["total"] // 2
    assert all(f["verified"] for f in from_registry)
    # Each value names the record it came from, and that record was used for this application.
    usage = api.usage(app["check"]["check_id"])
    used = {u["evidence_id"] for u in usage if u["outcome"] == "found" and u["verified"]}
    assert {f["source"]["record_id"] for f in from_registry} <= used
    assert all(u["application_id"] == f"FILL-{form_code}" for u in usage)
    assert not [f["key"] for f in form["fields"] if f["conflict"]]


def test_demo_application_values_are_shown_as_printed(api: Api, holders: dict[str, Any]) -> None:
    app = _submit(api, _body(holders, "ent-establish", "zhang_wei", "DEMO-FORM-1"))
    fields = _fields(app)
    assert fields["company_name"]["value"] == "舟山港伟船舶服务有限公司"
    capital = fields["registered_capital"]
    assert (capital["value"], capital["normalised"]) == ("100万元", "1000000.00")
    born = fields["lr_birth_date"]
    assert (born["value"], born["normalised"]) == ("1981年3月15日", "1981-03-15")
    assert born["source"]["kind"] == "e_licence" and born["source"]["type_name"] == "居民身份证"
    assert fields["lr_native_region"]["value"] == "浙江省舟山市定海区"
    assert fields["lr_native_region"]["source"]["kind"] == "derived"
    assert fields["lr_native_region"]["verified"] is True
    assert fields["lr_mobile"]["value"] is None and app["form"]["missing"] == ["lr_mobile"]
    assert app["check"]["summary"]["waived"] == 3  # 婚姻状况证明 only when spouses invest jointly
    assert app["status"] == "prefilled"


def test_application_is_kept_and_idempotent(api: Api, holders: dict[str, Any]) -> None:
    body = _body(holders, "seafarer-passport", "zhang_wei", "KEEP-1")
    first = _submit(api, body)
    again = _submit(api, body)
    assert again["id"] == first["id"]
    assert again["check"]["check_id"] == first["check"]["check_id"]
    got = api.client.get("/v1/applications/KEEP-1")
    assert got.status_code == 200
    assert got.json()["form"] == first["form"]
    other = api.client.post("/v1/applications", json={**body, "matter_code": "ent-establish"})
    assert other.status_code == 409
    assert api.client.get("/v1/applications/NOPE-1").status_code == 404
    # Another business system does not see it.
    hidden = api.client.get("/v1/applications/KEEP-1", headers={"X-Requester": "other-system"})
    assert hidden.status_code == 404


def test_application_number_is_free_for_a_waive_check(api: Api, holders: dict[str, Any]) -> None:
    body = _body(holders, "seafarer-passport", "zhang_wei", "SHARED-1")
    _submit(api, body)
    r = api.check(body)
    assert r.status_code == 200, r.text


def test_response_matches_the_published_schema(api: Api, holders: dict[str, Any]) -> None:
    body = _body(holders, "hpf-withdraw-purchase", "zhang_wei", "SCHEMA-1", consent_token="ct-2")
    app = _submit(api, body)
    schema = json.loads((SCHEMAS / "application-response.schema.json").read_text())
    jsonschema.validate(app, schema)


@pytest.mark.parametrize(
    ("who", "problem"),
    [("yang_fan", "签名验证失败"), ("zhou_jie", "持证主体与申请人不一致")],
)
def test_an_unverified_record_never_fills_a_field(
    api: Api, holders: dict[str, Any], who: str, problem: str
) -> None:
    app = _submit(api, _body(holders, "re-change-name", who, f"UNVERIFIED-{who}"))
    location = _fields(app)["location"]
    assert location["value"] is None and "location" in app["form"]["missing"]
    (shown,) = location["candidates"]
    assert shown["source"]["kind"] == "e_licence"
    assert (shown["verified"], shown["usable"]) == (False, False)
    assert problem in shown["reason"]
    for f in app["form"]["fields"]:
        assert (
            f["source"] is None
            or f["source"]["kind"] not in ("e_licence", "data_certificate")
            or f["verified"]
        )


def test_an_upload_disagreeing_with_the_registry_is_a_conflict(
    api: Api, holders: dict[str, Any]
) -> None:
    other = make_samples("id_card_front", 3)[2]  # somebody else's card
    r = api.client.post(
        "/v1/files", files={"file": ("card.pdf", io.BytesIO(other.pdf_bytes), "application/pdf")}
    )
    assert r.status_code == 201, r.text
    uploads = [{"material_code": "legal-rep-id", "file_id": r.json()["file_id"]}]
    app = _submit(api, _body(holders, "ent-establish", "zhang_wei", "CONFLICT-1", uploads=uploads))
    name = _fields(app)["lr_name"]
    assert name["conflict"] is True
    assert (name["value"], name["source"]["kind"], name["verified"]) == ("张伟", "e_licence", True)
    (uploaded,) = [c for c in name["candidates"] if c["source"]["kind"] == "upload"]
    assert uploaded["value"] == other.truth["name"] != "张伟"
    assert uploaded["usable"] is True and uploaded["confidence"] is not None
    assert uploaded["source"]["record_id"] == uploads[0]["file_id"]
    decision = next(d for d in app["check"]["decisions"] if d["material_code"] == "legal-rep-id")
    assert decision["basis"] == "upload_mismatch"


def test_form_pdf_has_the_values_in_chinese(api: Api, holders: dict[str, Any]) -> None:
    _submit(api, _body(holders, "ent-establish", "zhang_wei", "PDF-1"))
    for flatten in ("false", "true"):
        r = api.client.get("/v1/applications/PDF-1/form.pdf", params={"flatten": flatten})
        assert r.status_code == 200
        assert r.headers["content-type"] == "application/pdf"
        assert r.headers["cache-control"] == "no-store"  # it shows the full ID number
        doc = pymupdf.open(stream=r.content, filetype="pdf")
        text = "".join(page.get_text() for page in doc)
        assert "舟山港伟船舶服务有限公司" in text and "浙江省舟山市定海区" in text
        widgets = [w for page in doc for w in page.widgets()]
        assert bool(widgets) is (flatten == "false")
        fonts = {f[3] for page in doc for f in page.get_fonts(full=True)}
        assert any("Droid" in name for name in fonts), fonts
    assert api.client.get("/v1/applications/NOPE/form.pdf").status_code == 404


@pytest.mark.parametrize(
    ("change", "status", "error"),
    [
        ({"matter_code": "hpf-withdraw-purchase"}, 403, "consent_required"),
        ({"application_id": None}, 422, "invalid_request"),
        ({"matter_code": "no-such-matter"}, 404, "unknown_matter"),
        (
            {"applicant": {"id_type": "citizen_id", "id": "330902198103150315", "name": "张伟"}},
            422,
            "invalid_identifier",
        ),
    ],
)
def test_bad_input_is_a_clear_4xx(
    api: Api, holders: dict[str, Any], change: dict[str, Any], status: int, error: str
) -> None:
    body = {**_body(holders, "ent-establish", "zhang_wei", "BAD-1"), **change}
    body = {k: v for k, v in body.items() if v is not None}
    r = api.client.post("/v1/applications", json=body)
    assert (r.status_code, r.json()["error"]) == (status, error)
    assert api.client.get("/v1/applications/BAD-1").status_code == 404


def test_registries_that_disagree_are_a_conflict_and_a_data_problem(
    tmp_path: Path, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    # Sample data where the household certificate has 张伟 at another address than his 户口簿.
    data = tmp_path / "data"
    shutil.copytree(files("matcher.sandbox") / "data", data)  # type: ignore[arg-type]
    certificates = data / "certificates.yaml"
    text = certificates.read_text(encoding="utf-8")
    moved = text.replace(
        "户籍地址: 浙江省舟山市定海区解放西路128号3幢502室",
        "户籍地址: 浙江省舟山市定海区人民北路9号",
        1,
    )
    assert moved != text
    certificates.write_text(moved, encoding="utf-8")
    config = SandboxConfig(data_dir=data)
    write_trust_store(config, tmp_path / "trust.json")
    with ServerThread(create_sandbox_app(config)) as server:
        api = make_api(Sandbox(server.url, tmp_path / "trust.json"))
        app = _submit(api, _body(holders, "ent-establish", "zhang_wei", "DISAGREE-1"))
        field = _fields(app)["lr_household_address"]
        assert field["conflict"] is True
        assert (field["value"], field["source"]["kind"]) == (
            "浙江省舟山市定海区人民北路9号",
            "data_certificate",
        )
        (other,) = field["candidates"]
        assert other["source"]["kind"] == "e_licence" and other["verified"] is True
        assert other["value"] == "浙江省舟山市定海区解放西路128号3幢502室"
        problems = api.problems(app["check"]["check_id"])
        assert sorted((p["evidence_type"], p["problem"]) for p in problems) == [
            ("11100000000013888E002", "field_conflict"),
            ("household_record", "field_conflict"),
        ]


def test_the_applicants_answers_fill_what_no_registry_holds(
    api: Api, holders: dict[str, Any]
) -> None:
    answers = {"lr_mobile": "13800138000", "lr_ethnicity": "回"}
    body = _body(holders, "ent-establish", "zhang_wei", "ANSWERS-1", answers=answers)
    app = _submit(api, body)
    form, fields = app["form"], _fields(app)
    assert fields["lr_mobile"]["value"] == "13800138000"
    assert fields["lr_mobile"]["source"] == {
        "kind": "request",
        "field": "answers",
        "role": "applicant",
        "registry": None,
        "record_id": None,
        "type_name": None,
        "retrieved_at": None,
    }
    # Typed by the applicant: filled, but not part of the fill rate.
    assert (form["missing"], form["answered"], form["filled"], form["total"]) == ([], 1, 18, 19)
    # An answer never overrides a verified record; where they differ the clerk decides.
    ethnicity = fields["lr_ethnicity"]
    assert (ethnicity["value"], ethnicity["source"]["kind"], ethnicity["conflict"]) == (
        "汉",
        "e_licence",
        True,
    )
    assert [c["value"] for c in ethnicity["candidates"]] == ["回"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [({"lr_mobile": "12345"}, "answers.lr_mobile"), ({"shoe_size": "42"}, "answers.shoe_size")],
)
def test_a_bad_answer_is_refused_with_its_field(
    api: Api, holders: dict[str, Any], answers: dict[str, str], field: str
) -> None:
    body = _body(holders, "ent-establish", "zhang_wei", "ANSWERS-BAD", answers=answers)
    r = api.client.post("/v1/applications", json=body)
    assert r.status_code == 422
    assert (r.json()["error"], r.json()["field"]) == ("invalid_input", field)


def test_what_an_application_keeps_of_the_holder_is_sealed_at_rest(
    api: Api, holders: dict[str, Any]
) -> None:
    from matcher.store.applications import applications

    body = _body(holders, "ent-establish", "zhang_wei", "SEALED-1")
    first = _submit(api, body)
    store = api.records()
    try:
        with store.engine.connect() as conn:
            row = (
                conn.execute(applications.select().where(applications.c.id == first["id"]))
                .mappings()
                .one()
            )
    finally:
        store.close()
    for column in ("request_json", "prefill_json"):
        assert row[column].startswith("ms1:"), column
        assert "张伟" not in row[column] and holders["zhang_wei"].id not in row[column]
    # and it reads back whole through the API
    got = api.client.get("/v1/applications/SEALED-1")
    assert got.status_code == 200 and got.json()["form"] == first["form"]
