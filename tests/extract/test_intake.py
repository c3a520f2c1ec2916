"""File intake: every file here is made by the test — PDFs with PyMuPDF, images with Pillow."""

from __future__ import annotations

import io
import struct
import time
import zipfile
import zlib
from collections.abc import Callable
from typing import Any

import numpy as np
import pymupdf
import pytest
from PIL import Image, ImageDraw

from matcher.errors import (
    EncryptedFile,
    ExtractionError,
    FileTooLarge,
    ImageTooLarge,
    MediaTypeMismatch,
    ProcessingTimeout,
    TooManyPages,
    UnreadableFile,
    UnsupportedMedia,
)
from matcher.extract import intake
from matcher.extract.intake import (
    Deadline,
    Document,
    ImagePage,
    Limits,
    load_document,
    sniff_media_type,
)
from matcher.extract.model import PageText

LIMITS = Limits()
TITLE = "营业执照"
CODE_LINE = "统一社会信用代码 91350100M000100Y43"


def load(data: bytes, **kwargs: object) -> Document:
    limits = kwargs.pop("limits", LIMITS)
    assert isinstance(limits, Limits)
    return load_document(data, limits=limits, **kwargs)  # type: ignore[arg-type]


# --- makers -------------------------------------------------------------------------------------


def text_page(doc: pymupdf.Document) -> None:
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), TITLE, fontname="china-s", fontsize=24)
    page.insert_text((72, 160), CODE_LINE, fontname="china-s", fontsize=12)
    page.insert_text((72, 190), "名　　称 厦门测试科技有限公司", fontname="china-s", fontsize=12)


def scan_image(width: int = 827, height: int = 1169) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle((50, 50, 400, 120), fill="black")
    out = io.BytesIO()
    image.save(out, "JPEG", quality=80)
    return out.getvalue()


def scan_page(doc: pymupdf.Document, image: bytes | None = None) -> None:
    page = doc.new_page(width=595, height=842)
    page.insert_image(page.rect, stream=image or scan_image())


def pdf(*makers: Callable[[pymupdf.Document], None], **save: object) -> bytes:
    doc = pymupdf.open()
    for make in makers:
        make(doc)
    data: bytes = doc.tobytes(**save)
    return data


def picture(fmt: str, mode: str = "RGB", size: tuple[int, int] = (60, 40), **save: object) -> bytes:
    """A picture whose top-left quarter is dark and the rest light, to check orientation."""
    image = Image.new("RGB", size, (230, 230, 230))
    ImageDraw.Draw(image).rectangle((0, 0, size[0] // 2 - 1, size[1] // 2 - 1), fill=(20, 20, 20))
    out = io.BytesIO()
    image.convert(mode).save(out, fmt, **save)
    return out.getvalue()


def ofd(pages: list[str]) -> bytes:
    ns = 'xmlns:ofd="http://www.ofdspec.org/2016"'
    root = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:OFD {ns} Version="1.1" DocType="OFD">'
        "<ofd:DocBody><ofd:DocInfo><ofd:DocID>test</ofd:DocID></ofd:DocInfo>"
        "<ofd:DocRoot>Doc_0/Document.xml</ofd:DocRoot></ofd:DocBody></ofd:OFD>"
    )
    refs = "".join(
        f'<ofd:Page ID="{i + 1}" BaseLoc="Pages/Page_{i}/Content.xml"/>' for i in range(len(pages))
    )
    document = (
        f'<?xml version="1.0" encoding="UTF-8"?><ofd:Document {ns}><ofd:CommonData>'
        "<ofd:MaxUnitID>100</ofd:MaxUnitID>"
        "<ofd:PageArea><ofd:PhysicalBox>0 0 210 297</ofd:PhysicalBox></ofd:PageArea>"
        f"</ofd:CommonData><ofd:Pages>{refs}</ofd:Pages></ofd:Document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", root)
        archive.writestr("Doc_0/Document.xml", document)
        for i, body in enumerate(pages):
            archive.writestr(
                f"Doc_0/Pages/Page_{i}/Content.xml",
                f'<?xml version="1.0" encoding="UTF-8"?><ofd:Page {ns}><ofd:Content>'
                f'<ofd:Layer ID="{i + 10}">{body}</ofd:Layer></ofd:Content></ofd:Page>',
            )
    return out.getvalue()


def text_object(oid: int, x: float, y: float, text: str, size: float = 5.0) -> str:
    width = size * len(text)
    return (
        f'<ofd:TextObject ID="{oid}" Boundary="{x} {y} {width} {size * 1.5}" Font="1" '
        f'Size="{size}"><ofd:TextCode X="0" Y="{size}">{text}</ofd:TextCode></ofd:TextObject>'
    )


# --- PDF ----------------------------------------------------------------------------------------


def test_born_digital_page_is_read_from_its_text_layer() -> None:
    document = load(pdf(text_page), declared_type="application/pdf")
    assert document.media_type == "application/pdf"
    (page,) = document.pages
    assert isinstance(page, PageText)
    assert page.source == "text_layer"
    assert (page.width, page.height) == (595, 842)
    texts = [line.text for line in page.lines]
    assert texts == [TITLE, CODE_LINE, "名　　称 厦门测试科技有限公司"]
    title, code, _ = page.lines
    # insert_text puts the baseline at y; the box sits on it, in points from the top left.
    assert title.box.x0 == pytest.approx(72, abs=1)
    assert title.box.y0 < 100 < title.box.y1 + 8
    assert title.box.x1 == pytest.approx(72 + 4 * 24, abs=2)
    assert code.box.y0 < 160 < code.box.y1 + 4
    assert title.confidence == 1.0


def test_scanned_page_uses_the_embedded_image_not_a_render() -> None:
    (page,) = load(pdf(scan_page)).pages
    assert isinstance(page, ImagePage)
    assert page.origin == "pdf_embedded"
    # 827×1169 is 100 DPI on A4; a 200-DPI render would be 1654×2339.
    assert page.image.shape == (1169, 827, 3)
    assert page.image.dtype == np.uint8
    assert page.dpi == pytest.approx(100, abs=0.5)
    assert page.image[80, 200].max() < 60 and page.image[600, 600].min() > 200


@pytest.mark.parametrize("turn", ["image", "page"])
def test_turned_scan_is_rendered_as_shown(turn: str) -> None:
    def turned(doc: pymupdf.Document) -> None:
        page = doc.new_page(width=595, height=842)
        if turn == "image":
            page.insert_image(page.rect, stream=scan_image(1169, 827), rotate=90)
        else:
            page.insert_image(page.rect, stream=scan_image())
            page.set_rotation(90)

    (page,) = load(pdf(turned)).pages
    assert isinstance(page, ImagePage)
    assert page.origin == "pdf_render"
    shown = (1653, 2339) if turn == "image" else (2339, 1653)  # A4 at 200 DPI, as shown
    assert (page.width, page.height) == shown


def test_mixed_pdf_gives_one_text_page_and_one_image_page() -> None:
    first, second = load(pdf(text_page, scan_page)).pages
    assert isinstance(first, PageText) and first.index == 0
    assert isinstance(second, ImagePage) and second.index == 1


def test_page_with_a_drawing_but_no_text_is_rendered_at_the_render_dpi() -> None:
    def drawing(doc: pymupdf.Document) -> None:
        page = doc.new_page(width=595, height=842)
        page.draw_rect(pymupdf.Rect(100, 100, 300, 200), fill=(0, 0, 0))

    (page,) = load(pdf(drawing), limits=Limits(render_dpi=144)).pages
    assert isinstance(page, ImagePage)
    assert page.origin == "pdf_render"
    assert page.image.shape == (1684, 1190, 3)
    assert page.image[300, 400].max() < 30 and page.image[1000, 1000].min() > 220


def test_watermark_text_on_a_scan_does_not_make_a_text_layer() -> None:
    def watermarked(doc: pymupdf.Document) -> None:
        scan_page(doc)
        doc[-1].insert_text((400, 830), "扫描全能王 创建", fontname="china-s", fontsize=8)

    (page,) = load(pdf(watermarked)).pages
    assert isinstance(page, ImagePage)
    assert page.origin == "pdf_embedded"


def test_poster_sized_page_is_rendered_within_the_pixel_limit() -> None:
    def poster(doc: pymupdf.Document) -> None:
        doc.new_page(width=2384, height=3370).draw_circle((1000, 1000), 200)

    (page,) = load(pdf(poster), limits=Limits(max_pixels=4_000_000)).pages
    assert isinstance(page, ImagePage)
    assert page.width * page.height <= 4_000_000
    assert page.dpi is not None and page.dpi < 200


def test_encrypted_pdf_is_refused_as_encrypted() -> None:
    data = pdf(text_page, encryption=pymupdf.PDF_ENCRYPT_AES_256, user_pw="u", owner_pw="o")
    with pytest.raises(EncryptedFile, match="文件已加密") as caught:
        load(data)
    assert caught.value.status_code == 422


def test_truncated_pdf_is_unreadable() -> None:
    data = pdf(text_page, scan_page)
    with pytest.raises(UnreadableFile, match="不完整"):
        load(data[: len(data) // 2])


def test_garbage_after_a_pdf_header_is_unreadable() -> None:
    with pytest.raises(UnreadableFile):
        load(b"%PDF-1.7\n" + bytes(range(256)) * 20 + b"\n%%EOF\n")


def test_too_many_pdf_pages() -> None:
    with pytest.raises(TooManyPages, match="共 3 页") as caught:
        load(pdf(text_page, text_page, text_page), limits=Limits(max_pages=2))
    assert caught.value.status_code == 413


def _content(doc: pymupdf.Document, xref: int, stream: bytes, filter_: str) -> None:
    doc.update_stream(xref, stream, compress=0)
    doc.xref_set_key(xref, "Filter", filter_)


def one_line_page(doc: pymupdf.Document) -> int:
    """A page with one content stream; its xref."""
    page = doc.new_page(width=595, height=842)
    page.insert_text((72, 100), TITLE, fontname="china-s", fontsize=24)
    (xref,) = page.get_contents()
    return int(xref)


def content_bomb(doc: pymupdf.Document) -> None:
    """A page whose few hundred KB of drawing instructions inflate to 200 MB."""
    _content(doc, one_line_page(doc), zlib.compress(b"q Q\n" * (50 << 20), 9), "/FlateDecode")


def test_a_page_whose_instructions_inflate_too_far_is_refused_before_mupdf_reads_them(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    data = pdf(text_page, content_bomb)
    assert len(data) < 300_000
    read: list[int] = []
    real_text_lines = intake._text_lines

    def text_lines(page: pymupdf.Page, index: int) -> list[Any]:
        read.append(index)
        return real_text_lines(page, index)

    monkeypatch.setattr(intake, "_text_lines", text_lines)
    with pytest.raises(FileTooLarge, match=r"第 2 页的绘制内容解压后超过上限 16\.0 MB") as caught:
        load(data)
    assert caught.value.status_code == 413
    assert read == [0]  # MuPDF never read page 2's instructions (it took ~11 s over them)


def test_instructions_in_a_form_the_page_draws_count_too() -> None:
    def page_drawing_a_bomb(doc: pymupdf.Document) -> None:
        source = pymupdf.open(stream=pdf(one_line_page), filetype="pdf")
        page = doc.new_page(width=595, height=842)
        page.show_pdf_page(page.rect, source, 0)  # the source page becomes a form XObject
        form = page.get_xobjects()[-1][0]  # the source page's own instructions
        _content(doc, form, zlib.compress(b"q Q\n" * (50 << 20), 9), "/FlateDecode")

    with pytest.raises(FileTooLarge, match="第 1 页"):
        load(pdf(page_drawing_a_bomb))


def test_instructions_in_an_annotations_appearance_or_a_pattern_count_too() -> None:
    def annotation_bomb(doc: pymupdf.Document) -> None:
        one_line_page(doc)
        annot = doc[-1].add_freetext_annot(pymupdf.Rect(72, 200, 300, 260), "批注")
        annot.update()
        appearance = int(doc.xref_get_key(annot.xref, "AP/N")[1].split()[0])
        _content(doc, appearance, zlib.compress(b"q Q\n" * (10 << 20), 9), "/FlateDecode")

    def pattern_bomb(doc: pymupdf.Document) -> None:
        xref = one_line_page(doc)
        pattern = doc.get_new_xref()
        doc.update_object(pattern, "<< /PatternType 1 /PaintType 1 /TilingType 1 >>")
        doc.update_stream(pattern, b"x")
        for key, value in (("BBox", "[0 0 10 10]"), ("XStep", "10"), ("YStep", "10")):
            doc.xref_set_key(pattern, key, value)
        _content(doc, pattern, zlib.compress(b"q Q\n" * (10 << 20), 9), "/FlateDecode")
        page = doc[-1]
        kind, resources = doc.xref_get_key(page.xref, "Resources")
        target = int(resources.split()[0]) if kind == "xref" else page.xref
        key = "Pattern" if kind == "xref" else "Resources/Pattern"
        doc.xref_set_key(target, key, f"<< /P0 {pattern} 0 R >>")
        assert xref

    for maker in (annotation_bomb, pattern_bomb):
        data = pdf(maker)
        assert len(data) < 100_000  # 40 MB of instructions in a small file
        with pytest.raises(FileTooLarge, match="第 1 页"):
            load(data)


def test_ordinary_pages_pass_and_the_limit_counts_every_stream() -> None:
    assert len(load(pdf(text_page, scan_page)).pages) == 2
    with pytest.raises(FileTooLarge, match="第 1 页"):
        load(pdf(text_page), limits=Limits(max_content_bytes=64))


def test_content_in_an_unusual_compression_is_refused_not_decoded() -> None:
    def lzw_page(doc: pymupdf.Document) -> None:
        _content(doc, one_line_page(doc), b"\x80\x0b\x60\x50\x22\x0c\x0c\x85\x01", "/LZWDecode")

    with pytest.raises(UnsupportedMedia, match="LZWDecode") as caught:
        load(pdf(lzw_page))
    assert caught.value.status_code == 415


def test_embedded_image_over_the_pixel_limit_is_refused_before_decoding() -> None:
    def bomb(doc: pymupdf.Document) -> None:
        scan_page(doc, picture("PNG", "L"))
        # The image dictionary now claims 30000×30000 pixels: 900 MB if MuPDF decoded it.
        xref = doc[-1].get_images()[0][0]
        doc.xref_set_key(xref, "Width", "30000")
        doc.xref_set_key(xref, "Height", "30000")

    started = time.perf_counter()
    with pytest.raises(ImageTooLarge) as caught:
        load(pdf(bomb))
    assert time.perf_counter() - started < 2
    assert caught.value.status_code == 413


# --- images -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("fmt", "mode"),
    [
        ("PNG", "RGB"),
        ("PNG", "L"),
        ("PNG", "LA"),
        ("PNG", "P"),
        ("PNG", "RGBA"),
        ("PNG", "I;16"),
        ("JPEG", "RGB"),
        ("JPEG", "L"),
        ("JPEG", "CMYK"),
        ("TIFF", "RGB"),
        ("TIFF", "1"),
        ("TIFF", "I;16"),
        ("TIFF", "CMYK"),
    ],
)
def test_images_decode_to_upright_rgb(fmt: str, mode: str) -> None:
    document = load(picture(fmt, mode))
    (page,) = document.pages
    assert isinstance(page, ImagePage)
    assert page.origin == "image"
    assert page.image.shape == (40, 60, 3) and page.image.dtype == np.uint8
    assert page.image[5, 5].max() < 90, "dark corner stays dark"
    assert page.image[35, 55].min() > 170, "light area stays light"


def test_transparent_png_is_read_on_white() -> None:
    image = Image.new("RGBA", (20, 20), (0, 0, 0, 0))
    ImageDraw.Draw(image).rectangle((0, 0, 9, 9), fill=(0, 0, 0, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    (page,) = load(out.getvalue()).pages
    assert isinstance(page, ImagePage)
    assert page.image[2, 2].tolist() == [0, 0, 0]
    assert page.image[15, 15].tolist() == [255, 255, 255]


def test_multi_page_tiff_gives_one_page_per_frame() -> None:
    frames = [Image.new("RGB", (30 + i, 20), (i * 60, 0, 0)) for i in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    document = load(out.getvalue(), declared_type="image/tiff")
    assert document.media_type == "image/tiff"
    assert [p.index for p in document.pages] == [0, 1, 2]
    assert [p.image.shape[1] for p in document.pages if isinstance(p, ImagePage)] == [30, 31, 32]


def test_tiff_with_too_many_frames() -> None:
    frames = [Image.new("L", (10, 10)) for _ in range(4)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(TooManyPages):
        load(out.getvalue(), limits=Limits(max_pages=3))


# Stored pixels for each EXIF orientation such that the upright picture has its dark quarter at
# the top left: the camera wrote the picture turned, and the tag says how to turn it back.
@pytest.mark.parametrize(("orientation", "stored_turn"), [(3, 180), (6, 90), (8, 270)])
def test_exif_orientation_is_applied(orientation: int, stored_turn: int) -> None:
    upright = Image.new("RGB", (60, 40), (230, 230, 230))
    ImageDraw.Draw(upright).rectangle((0, 0, 29, 19), fill=(20, 20, 20))
    stored = upright.rotate(stored_turn, expand=True)  # counter-clockwise, as Pillow turns
    exif = Image.Exif()
    exif[0x0112] = orientation
    out = io.BytesIO()
    stored.save(out, "JPEG", exif=exif, quality=95)
    (page,) = load(out.getvalue()).pages
    assert isinstance(page, ImagePage)
    assert page.image.shape == (40, 60, 3)
    assert page.image[5, 5].max() < 90 and page.image[35, 55].min() > 170


def _png_header(width: int, height: int) -> bytes:
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    chunk = b"IHDR" + ihdr
    return (
        b"\x89PNG\r\n\x1a\n"
        + struct.pack(">I", len(ihdr))
        + chunk
        + struct.pack(">I", zlib.crc32(chunk))
        + b"\x00\x00\x00\x00IEND\xaeB`\x82"
    )


@pytest.mark.parametrize(("width", "height"), [(50_000, 50_000), (8_000, 8_000)])
def test_decompression_bomb_is_refused_from_the_header(width: int, height: int) -> None:
    started = time.perf_counter()
    with pytest.raises(ImageTooLarge) as caught:
        load(_png_header(width, height))
    assert time.perf_counter() - started < 1
    assert caught.value.status_code == 413


def test_total_pixels_over_all_frames_are_limited() -> None:
    frames = [Image.new("L", (100, 100)) for _ in range(3)]
    out = io.BytesIO()
    frames[0].save(out, "TIFF", save_all=True, append_images=frames[1:])
    with pytest.raises(ImageTooLarge, match="总像素"):
        load(out.getvalue(), limits=Limits(max_total_pixels=25_000))


@pytest.mark.parametrize("fmt", ["JPEG", "PNG"])
def test_truncated_image_is_unreadable(fmt: str) -> None:
    data = picture(fmt, size=(400, 300))
    with pytest.raises(UnreadableFile, match="损坏或不完整"):
        load(data[: len(data) // 2])


# --- what comes in ------------------------------------------------------------------------------


def test_empty_file() -> None:
    with pytest.raises(UnreadableFile, match="文件为空") as caught:
        load(b"", declared_type="application/pdf")
    assert caught.value.status_code == 422


def test_oversized_file() -> None:
    with pytest.raises(FileTooLarge, match="超过上限") as caught:
        load(pdf(text_page), limits=Limits(max_bytes=1000))
    assert caught.value.status_code == 413


def test_declared_type_that_lies_names_both() -> None:
    with pytest.raises(MediaTypeMismatch) as caught:
        load(pdf(text_page), declared_type="image/png", filename="licence.png")
    assert str(caught.value) == "声明的文件类型为 image/png，实际内容为 PDF"
    assert caught.value.status_code == 415


@pytest.mark.parametrize(
    "declared", [None, "application/octet-stream", "application/pdf; charset=binary", ""]
)
def test_uninformative_or_matching_declared_type_is_accepted(declared: str | None) -> None:
    assert load(pdf(text_page), declared_type=declared).media_type == "application/pdf"


def test_image_jpg_alias_and_misleading_file_name_are_fine() -> None:
    document = load(picture("JPEG"), declared_type="image/jpg", filename="scan.png")
    assert document.media_type == "image/jpeg"
    assert document.filename == "scan.png"


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, body in members.items():
            archive.writestr(name, body)
    return out.getvalue()


@pytest.mark.parametrize(
    ("data", "named"),
    [
        (_zip({"a.txt": b"hello"}), "ZIP 压缩包"),
        (_zip({"[Content_Types].xml": b"<x/>", "word/document.xml": b"<x/>"}), "Word 文档"),
        (b"<!DOCTYPE html><html><body>licence</body></html>", "HTML 网页"),
        (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>', "SVG 图片"),
        (b"GIF89a" + bytes(20), "GIF 图片"),
        (bytes([0, 1, 2, 3]) * 10, "无法识别的类型"),
    ],
)
def test_unsupported_types_are_refused_by_name(data: bytes, named: str) -> None:
    with pytest.raises(UnsupportedMedia, match=named) as caught:
        load(data)
    assert caught.value.status_code == 415
    assert not isinstance(caught.value, MediaTypeMismatch)


def test_sniffing_ignores_what_the_name_says() -> None:
    assert sniff_media_type(picture("PNG")) == "image/png"
    assert sniff_media_type(b"junk\n%PDF-1.4 ...") == "application/pdf"
    assert sniff_media_type(ofd([text_object(1, 10, 10, "测试")])) == "application/ofd"


def test_every_refusal_is_an_extraction_error() -> None:
    for exc in (UnsupportedMedia, FileTooLarge, UnreadableFile, ProcessingTimeout):
        assert issubclass(exc, ExtractionError)


# --- time ---------------------------------------------------------------------------------------


def test_deadline_is_checked_between_pages() -> None:
    now = [0.0]

    def clock() -> float:
        now[0] += 1.0  # every look at the clock costs a second
        return now[0]

    with pytest.raises(ProcessingTimeout, match="超时") as caught:
        load(pdf(text_page, text_page, text_page), deadline=Deadline(2.5, clock=clock))
    assert caught.value.status_code == 422


def test_deadline_reports_what_remains() -> None:
    deadline = Deadline(10, clock=lambda: 0.0)
    assert deadline.remaining == 10
    deadline.check()


# --- OFD ----------------------------------------------------------------------------------------


def test_ofd_text_objects_become_lines_in_points() -> None:
    data = ofd(
        [
            text_object(1, 20, 30, TITLE, size=8)
            + text_object(2, 20, 50, "统一社会信用代码")
            # One TextObject per character, as some producers write them: joined into a line.
            + "".join(text_object(3 + i, 65 + 2.5 * i, 50, c) for i, c in enumerate("91350100")),
            text_object(20, 10, 10, "第二页"),
        ]
    )
    document = load(data, declared_type="application/ofd", filename="licence.ofd")
    assert document.media_type == "application/ofd"
    first, second = document.pages
    assert isinstance(first, PageText) and first.source == "text_layer"
    assert first.width == pytest.approx(595.3, abs=0.1)
    assert [line.text for line in first.lines] == [TITLE, "统一社会信用代码 91350100"]
    title = first.lines[0]
    mm = 72 / 25.4
    assert title.box.x0 == pytest.approx(20 * mm)
    assert title.box.x1 == pytest.approx((20 + 4 * 8) * mm)
    assert title.box.y0 == pytest.approx(30 * mm) and title.box.y1 > title.box.y0
    assert isinstance(second, PageText) and second.index == 1
    assert [line.text for line in second.lines] == ["第二页"]


def test_ofd_without_text_is_refused_honestly() -> None:
    with pytest.raises(UnsupportedMedia, match="没有可读取的文字"):
        load(ofd(['<ofd:PathObject ID="1" Boundary="0 0 10 10"/>']))


def test_ofd_with_a_dtd_is_unreadable() -> None:
    data = ofd([text_object(1, 10, 10, "x")])
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        members = {name: archive.read(name) for name in archive.namelist()}
    members["OFD.xml"] = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa">]>' + members["OFD.xml"][38:]
    )
    with pytest.raises(UnreadableFile):
        load(_zip(members))


def test_ofd_zip_bomb_is_refused_before_inflating() -> None:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("OFD.xml", b"<ofd:OFD/>")
        archive.writestr("Doc_0/Res/pad.bin", bytes(64 * 1024 * 1024))
    with pytest.raises(FileTooLarge, match="压缩炸弹"):
        load(out.getvalue())


def test_ofd_with_too_many_pages() -> None:
    data = ofd([text_object(1, 10, 10, "x")] * 3)
    with pytest.raises(TooManyPages):
        load(data, limits=Limits(max_pages=2))


def test_broken_ofd_is_unreadable() -> None:
    with pytest.raises(UnreadableFile):
        load(_zip({"OFD.xml": b"<not xml"}))
