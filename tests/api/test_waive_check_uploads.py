"""Waive-checks with uploaded documents: compared field by field with the registry's record."""

from __future__ import annotations

import datetime as dt
import io
import time
from typing import Any

import pytest

from tests.api.conftest import Api, ApiFactory, Sandbox, applicant
from tests.extract.corpus import make_samples


@pytest.fixture
def api(sandbox: Sandbox, make_api: ApiFactory) -> Api:
    return make_api(sandbox)


def _file_id(api: Api, data: bytes, name: str = "doc.pdf") -> str:
    r = api.client.post("/v1/files", files={"file": (name, io.BytesIO(data), "application/pdf")})
    assert r.status_code == 201, r.text
    return str(r.json()["file_id"])


def _check(api: Api, holder: Any, matter: str, uploads: list[dict[str, str]]) -> Any:
    r = api.check({"matter_code": matter, "applicant": applicant(holder), "uploads": uploads})
    assert r.status_code == 200, r.text
    return r.json()


def _decision(body: dict[str, Any], code: str) -> dict[str, Any]:
    return next(d for d in body["decisions"] if d["material_code"] == code)


def test_upload_matching_the_e_licence_is_upload_verified(
    api: Api, holders: dict[str, Any]
) -> None:
    card = make_samples("id_card_front", 1)[0]
    assert card.sandbox_holder == "zhang_wei"
    file_id = _file_id(api, card.pdf_bytes)
    body = _check(
        api,
        holders["zhang_wei"],
        "ent-establish",
        [{"material_code": "legal-rep-id", "file_id": file_id}],
    )
    d = _decision(body, "legal-rep-id")
    assert (d["decision"], d["basis"]) == ("waive", "upload_verified")
    assert {"id_number", "name"} <= set(d["upload"]["fields_compared"])
    assert d["upload"]["mismatches"] == []


def test_upload_of_another_person_goes_to_review_and_files_a_data_problem(
    api: Api, holders: dict[str, Any]
) -> None:
    other = make_samples("id_card_front", 3)[2]
    file_id = _file_id(api, other.pdf_bytes)
    body = _check(
        api,
        holders["zhang_wei"],
        "ent-establish",
        [{"material_code": "legal-rep-id", "file_id": file_id}],
    )
    d = _decision(body, "legal-rep-id")
    assert (d["decision"], d["basis"]) == ("review", "upload_mismatch")
    assert {m["field"] for m in d["upload"]["mismatches"]} >= {"name", "id_number"}
    problems = api.problems(body["check_id"])
    assert [p["problem"] for p in problems] == ["upload_mismatch"]


def test_upload_without_a_registry_record_is_reviewed_not_waived(
    api: Api, holders: dict[str, Any]
) -> None:
    card = make_samples("id_card_front", 3)[2]
    file_id = _file_id(api, card.pdf_bytes)
    body = _check(
        api,
        holders["sun_hao"],
        "ent-establish",
        [{"material_code": "legal-rep-id", "file_id": file_id}],
    )
    d = _decision(body, "legal-rep-id")
    assert (d["decision"], d["basis"]) == ("review", "upload_unverified")


@pytest.mark.parametrize(
    ("upload", "field"),
    [
        ({"material_code": "no-such", "file_id": "f_" + "0" * 32}, "uploads[0].material_code"),
        ({"material_code": "legal-rep-id", "file_id": "f_" + "0" * 32}, "uploads[0].file_id"),
    ],
)
def test_bad_upload_reference_is_422_naming_it(
    api: Api, holders: dict[str, Any], upload: dict[str, str], field: str
) -> None:
    r = api.check(
        {
            "matter_code": "ent-establish",
            "applicant": applicant(holders["zhang_wei"]),
            "uploads": [upload],
        }
    )
    assert r.status_code == 422
    assert r.json()["field"] == field


def test_an_upload_past_its_retention_is_gone_for_checks_and_extraction(
    sandbox: Sandbox, make_api: ApiFactory, holders: dict[str, Any]
) -> None:
    api = make_api(sandbox, upload_retention_hours=2 / 3600)  # two seconds
    card = make_samples("id_card_front", 1)[0]
    before = dt.datetime.now(dt.UTC)
    r = api.client.post(
        "/v1/files", files={"file": ("card.pdf", io.BytesIO(card.pdf_bytes), "application/pdf")}
    )
    assert r.status_code == 201, r.text
    file_id, expires_at = r.json()["file_id"], dt.datetime.fromisoformat(r.json()["expires_at"])
    assert before + dt.timedelta(seconds=1.5) < expires_at < before + dt.timedelta(seconds=3)
    upload = [{"material_code": "legal-rep-id", "file_id": file_id}]
    assert _check(api, holders["zhang_wei"], "ent-establish", upload)["summary"]["waived"] == 3

    time.sleep(max(0.0, (expires_at - dt.datetime.now(dt.UTC)).total_seconds()) + 0.2)
    zhang_wei = applicant(holders["zhang_wei"])
    r = api.check({"matter_code": "ent-establish", "applicant": zhang_wei, "uploads": upload})
    assert r.status_code == 422 and r.json()["field"] == "uploads[0].file_id"
    assert "已过保存期限" in r.json()["message"]
    r = api.client.post("/v1/extract", data={"file_id": file_id})
    assert r.status_code == 404 and r.json()["error"] == "file_not_found"
