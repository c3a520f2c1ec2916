"""Waive-checks with uploaded documents: compared field by field with the registry's record."""

from __future__ import annotations

import io
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
