"""The generated test corpus is right: its ground truth, its identifiers and its image variants."""

from __future__ import annotations

import io
import json
import re
import unicodedata
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import pymupdf
import pytest
import yaml
from PIL import Image, ImageOps

from matcher.catalog.ids import check_holder_id
from matcher.errors import InvalidIdentifier
from tests.extract import corpus
from tests.extract.corpus import FIELDS, ID_FIELDS, KINDS, LABELS, id_fields, make_samples

N = 10

_DATE = re.compile(r"(\d{4})[年.\-](\d{1,2})[月.\-](\d{1,2})日?")
_DATE_FIELDS = {
    "birth_date",
    "established_on",
    "registered_on",
    "valid_until",
    "insured_since",
}


def _date(text: str) -> str:
    m = _DATE.fullmatch(text)
    assert m, text
    return f"{m[1]}-{int(m[2]):02d}-{int(m[3]):02d}"


_CN_DIGITS = dict(zip("零壹贰叁肆伍陆柒捌玖", range(10), strict=True))
_CN_UNITS = {"拾": 10, "佰": 100, "仟": 1000}


def _yuan(text: str) -> str:
    """``叁佰伍拾万元整`` / ``1000万元人民币`` → ``3500000.00`` / ``10000000.00``."""
    text = text.removeprefix("人民币").removesuffix("人民币").removesuffix("整").removesuffix("元")
    if m := re.fullmatch(r"(\d+)万", text):
        return f"{int(m[1]) * 10_000}.00"
    total = section = digit = 0
    for char in text:
        if char in _CN_DIGITS:
            digit = _CN_DIGITS[char]
        elif char in _CN_UNITS:
            section, digit = section + digit * _CN_UNITS[char], 0
        else:
            total, section, digit = (
                total + (section + digit) * {"万": 10**4, "亿": 10**8}[char],
                0,
                0,
            )
    return f"{total + section + digit}.00"


def _normalise(field: str, printed: str) -> str:
    """The normal form of a printed value, written independently of the generator."""
    if field in _DATE_FIELDS:
        return _date(printed)
    if field == "area":
        return printed.replace("㎡", "")
    if field == "use_term":
        return "/" + _date(printed.removesuffix("止"))
    if field == "registered_capital":
        return _yuan(printed)
    if field in ("valid_period", "business_term"):
        start, end = re.split(r"-(?=\d{4}\.|长期)|至", printed)
        return f"{_date(start)}/{end if end == '长期' else _date(end)}"
    if field == "ethnicity":
        return printed.removesuffix("族")
    if field in ID_FIELDS:
        return printed.upper()
    return printed


def _squeeze(text: str) -> str:
    return "".join(text.split())


def _page_text(pdf: bytes) -> str:
    with pymupdf.open(stream=pdf) as doc:
        return "".join(page.get_text() for page in doc)


def test_every_kind_has_its_fields() -> None:
    assert set(KINDS) == set(FIELDS) == set(LABELS)
    for kind in KINDS:
        for sample in make_samples(kind, 3):
            assert sample.kind == kind
            assert tuple(sample.truth) == FIELDS[kind]
            assert set(sample.printed) == set(sample.truth)
            assert all(sample.truth.values()), sample.name


@pytest.mark.parametrize("kind", KINDS)
def test_text_layer_holds_every_value_and_label(kind: str) -> None:
    for sample in make_samples(kind, N):
        raw = _page_text(sample.pdf_bytes)
        text = _squeeze(raw)
        for field, value in sample.printed.items():
            assert _squeeze(value) in text, (sample.name, field, value)
            label = LABELS[kind][field]
            if label:
                assert label in raw, (sample.name, label)


@pytest.mark.parametrize("kind", KINDS)
def test_truth_is_the_printed_value_normalised(kind: str) -> None:
    for sample in make_samples(kind, N):
        for field, value in sample.truth.items():
            assert value == _normalise(field, sample.printed[field]), (sample.name, field)
            if field.endswith(("_date", "_until", "_since")):
                assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", value), (sample.name, field, value)


@pytest.mark.parametrize("kind", KINDS)
def test_identifiers_check_unless_flagged_invalid(kind: str) -> None:
    for sample in make_samples(kind, N):
        ids = id_fields(kind)
        assert sample.invalid_fields <= set(ids) & set(sample.truth)
        assert sample.expect_valid == (not sample.invalid_fields)
        for field in set(ids) & set(sample.truth):
            if field in sample.invalid_fields:
                with pytest.raises(InvalidIdentifier):
                    check_holder_id(ids[field], sample.truth[field])
            else:
                check_holder_id(ids[field], sample.truth[field])
        number = sample.truth.get("id_number") or sample.truth.get("certificate_number")
        if number and "birth_date" in sample.truth:
            assert number[6:14] == sample.truth["birth_date"].replace("-", "")
        if number and "sex" in sample.truth:
            assert int(number[16]) % 2 == (sample.truth["sex"] == "男")


def test_some_samples_carry_a_wrong_check_character() -> None:
    invalid = {
        (s.kind, field)
        for kind in KINDS
        for s in make_samples(kind, N)
        for field in s.invalid_fields
    }
    assert {kind for kind, _ in invalid} >= {
        "id_card_front",
        "business_licence",
        "marriage_certificate",
    }
    assert {field for _, field in invalid} >= {"id_number", "uscc", "wife_id_number"}


def test_samples_are_seeded_cached_and_prefix_stable() -> None:
    small, large = (
        make_samples("id_card_front", 3, seed=7),
        make_samples("id_card_front", 6, seed=7),
    )
    assert all(a is b for a, b in zip(small, large, strict=False))
    other = make_samples("id_card_front", 6, seed=8)
    assert [s.truth for s in large[2:]] != [s.truth for s in other[2:]]
    assert large[0].truth == other[0].truth  # sample 0 is the sandbox holder whatever the seed
    assert len({s.truth["id_number"] for s in make_samples("id_card_front", N)}) == N
    with pytest.raises(ValueError, match="unknown document kind"):
        make_samples("passport", 1)


# Sample → sandbox record: (kind, index, type_name, holder id, {field: surface label}).
_SANDBOX: list[tuple[str, int, str, str, dict[str, str]]] = [
    ("id_card_front", 0, "居民身份证", "330902198103150314", {
        "name": "姓名", "sex": "性别", "ethnicity": "民族", "birth_date": "出生", "address": "住址",
        "id_number": "公民身份号码",
    }),
    ("id_card_front", 1, "居民身份证", "33090319830722158X", {
        "name": "姓名", "birth_date": "出生", "address": "住址", "id_number": "公民身份号码",
    }),
    ("id_card_back", 0, "居民身份证", "330902198103150314", {
        "issuer": "签发机关", "valid_period": "有效期限",
    }),
    ("id_card_back", 1, "居民身份证", "330902196205050016", {
        "issuer": "签发机关", "valid_period": "有效期限",
    }),
    ("business_licence", 0, "营业执照", "91330900MA2A1K8N01", {
        "name": "名称", "uscc": "统一社会信用代码", "company_type": "类型",
        "legal_representative": "法定代表人", "registered_capital": "注册资本",
        "established_on": "成立日期", "business_term": "营业期限", "address": "住所",
        "business_scope": "经营范围",
    }),
    ("business_licence", 1, "营业执照", "91330903MA28K7P3X7", {
        "name": "名称", "uscc": "统一社会信用代码", "business_term": "营业期限",
        "address": "住所",
    }),
    ("real_estate_certificate", 0, "不动产权证书", "330902198103150314", {
        "right_holder": "权利人", "co_ownership": "共有情况", "location": "坐落",
        "unit_number": "不动产单元号", "right_type": "权利类型", "right_nature": "权利性质",
        "purpose": "用途", "area": "面积", "use_term": "使用期限",
    }),
    ("marriage_certificate", 0, "结婚证", "330902198103150314", {
        "holder_name": "持证人", "registered_on": "登记日期", "certificate_number": "结婚证字号",
        "husband_name": "男方姓名", "husband_id_number": "男方身份证件号",
        "wife_name": "女方姓名", "wife_id_number": "女方身份证件号",
    }),
    ("household_register", 0, "居民户口簿", "330902198103150314", {
        "name": "户主姓名", "relation_to_head": "与户主关系", "id_number": "公民身份号码",
        "address": "住址",
    }),
    ("seafarer_competency", 0, "海船船员适任证书", "330902198103150314", {
        "name": "姓名", "certificate_number": "证书号码", "grade": "等级", "position": "职务",
        "valid_until": "有效期至", "issuer": "签发机关",
    }),
    ("seafarer_competency", 1, "海船船员适任证书", "330902197604180031", {
        "name": "姓名", "certificate_number": "证书号码", "position": "职务",
        "valid_until": "有效期至",
    }),
]  # fmt: skip


def _sandbox_data(name: str) -> Any:
    text = resources.files("matcher").joinpath("sandbox", "data", name).read_text(encoding="utf-8")
    return yaml.safe_load(text)


@pytest.mark.parametrize(("kind", "index", "type_name", "holder", "labels"), _SANDBOX)
def test_first_samples_match_the_sandbox_registry(
    kind: str, index: int, type_name: str, holder: str, labels: dict[str, str]
) -> None:
    sample = make_samples(kind, index + 1)[index]
    (record,) = [
        r
        for r in _sandbox_data("licences.yaml")["licences"]
        if r["type_name"] == type_name and r["holder"]["id"] == holder
    ]
    assert sample.sandbox_holder is not None
    if kind == "real_estate_certificate":
        assert sample.truth["certificate_number"] == record["number"]
    for field, label in labels.items():
        expected = _normalise(field, str(record["surface"][label]))
        nfkc = unicodedata.normalize("NFKC", sample.truth[field])
        assert nfkc == unicodedata.normalize("NFKC", expected), (field, label)


def test_social_insurance_sample_matches_the_sandbox_certificate() -> None:
    sample = make_samples("social_insurance_certificate", 1)[0]
    (cert,) = [
        c
        for c in _sandbox_data("certificates.yaml")["certificates"]
        if c["holder"] == sample.sandbox_holder and c["cert_type"] == "social_insurance_record"
    ]
    data = cert["data"]
    assert sample.truth["employer"] == data["当前参保单位"]
    assert sample.truth["insurance_status"] == data["参保状态"]
    assert sample.truth["insured_since"] == data["首次参保日期"]
    assert sample.truth["paid_months"] == str(data["累计缴费月数"])


@pytest.mark.parametrize("kind", KINDS)
def test_png_is_the_clean_render(kind: str) -> None:
    sample = make_samples(kind, 1)[0]
    with Image.open(io.BytesIO(sample.png_bytes)) as im:
        assert im.format == "PNG"
        assert im.size == sample.size
    img = sample.image()
    assert img.shape == (sample.size[1], sample.size[0], 3)
    assert np.array_equal(img, corpus.decode(sample.png_bytes))
    assert 150 < img.mean() < 255  # a light page with dark print
    assert img.min() < 60


def test_page_sizes() -> None:
    assert make_samples("id_card_front", 1)[0].size == (1012, 638)
    assert make_samples("business_licence", 1)[0].size == (1654, 2339)
    assert make_samples("id_card_front", 1)[0].dpi == 300
    assert make_samples("business_licence", 1)[0].dpi == 200


@pytest.mark.parametrize("kind", ["id_card_front", "business_licence"])
def test_degrade_keeps_the_shape_and_changes_the_pixels(kind: str) -> None:
    clean = make_samples(kind, 1)[0].image()
    diffs = []
    for level in (1, 3):
        degraded = corpus.degrade(clean, level, seed=1)
        assert degraded.shape == clean.shape
        assert degraded.dtype == np.uint8
        assert 100 < degraded.mean() < 250
        diffs.append(np.abs(degraded.astype(np.int16) - clean).mean())
    assert 2 < diffs[0] < diffs[1]


def test_degrade_is_seeded() -> None:
    clean = make_samples("id_card_back", 1)[0].image()
    once = corpus.degrade(clean, 2, seed=1)
    assert np.array_equal(once, corpus.degrade(clean, 2, seed=1))
    assert not np.array_equal(once, corpus.degrade(clean, 2, seed=2))
    assert not np.array_equal(once, corpus.degrade(clean, 2, seed=1, jpeg_quality=None))
    with pytest.raises(ValueError):
        corpus.degrade(clean, 4)


def test_file_formats_round_trip() -> None:
    img = make_samples("id_card_back", 1)[0].image()
    assert np.array_equal(corpus.decode(corpus.as_png(img)), img)
    jpeg = corpus.as_jpeg(img, 90, dpi=300)
    with Image.open(io.BytesIO(jpeg)) as im:
        assert im.format == "JPEG"
        assert round(im.info["dpi"][0]) == 300
    assert np.abs(corpus.decode(jpeg).astype(np.int16) - img).mean() < 3


def test_tiff_has_one_frame_per_page() -> None:
    pages = [s.image() for s in make_samples("marriage_certificate", 2)]
    pages.append(make_samples("id_card_front", 1)[0].image())
    with Image.open(io.BytesIO(corpus.as_tiff(pages))) as im:
        assert im.format == "TIFF"
        assert getattr(im, "n_frames", 1) == 3
        for k, page in enumerate(pages):
            im.seek(k)
            assert im.size == (page.shape[1], page.shape[0])
            assert np.array_equal(np.asarray(im.convert("RGB")), page)


def test_scanned_pdf_pages_are_images_without_text() -> None:
    samples = make_samples("social_insurance_certificate", 2)
    pdf = corpus.scanned_pdf([corpus.degrade(s.image(), 1) for s in samples])
    with pymupdf.open(stream=pdf) as doc:
        assert doc.page_count == 2
        for page in doc:
            assert page.get_text().strip() == ""
            assert len(page.get_images()) == 1
            assert page.rect.width == pytest.approx(595.44, abs=0.01)  # 1654 px at 200 DPI
            (xref, *_rest) = page.get_images()[0]
            assert doc.extract_image(xref)["width"] == 1654


def test_rotate_turns_clockwise() -> None:
    img = make_samples("id_card_front", 1)[0].image()
    turned = corpus.rotate(img, 90)
    assert turned.shape == (img.shape[1], img.shape[0], 3)
    assert np.array_equal(turned[0, -1], img[0, 0])  # top-left corner goes to the top right
    assert np.array_equal(corpus.rotate(turned, 270), img)
    assert np.array_equal(corpus.rotate(corpus.rotate(img, 180), 180), img)
    with pytest.raises(ValueError):
        corpus.rotate(img, 45)


@pytest.mark.parametrize("orientation", [1, 2, 3, 4, 5, 6, 7, 8])
def test_phone_photo_exif_orientation_restores_upright(orientation: int) -> None:
    sample = make_samples("id_card_front", 1)[0]
    img = sample.image()
    upright_size = (round(img.shape[1] * 150 / 300), round(img.shape[0] * 150 / 300))
    photo = corpus.phone_photo(img, orientation, source_dpi=sample.dpi)
    reference = corpus.decode(corpus.phone_photo(img, 1, source_dpi=sample.dpi))
    with Image.open(io.BytesIO(photo)) as im:
        assert im.format == "JPEG"
        assert im.getexif()[0x0112] == orientation
        if orientation in (5, 6, 7, 8):
            assert im.size == upright_size[::-1]
        upright = ImageOps.exif_transpose(im)
    assert upright.size == upright_size
    restored = np.asarray(upright.convert("RGB"), dtype=np.int16)
    assert np.abs(restored - reference).mean() < 3
    scaled = Image.fromarray(img).resize(upright_size, Image.Resampling.LANCZOS)
    assert np.abs(restored - np.asarray(scaled, dtype=np.int16)).mean() < 20


def test_write_corpus_golden_layout(tmp_path: Path) -> None:
    paths = corpus.write_corpus(tmp_path, n_per_kind=1, seed=0)
    assert len(paths) == len(KINDS)
    index = json.loads((tmp_path / "index.json").read_text(encoding="utf-8"))
    assert [case["kind"] for case in index["cases"]] == list(KINDS)
    for path in paths:
        truth = json.loads(path.read_text(encoding="utf-8"))
        sample = make_samples(truth["kind"], 1)[0]
        assert truth["truth"] == sample.truth
        assert truth["expect_valid"] is sample.expect_valid
        assert truth["labels"] == LABELS[sample.kind]
        assert (path.parent / truth["files"]["pdf"]).read_bytes() == sample.pdf_bytes
        assert (path.parent / truth["files"]["png"]).read_bytes() == sample.png_bytes
        with Image.open(path.parent / truth["files"]["degraded"]) as im:
            assert im.format == "JPEG"
            assert im.size == sample.size
