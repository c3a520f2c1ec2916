"""POST /v1/files and /v1/extract over real HTTP, with real PDFs and images made by the corpus."""

from __future__ import annotations

import io
from typing import Any

import pytest

from tests.api.conftest import Api, ApiFactory, Sandbox
from tests.extract.corpus import as_png, make_samples


@pytest.fixture(scope="module")
def samples() -> dict[str, Any]:
    return {
        "licence": make_samples("business_licence", 1)[0],
        "id_card": make_samples("id_card_front", 1)[0],
        "bad_id_card": next(s for s in make_samples("id_card_front", 10) if s.invalid_fields),
    }


@pytest.fixture
def api(sandbox: Sandbox, make_api: ApiFactory) -> Api:
    return make_api(sandbox, upload_max_bytes=2 * 1024 * 1024)


def _upload(api: Api, data: bytes, name: str, content_type: str, **headers: str) -> Any:
    return api.client.post(
        "/v1/files", files={"file": (name, io.BytesIO(data), content_type)}, headers=headers
    )


def _fields(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["name"]: f for f in body["fields"]}


def test_uploaded_pdf_is_read_from_its_text_layer(api: Api, samples: dict[str, Any]) -> None:
    licence = samples["licence"]
    r = _upload(api, licence.pdf_bytes, "licence.pdf", "application/pdf")
    assert r.status_code == 201, r.text
    stored = r.json()
    assert stored["media_type"] == "application/pdf" and stored["pages"] == 1
    r = api.client.post("/v1/extract", data={"file_id": stored["file_id"]})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "business_licence"
    assert body["pages"][0]["source"] == "text_layer"
    fields = _fields(body)
    assert fields["uscc"]["normalised"] == licence.truth["uscc"]
    assert fields["uscc"]["valid"] is True


def test_direct_image_upload_is_read_by_ocr(api: Api, samples: dict[str, Any]) -> None:
    card = samples["id_card"]
    r = api.client.post(
        "/v1/extract",
        files={"file": ("card.png", io.BytesIO(card.png_bytes), "image/png")},
        data={"expected_kind": "id_card_front"},
    )
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["kind"] == "id_card_front" and body["pages"][0]["source"] == "ocr"
    fields = _fields(body)
    assert fields["id_number"]["normalised"] == card.truth["id_number"]
    assert fields["name"]["normalised"] == card.truth["name"]
    assert fields["id_number"]["box"] is not None


def test_id_number_failing_its_check_digit_is_returned_invalid(
    api: Api, samples: dict[str, Any]
) -> None:
    card = samples["bad_id_card"]
    r = api.client.post(
        "/v1/extract", files={"file": ("card.pdf", io.BytesIO(card.pdf_bytes), "application/pdf")}
    )
    field = _fields(r.json())["id_number"]
    assert field["valid"] is False
    assert "校验码" in field["reason"]
    assert field["value"].upper() == card.truth["id_number"]  # returned as read, not corrected


def test_content_type_that_lies_is_415(api: Api, samples: dict[str, Any]) -> None:
    r = _upload(api, samples["licence"].pdf_bytes, "x.png", "image/png")
    assert r.status_code == 415
    assert r.json()["error"] == "media_type_mismatch"
    assert "PDF" in r.json()["message"]


@pytest.mark.parametrize(
    ("data", "status", "error"),
    [
        (b"", 422, "unreadable_file"),
        (b"PK\x03\x04" + b"\x00" * 100, 415, "unsupported_media"),
        (b"<html><body>hi</body></html>", 415, "unsupported_media"),
        (b"%PDF-1.7\n1 0 obj\n<<", 422, "unreadable_file"),
    ],
)
def test_bad_files_get_a_clear_4xx(api: Api, data: bytes, status: int, error: str) -> None:
    r = _upload(api, data, "f.bin", "application/octet-stream")
    assert r.status_code == status, r.text
    assert r.json()["error"] == error and r.json()["message"]


def test_file_over_the_limit_is_413(api: Api) -> None:
    r = _upload(api, b"\xff\xd8\xff" + b"\x00" * (3 * 1024 * 1024), "big.jpg", "image/jpeg")
    assert r.status_code == 413


def test_another_requesters_file_is_not_found(api: Api, samples: dict[str, Any]) -> None:
    r = _upload(
        api, samples["licence"].pdf_bytes, "l.pdf", "application/pdf", **{"X-Requester": "a"}
    )
    file_id = r.json()["file_id"]
    other = api.client.post("/v1/extract", data={"file_id": file_id}, headers={"X-Requester": "b"})
    assert other.status_code == 404


def test_file_and_file_id_together_is_422(api: Api, samples: dict[str, Any]) -> None:
    png = as_png(samples["id_card"].image())
    r = api.client.post(
        "/v1/extract",
        files={"file": ("c.png", io.BytesIO(png), "image/png")},
        data={"file_id": "f_" + "0" * 32},
    )
    assert r.status_code == 422
    assert r.json()["error"] == "invalid_input" and r.json()["field"] == "file"
