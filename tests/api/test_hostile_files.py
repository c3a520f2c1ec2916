"""Hostile files through the API, as an attacker would send them: each is refused with 413, 415
or 422 and a reason, promptly, and the service goes on answering."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Callable

import pymupdf
import pytest

from tests.api.conftest import ApiFactory, Sandbox
from tests.extract.test_intake import _png_header, content_bomb, pdf, text_page


def _encrypted() -> bytes:
    doc = pymupdf.open()
    doc.new_page().insert_text((72, 72), "secret")
    return doc.tobytes(encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")


def _zip_behind_a_pdf_header() -> bytes:
    """A polyglot: a PDF's first line in front of a ZIP archive (no PDF structure at all)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("payload.html", "<script>alert(1)</script>")
    return b"%PDF-1.7\n" + buf.getvalue()


def _html_as_png() -> bytes:
    return b"<!DOCTYPE html><html><body><img src=x onerror=alert(1)></body></html>"


def _png_with_pdf_declared() -> bytes:
    return _png_header(64, 64)


HOSTILE: dict[str, tuple[Callable[[], bytes], str, int]] = {
    "zero bytes": (lambda: b"", "application/pdf", 422),
    "over the size limit": (lambda: b"%PDF-1.7\n" + b"0" * (21 << 20), "application/pdf", 413),
    "PDF whose page inflates to 200 MB": (
        lambda: pdf(text_page, content_bomb),
        "application/pdf",
        413,
    ),
    "PDF with 60 pages": (lambda: pdf(*[text_page] * 60), "application/pdf", 413),
    "PNG claiming 50000×50000 pixels": (lambda: _png_header(50_000, 50_000), "image/png", 413),
    "encrypted PDF": (_encrypted, "application/pdf", 422),
    "ZIP behind a PDF header": (_zip_behind_a_pdf_header, "application/pdf", 422),
    "HTML sent as a PNG": (_html_as_png, "image/png", 415),
    "PNG declared as a PDF": (_png_with_pdf_declared, "application/pdf", 415),
}


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_a_hostile_file_is_refused_with_a_reason(
    name: str, sandbox: Sandbox, make_api: ApiFactory
) -> None:
    make, declared, status = HOSTILE[name]
    api = make_api(sandbox)
    data = make()
    for path, form in (("/v1/files", {}), ("/v1/extract", {})):
        r = api.client.post(
            path, files={"file": ("upload.bin", data, declared)}, data=form, timeout=20
        )
        assert r.status_code == status, (path, r.status_code, r.text[:300])
        assert r.headers["content-type"].startswith("application/json"), (
            r.headers,
            r.content[:200],
        )
        body = r.json()
        assert body["error"] and body["message"]
    assert api.client.get("/healthz").status_code == 200
