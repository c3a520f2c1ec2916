"""Printable forms: the shipped templates match the forms, and filled values render in Chinese."""

from __future__ import annotations

from typing import Any

import pymupdf
import pytest

from matcher.applications.formpdf import fill, template_for
from matcher.applications.forms import load_forms

FORMS = {form.code: form for form in load_forms()}


@pytest.mark.parametrize("code", sorted(FORMS))
def test_shipped_template_has_one_field_per_form_field(code: str) -> None:
    form = FORMS[code]
    doc = pymupdf.open(stream=template_for(form), filetype="pdf")
    names = [w.field_name for page in doc for w in page.widgets()]
    assert names == [f.key for f in form.fields], "run: python -m matcher.applications.formpdf"
    text = "".join(page.get_text() for page in doc).replace("\n", "")
    assert form.name in text and all(f.label in text for f in form.fields)


def _dark_pixels(page: Any, rect: Any) -> int:
    """Dark pixels inside ``rect`` (its border left out), rendered at 100 dpi."""
    inner = pymupdf.Rect(rect.x0 + 3, rect.y0 + 3, rect.x1 - 3, rect.y1 - 3)
    pix = page.get_pixmap(dpi=100, clip=inner, colorspace=pymupdf.csGRAY)
    return sum(1 for value in pix.samples if value < 128)


@pytest.mark.parametrize("flatten", [False, True])
def test_filled_values_render_in_chinese_inside_their_fields(flatten: bool) -> None:
    form = FORMS["company-registration"]
    template = template_for(form)
    rects = {w.field_name: w.rect for w in pymupdf.open(stream=template)[0].widgets()}
    scope = (
        "船舶代理；国际船舶管理业务；船员劳务派遣服务（依法须经批准的项目，经相关部门批准后方可开展经营活动）"
        * 2
    )
    values = {
        "company_name": "舟山港伟船舶服务有限公司",
        "business_scope": scope,
        "lr_mobile": None,
    }
    doc = pymupdf.open(stream=fill(template, values, flatten=flatten), filetype="pdf")
    page = doc[0]
    assert bool(list(page.widgets())) is not flatten
    # Drawn: the glyphs are on the page (the fallback font of a viewer is not relied on) …
    assert _dark_pixels(page, rects["company_name"]) > 300
    assert _dark_pixels(page, rects["lr_mobile"]) == 0
    # … from a font embedded in the file …
    embedded = [f for f in page.get_fonts(full=True) if "Droid" in f[3]]
    assert embedded and all(doc.extract_font(f[0])[3] for f in embedded)
    # … and readable as text, a long value wrapped and shrunk inside its own box.
    text = page.get_text()
    assert "舟山港伟船舶服务有限公司" in text
    hits = page.search_for("船员劳务派遣服务")
    assert len(hits) == 2 and all(rects["business_scope"].contains(h) for h in hits)


def test_a_form_without_a_shipped_template_gets_one_drawn() -> None:
    form = FORMS["seafarer-passport"].model_copy(update={"code": "my-own-form"})
    pdf = fill(template_for(form), {"name": "林海"})
    assert "林海" in pymupdf.open(stream=pdf)[0].get_text()
