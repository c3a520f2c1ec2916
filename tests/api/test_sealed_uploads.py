"""Through the API: an uploaded scan is kept sealed, and still read for extraction."""

from __future__ import annotations

import pymupdf
from sqlalchemy import select

from matcher.store.files import files
from tests.api.conftest import ApiFactory, Sandbox


def test_an_uploaded_file_is_sealed_in_the_database(sandbox: Sandbox, make_api: ApiFactory) -> None:
    api = make_api(sandbox)
    doc = pymupdf.open()
    page = doc.new_page()
    page.insert_text((72, 72), "公民身份号码 330902198103150314", fontname="china-s")
    pdf = doc.tobytes()
    r = api.client.post("/v1/files", files={"file": ("id.pdf", pdf, "application/pdf")})
    assert r.status_code == 201, r.text
    file_id = r.json()["file_id"]
    store = api.records()
    try:
        with store.engine.connect() as conn:
            raw = bytes(
                conn.execute(select(files.c.data).where(files.c.file_id == file_id)).scalar()
            )
    finally:
        store.close()
    assert raw.startswith(b"MS1") and b"%PDF" not in raw and pdf not in raw
    read = api.client.post("/v1/extract", data={"file_id": file_id})
    assert read.status_code == 200, read.text
    assert "330902198103150314" in read.text
