"""Printable forms: a PDF template per form with one text field per form field, and filling it.

No public template of these forms is free to ship, so the templates are drawn from the form's data
(``python -m matcher.applications.formpdf`` writes them to ``matcher/data/form_templates/``; a form
with no template there gets one drawn when first filled). Filling sets each field's value and draws
its appearance with an embedded CJK font (PyMuPDF's Droid Sans Fallback, subset to the glyphs
used), so the Chinese renders in any viewer and is in the page's text; ``flatten`` turns the fields
into plain page content.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Mapping
from importlib.resources import files
from pathlib import Path

import pymupdf

from matcher.applications.forms import Form, load_forms

__all__ = ["build_template", "fill", "template_for", "write_templates"]

PAGE = pymupdf.paper_rect("a4")
MARGIN = 48.0
LABEL_WIDTH = 150.0
ROW = 24.0  # height of a one-line field
FONT = "CJK"  # the resource name of the embedded font
VALUE_SIZE = 10.5
MIN_SIZE = 6.0


@functools.cache
def _cjk() -> pymupdf.Font:
    return pymupdf.Font("cjk")


def _new_page(doc: pymupdf.Document) -> pymupdf.Page:
    page = doc.new_page(width=PAGE.width, height=PAGE.height)
    page.insert_font(fontname=FONT, fontbuffer=_cjk().buffer)
    return page


def build_template(form: Form) -> bytes:
    """A4 pages: the title, then per section a heading and a row per field (label | field)."""
    doc = pymupdf.open()
    page = _new_page(doc)
    title_width = _cjk().text_length(form.name, fontsize=18)
    page.insert_text(
        ((PAGE.width - title_width) / 2, MARGIN + 18), form.name, fontname=FONT, fontsize=18
    )
    y = MARGIN + 40
    right = PAGE.width - MARGIN
    for section in form.sections:
        if y + 2 * ROW > PAGE.height - MARGIN:
            page, y = _new_page(doc), MARGIN
        band = pymupdf.Rect(MARGIN, y, right, y + ROW)
        page.draw_rect(band, color=(0, 0, 0), fill=(0.92, 0.92, 0.92), width=0.6)
        page.insert_text((MARGIN + 6, y + 16), section.title, fontname=FONT, fontsize=11)
        y += ROW
        for field in section.fields:
            height = ROW * field.lines
            if y + height > PAGE.height - MARGIN:
                page, y = _new_page(doc), MARGIN
            label = pymupdf.Rect(MARGIN, y, MARGIN + LABEL_WIDTH, y + height)
            value = pymupdf.Rect(MARGIN + LABEL_WIDTH, y, right, y + height)
            page.draw_rect(label, color=(0, 0, 0), width=0.6)
            page.draw_rect(value, color=(0, 0, 0), width=0.6)
            text = field.label + ("（必填）" if field.required else "")
            box = pymupdf.Rect(label.x0 + 5, label.y0 + 4, label.x1 - 3, label.y1 - 1)
            size = 9.5
            # insert_textbox writes nothing when the text does not fit: shrink until it does.
            while page.insert_textbox(box, text, fontname=FONT, fontsize=size) < 0:
                size -= 0.5
            widget = pymupdf.Widget()
            widget.field_name = field.key
            widget.field_label = field.label
            widget.field_type = pymupdf.PDF_WIDGET_TYPE_TEXT
            if field.lines > 1:
                widget.field_flags = pymupdf.PDF_TX_FIELD_IS_MULTILINE
            widget.rect = pymupdf.Rect(value.x0 + 1, value.y0 + 1, value.x1 - 1, value.y1 - 1)
            widget.text_font = "Helv"
            widget.text_fontsize = VALUE_SIZE
            widget.border_width = 0
            page.add_widget(widget)
            y += height
    y += 30
    if y + 40 > PAGE.height - MARGIN:
        page, y = _new_page(doc), MARGIN + 20
    page.insert_text((MARGIN, y), "申请人（签字/盖章）：", fontname=FONT, fontsize=11)
    page.insert_text((PAGE.width / 2 + 40, y), "日期：", fontname=FONT, fontsize=11)
    doc.subset_fonts()
    return bytes(doc.tobytes(garbage=3, deflate=True))


@functools.lru_cache(maxsize=8192)
def _glyph(char: str) -> int:
    """The embedded font's glyph id for a character (0, the blank glyph, when it has none)."""
    return int(_cjk().has_glyph(ord(char)))


def _lines(text: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` at ``size`` (by character: Chinese
    has no spaces to break at)."""
    font = _cjk()
    lines: list[str] = []
    current = ""
    for char in text:
        if current and font.text_length(current + char, fontsize=size) > width:
            lines.append(current)
            current = ""
        current += char
    lines.append(current)
    return lines


def _layout(text: str, rect: pymupdf.Rect, multiline: bool) -> tuple[float, list[str]]:
    """The largest size (≤ VALUE_SIZE) at which ``text`` fits the field, and its lines."""
    width, height = rect.width - 4, rect.height - 2
    size = VALUE_SIZE
    while True:
        lines = _lines(text, size, width) if multiline else [text]
        fits_width = multiline or _cjk().text_length(text, fontsize=size) <= width
        if (fits_width and len(lines) * size * 1.2 <= height) or size <= MIN_SIZE:
            return size, lines
        size -= 0.5


def _appearance(text: str, rect: pymupdf.Rect, multiline: bool) -> bytes:
    """A text field's normal appearance: ``text`` in the embedded font, vertically centred
    (Type0 font, Identity-H: each character is written as its glyph id)."""
    size, lines = _layout(text, rect, multiline)
    leading = size * 1.2
    block = leading * len(lines)
    top = (rect.height + block) / 2 - size  # baseline of the first line, from the bottom
    ops = ["/Tx BMC", "q", "BT", "0 g", f"/{FONT} {size:.2f} Tf"]
    for i, line in enumerate(lines):
        glyphs = "".join(f"{_glyph(c):04x}" for c in line)
        x, y = 2.0, top - i * leading + size * 0.12
        ops.append(f"1 0 0 1 {x:.2f} {y:.2f} Tm <{glyphs}> Tj")
    ops += ["ET", "Q", "EMC"]
    return "\n".join(ops).encode()


def fill(template: bytes, values: Mapping[str, str | None], *, flatten: bool = False) -> bytes:
    """The template with each field whose name is a key of ``values`` set to its value.

    The values are drawn with an embedded CJK font; ``flatten`` makes them page content (no
    form fields left).
    """
    doc = pymupdf.open(stream=template, filetype="pdf")
    for page in doc:
        font_xref = page.insert_font(fontname=FONT + "V", fontbuffer=_cjk().buffer)
        for widget in page.widgets():
            value = values.get(widget.field_name or "")
            if not value:
                continue
            widget.field_value = value
            widget.update()
            ap = doc.xref_get_key(widget.xref, "AP/N")
            if ap[0] != "xref":
                continue
            ap_xref = int(ap[1].split()[0])
            multiline = bool(widget.field_flags & pymupdf.PDF_TX_FIELD_IS_MULTILINE)
            doc.update_stream(ap_xref, _appearance(value, widget.rect, multiline))
            doc.xref_set_key(ap_xref, "Resources", f"<</Font<</{FONT} {font_xref} 0 R>>>>")
    if flatten:
        doc.bake(annots=True, widgets=True)
    doc.subset_fonts()
    return bytes(doc.tobytes(garbage=3, deflate=True))


def _templates_dir() -> Path:
    return Path(str(files("matcher") / "data" / "form_templates"))


def template_for(form: Form) -> bytes:
    """The shipped template of ``form``, or one drawn now for a form that has none."""
    shipped = _templates_dir() / f"{form.code}.pdf"
    if shipped.is_file():
        return shipped.read_bytes()
    return _drawn(form)


@functools.lru_cache(maxsize=32)
def _drawn(form: Form) -> bytes:
    return build_template(form)


def write_templates(folder: Path, forms_path: Path | None = None) -> list[Path]:
    """Draw every form's template into ``folder`` (``<form code>.pdf``)."""
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for form in load_forms(forms_path):
        target = folder / f"{form.code}.pdf"
        target.write_bytes(build_template(form))
        written.append(target)
    return written


if (
    __name__ == "__main__"
):  # python -m matcher.applications.formpdf [folder]  — redraw the shipped templates
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else _templates_dir()
    for path in write_templates(out):
        print(path)
