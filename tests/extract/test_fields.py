"""Field extraction: born-digital PDFs of every kind, and hand-built OCR-like pages."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import pymupdf
import pytest

from matcher.extract.fields import extract_document, extract_fields, rows_of
from matcher.extract.kinds import DocKind, DocKinds, load_doc_kinds
from matcher.extract.model import Box, ExtractedField, PageText, TextLine

TODAY = dt.date(2026, 6, 1)

# (x, y, text) with y the baseline, in points; drawn at 11 pt with PyMuPDF's CJK font.
Layout = list[tuple[float, float, str]]

LAYOUTS: dict[str, Layout] = {
    "id_card_front": [
        (16, 30, "姓名"),
        (44, 30, "张伟"),
        (16, 50, "性别"),
        (44, 50, "男"),
        (80, 50, "民族"),
        (106, 50, "汉"),
        (16, 70, "出生"),
        (44, 70, "1981年3月15日"),
        (16, 90, "住址"),
        (44, 90, "浙江省舟山市定海区解放西"),
        (44, 103, "路128号3幢502室"),
        (16, 138, "公民身份号码"),
        (90, 138, "330902198103150314"),
    ],
    "id_card_back": [
        (80, 38, "中华人民共和国"),
        (80, 72, "居民身份证"),
        (40, 118, "签发机关"),
        (100, 118, "舟山市公安局定海区分局"),
        (40, 138, "有效期限"),
        (100, 138, "2021.06.08-2041.06.08"),
    ],
    "business_licence": [
        (250, 60, "营业执照"),
        (62, 100, "统一社会信用代码"),
        (62, 118, "91330900MA2A1K8N01"),
        (62, 160, "名　称"),
        (132, 160, "舟山蓝海建设有限公司"),
        (320, 160, "注册资本"),
        (382, 160, "伍仟万元整"),
        (62, 190, "类　型"),
        (132, 190, "有限责任公司（自然人投"),
        (132, 207, "资或控股）"),
        (320, 190, "成立日期"),
        (382, 190, "2016年03月18日"),
        (320, 220, "营业期限"),
        (382, 220, "2016年03月18日至"),
        (382, 237, "2046年03月17日"),
        (62, 237, "法定代表人"),
        (132, 237, "张建华"),
        (62, 267, "经营范围"),
        (132, 267, "房屋建筑工程、市政公用"),
        (132, 284, "工程施工。"),
        (320, 267, "住　所"),
        (382, 267, "浙江省舟山市定海区临城"),
        (382, 284, "街道体育路300号"),
        (320, 330, "登记机关"),
        (382, 330, "舟山市市场监督管理局"),
        (390, 360, "2021年05月12日"),
    ],
    "real_estate_certificate": [
        (330, 60, "浙(2015)舟山市不动产权第0004521号"),
        (84, 100, "权利人"),
        (158, 100, "张伟、李娜"),
        (80, 130, "共有情况"),
        (158, 130, "共同共有"),
        (92, 160, "坐落"),
        (158, 160, "定海区解放西路128号3幢502室"),
        (70, 190, "不动产单元号"),
        (158, 190, "330902001003GB00128F00030502"),
        (80, 220, "权利类型"),
        (158, 220, "国有建设用地使用权/房屋所有权"),
        (80, 250, "权利性质"),
        (158, 250, "出让/市场化商品房"),
        (92, 280, "用途"),
        (158, 280, "城镇住宅用地/住宅"),
        (92, 310, "面积"),
        (158, 303, "共有宗地面积4216.00㎡/"),
        (158, 317, "房屋建筑面积98.56㎡"),
        (80, 340, "使用期限"),
        (158, 340, "2082年05月31日止"),
    ],
    "marriage_certificate": [
        (56, 66, "持证人"),
        (130, 66, "张伟"),
        (56, 92, "登记日期"),
        (130, 92, "2012年10月08日"),
        (56, 118, "结婚证字号"),
        (130, 118, "J330902-2012-001234"),
        (56, 144, "备注"),
        (56, 212, "姓名"),
        (100, 212, "张伟"),
        (220, 212, "性别"),
        (256, 212, "男"),
        (56, 236, "国籍"),
        (100, 236, "中国"),
        (220, 236, "出生日期"),
        (278, 236, "1981年03月15日"),
        (56, 260, "身份证件号"),
        (124, 260, "330902198103150314"),
        (56, 304, "姓名"),
        (100, 304, "李娜"),
        (220, 304, "性别"),
        (256, 304, "女"),
        (56, 328, "国籍"),
        (100, 328, "中国"),
        (220, 328, "出生日期"),
        (278, 328, "1983年07月22日"),
        (56, 352, "身份证件号"),
        (124, 352, "33090319830722158X"),
    ],
    "household_register": [
        (235, 48, "常住人口登记卡"),
        (80, 90, "姓名"),
        (148, 90, "张伟"),
        (317, 90, "户主或与户主关系"),
        (418, 90, "户主"),
        (74, 124, "曾用名"),
        (344, 124, "性别"),
        (418, 124, "男"),
        (74, 158, "出生地"),
        (148, 158, "浙江省舟山市"),
        (344, 158, "民族"),
        (418, 158, "汉族"),
        (80, 192, "籍贯"),
        (148, 192, "浙江舟山"),
        (334, 192, "出生日期"),
        (418, 192, "1981年03月15日"),
        (80, 226, "住址"),
        (148, 226, "浙江省舟山市定海区解放西路128号3幢502室"),
        (58, 260, "公民身份号码"),
        (148, 260, "330902198103150314"),
        (344, 260, "身高"),
        (418, 260, "172厘米"),
        (60, 340, "承办人签章："),
        (300, 340, "登记日期："),
        (360, 340, "2009年03月15日"),
    ],
    "seafarer_competency": [
        (120, 62, "中华人民共和国海船船员适任证书"),
        (50, 180, "姓名"),
        (124, 180, "张伟"),
        (300, 180, "等级"),
        (362, 180, "甲类"),
        (50, 226, "出生日期"),
        (124, 226, "1981年03月15日"),
        (300, 226, "职务"),
        (362, 226, "大副"),
        (50, 272, "国籍"),
        (124, 272, "中国"),
        (300, 272, "有效期至"),
        (362, 272, "2036年09月14日"),
        (50, 318, "证书编号"),
        (124, 318, "330902198103150314"),
        (300, 318, "签发机关"),
        (362, 318, "中华人民共和国舟山海事局"),
    ],
    "social_insurance_certificate": [
        (210, 100, "社会保险参保证明"),
        (68, 215, "姓名"),
        (158, 215, "张伟"),
        (298, 215, "公民身份号码"),
        (396, 215, "330902198103150314"),
        (68, 247, "参保单位"),
        (158, 247, "舟山港海船员服务有限公司"),
        (68, 279, "参保状态"),
        (158, 279, "正常参保"),
        (298, 279, "参保起始日期"),
        (396, 279, "2004-07-01"),
        (68, 311, "缴费月数"),
        (158, 311, "268"),
        (298, 311, "参保地"),
        (396, 311, "浙江省舟山市"),
    ],
}

# What each layout must yield: field → normalised value.
EXPECTED: dict[str, dict[str, str]] = {
    "id_card_front": {
        "name": "张伟",
        "sex": "男",
        "ethnicity": "汉",
        "birth_date": "1981-03-15",
        "address": "浙江省舟山市定海区解放西路128号3幢502室",
        "id_number": "330902198103150314",
    },
    "id_card_back": {"issuer": "舟山市公安局定海区分局", "valid_period": "2021-06-08/2041-06-08"},
    "business_licence": {
        "uscc": "91330900MA2A1K8N01",
        "name": "舟山蓝海建设有限公司",
        "company_type": "有限责任公司（自然人投资或控股）",
        "legal_representative": "张建华",
        "registered_capital": "50000000.00",
        "established_on": "2016-03-18",
        "business_term": "2016-03-18/2046-03-17",
        "address": "浙江省舟山市定海区临城街道体育路300号",
        "business_scope": "房屋建筑工程、市政公用工程施工。",
        "registered_on": "2021-05-12",
        "registration_authority": "舟山市市场监督管理局",
    },
    "real_estate_certificate": {
        "certificate_number": "浙(2015)舟山市不动产权第0004521号",
        "right_holder": "张伟、李娜",
        "co_ownership": "共同共有",
        "location": "定海区解放西路128号3幢502室",
        "unit_number": "330902001003GB00128F00030502",
        "right_type": "国有建设用地使用权/房屋所有权",
        "right_nature": "出让/市场化商品房",
        "purpose": "城镇住宅用地/住宅",
        "area": "共有宗地面积4216.00/房屋建筑面积98.56",  # normal form: unit dropped
        "use_term": "/2082-05-31",
    },
    "marriage_certificate": {
        "holder_name": "张伟",
        "registered_on": "2012-10-08",
        "certificate_number": "J330902-2012-001234",
        "husband_name": "张伟",
        "husband_sex": "男",
        "husband_nationality": "中国",
        "husband_birth_date": "1981-03-15",
        "husband_id_number": "330902198103150314",
        "wife_name": "李娜",
        "wife_sex": "女",
        "wife_nationality": "中国",
        "wife_birth_date": "1983-07-22",
        "wife_id_number": "33090319830722158X",
    },
    "household_register": {
        "name": "张伟",
        "relation_to_head": "户主",
        "sex": "男",
        "birthplace": "浙江省舟山市",
        "ethnicity": "汉",
        "birth_date": "1981-03-15",
        "id_number": "330902198103150314",
        "address": "浙江省舟山市定海区解放西路128号3幢502室",
    },
    "seafarer_competency": {
        "name": "张伟",
        "certificate_number": "330902198103150314",
        "birth_date": "1981-03-15",
        "nationality": "中国",
        "grade": "甲类",
        "position": "大副",
        "valid_until": "2036-09-14",
        "issuer": "中华人民共和国舟山海事局",
    },
    "social_insurance_certificate": {
        "name": "张伟",
        "id_number": "330902198103150314",
        "employer": "舟山港海船员服务有限公司",
        "insurance_status": "正常参保",
        "insured_since": "2004-07-01",
        "paid_months": "268",
    },
}


def pdf_pages(layout: Layout, size: float = 11) -> list[PageText]:
    """Draw the layout into a real PDF and read its text layer back as PageText."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=595, height=842)
        for x, y, text in layout:
            page.insert_text((x, y), text, fontname="china-s", fontsize=size)
        data = doc.tobytes()
    pages = []
    with pymupdf.open(stream=data) as doc:
        for page in doc:
            lines = [
                TextLine(span["text"], 1.0, Box(*span["bbox"]), page.number)
                for block in page.get_text("dict")["blocks"]
                for line in block.get("lines", [])
                for span in line["spans"]
                if span["text"].strip()
            ]
            rect = page.rect
            pages.append(PageText(page.number, rect.width, rect.height, lines, "text_layer"))
    return pages


def ocr_page(*lines: tuple[str, float, float, float, float] | TextLine) -> PageText:
    """A page as an OCR engine gives it: (text, x0, y0, x1, y1) in pixels, confidence 0.95."""
    out = [
        item if isinstance(item, TextLine) else TextLine(item[0], 0.95, Box(*item[1:]))
        for item in lines
    ]
    return PageText(0, 1000, 630, out, "ocr")


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def by_name(fields: Sequence[ExtractedField]) -> dict[str, ExtractedField]:
    return {field.name: field for field in fields}


def extract(kind: DocKind, *pages: PageText) -> tuple[dict[str, ExtractedField], list[str]]:
    fields, warnings = extract_fields(kind, list(pages), today=TODAY)
    return by_name(fields), warnings


# ── born-digital PDFs ────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("code", sorted(LAYOUTS))
def test_a_pdf_of_each_kind_yields_every_field_exactly(kinds: DocKinds, code: str) -> None:
    fields, warnings = extract(kinds.get(code), *pdf_pages(LAYOUTS[code]))
    assert {name: field.normalised for name, field in fields.items()} == EXPECTED[code]
    assert warnings == []


@pytest.mark.parametrize("code", sorted(LAYOUTS))
def test_a_pdf_of_each_kind_yields_only_valid_fields(kinds: DocKinds, code: str) -> None:
    fields, _ = extract(kinds.get(code), *pdf_pages(LAYOUTS[code]))
    assert {name: field.reason for name, field in fields.items() if not field.valid} == {}


def test_a_text_layer_field_has_full_confidence_and_its_page(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), *pdf_pages(LAYOUTS["id_card_front"]))
    assert (fields["name"].confidence, fields["name"].page) == (1.0, 0)


def test_a_value_box_lies_right_of_its_label_on_the_label_row(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), *pdf_pages(LAYOUTS["id_card_front"]))
    box = fields["id_number"].box
    # The text layer gives one box per line; a part of it is estimated from character widths.
    assert box is not None and 82 < box.x0 < box.x1 == pytest.approx(288) and 120 < box.cy < 140


def test_a_two_line_value_box_spans_both_lines(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), *pdf_pages(LAYOUTS["id_card_front"]))
    box = fields["address"].box
    assert box is not None and box.y0 < 90 < 103 < box.y1


def test_the_value_keeps_what_was_read_and_the_label_it_was_found_by(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), *pdf_pages(LAYOUTS["id_card_front"]))
    birth = fields["birth_date"]
    assert (birth.label, birth.value, birth.normalised) == ("出生", "1981年3月15日", "1981-03-15")


def test_a_spaced_label_is_found_with_its_ideographic_space(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("business_licence"), *pdf_pages(LAYOUTS["business_licence"]))
    assert fields["address"].label == "住所"


def test_a_pdf_id_card_with_a_wrong_check_digit_is_invalid(kinds: DocKinds) -> None:
    layout = [
        (x, y, "330902198103150315" if text == "330902198103150314" else text)
        for x, y, text in LAYOUTS["id_card_front"]
    ]
    fields, _ = extract(kinds.get("id_card_front"), *pdf_pages(layout))
    number = fields["id_number"]
    assert (number.value, number.valid) == ("330902198103150315", False)
    assert number.reason is not None and "校验码" in number.reason


def test_a_pdf_licence_with_a_wrong_check_character_is_invalid(kinds: DocKinds) -> None:
    layout = [
        (x, y, "91330900MA2A1K8N02" if text == "91330900MA2A1K8N01" else text)
        for x, y, text in LAYOUTS["business_licence"]
    ]
    fields, _ = extract(kinds.get("business_licence"), *pdf_pages(layout))
    assert fields["uscc"].valid is False and "校验码" in (fields["uscc"].reason or "")


def test_a_pdf_is_recognised_and_extracted_in_one_call(kinds: DocKinds) -> None:
    result = extract_document(kinds, pdf_pages(LAYOUTS["marriage_certificate"]), today=TODAY)
    assert (result.kind, result.kind_name, len(result.fields)) == (
        "marriage_certificate",
        "结婚证",
        13,
    )


# ── OCR-like pages ───────────────────────────────────────────────────────────────────────────


def id_card(*lines: tuple[str, float, float, float, float]) -> PageText:
    return ocr_page(*lines)


def test_label_and_value_glued_in_one_token_are_split(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), id_card(("姓名张伟", 57, 74, 211, 106)))
    assert (fields["name"].label, fields["name"].value) == ("姓名", "张伟")


def test_a_label_glued_after_a_short_value_is_found(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), id_card(("性别女民族汉", 57, 153, 278, 188)))
    assert (fields["sex"].value, fields["ethnicity"].value) == ("女", "汉")


def test_a_right_column_label_boxed_with_a_long_left_value_is_found(kinds: DocKinds) -> None:
    # The detector boxed 类型's value and the right-hand column's 成立日期 as one line.
    page = ocr_page(
        ("类", 143, 731, 189, 772),
        ("型", 261, 731, 310, 770),
        ("有限责任公司（自然人投资或控股）成立日期", 330, 731, 1038, 772),
        ("2017年03月10日", 1068, 731, 1317, 770),
    )
    fields, _ = extract(kinds.get("business_licence"), page)
    assert fields["company_type"].value == "有限责任公司（自然人投资或控股）"
    assert (fields["established_on"].label, fields["established_on"].normalised) == (
        "成立日期",
        "2017-03-10",
    )


def test_a_label_word_ending_a_value_with_nothing_after_it_is_not_a_label(
    kinds: DocKinds,
) -> None:
    value = "有限责任公司（自然人投资或控股）成立日期"
    page = ocr_page(("类型", 143, 731, 310, 772), (value, 330, 731, 1038, 772))
    fields, _ = extract(kinds.get("business_licence"), page)
    assert fields["company_type"].value == value
    assert "established_on" not in fields


def test_a_label_word_deep_inside_a_value_is_not_a_label(kinds: DocKinds) -> None:
    page = id_card(("住址浙江省舟山市定海区民族路12号", 60, 316, 560, 344))
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["address"].value == "浙江省舟山市定海区民族路12号" and "ethnicity" not in fields


def test_a_label_split_over_two_tokens_is_one_label(kinds: DocKinds) -> None:
    page = id_card(
        ("公民身份", 59, 535, 160, 565),
        ("号码", 165, 535, 215, 565),
        ("330902198103150314", 250, 535, 550, 565),
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert (fields["id_number"].label, fields["id_number"].value) == (
        "公民身份号码",
        "330902198103150314",
    )


def test_a_spaced_label_that_lost_a_character_is_still_found(kinds: DocKinds) -> None:
    page = id_card(("名", 80, 74, 110, 106), ("张伟", 150, 74, 220, 106))
    fields, _ = extract(kinds.get("id_card_front"), page)
    name = fields["name"]
    assert (name.label, name.label_read, name.value) == ("姓名", "名", "张伟")


def test_a_long_label_with_a_misread_character_is_still_found(kinds: DocKinds) -> None:
    page = id_card(("公民身份号玛", 59, 535, 215, 565), ("330902198103150314", 250, 535, 550, 565))
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["id_number"].value == "330902198103150314"


def test_a_value_printed_below_its_label_is_found(kinds: DocKinds) -> None:
    page = ocr_page(
        ("统一社会信用代码", 62, 100, 230, 120),
        ("91330900MA2A1K8N01", 62, 124, 260, 144),
    )
    fields, _ = extract(kinds.get("business_licence"), page)
    assert fields["uscc"].value == "91330900MA2A1K8N01"


def test_a_value_continues_onto_the_next_aligned_row(kinds: DocKinds) -> None:
    page = id_card(
        ("住址浙江省舟山市定海区", 60, 316, 375, 344), ("环城南路18号", 125, 365, 301, 396)
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["address"].value == "浙江省舟山市定海区环城南路18号"


def test_a_value_stops_at_the_next_label_row(kinds: DocKinds) -> None:
    page = id_card(
        ("住址浙江省舟山市定海区", 60, 316, 375, 344),
        ("公民身份号码 330902198103150314", 59, 365, 550, 396),
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["address"].value == "浙江省舟山市定海区"


def test_a_single_line_field_does_not_take_the_next_row(kinds: DocKinds) -> None:
    page = id_card(("出生1990年5月12日", 59, 232, 317, 266), ("1990", 125, 270, 200, 300))
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["birth_date"].value == "1990年5月12日"


def test_text_far_right_in_another_column_is_not_part_of_the_value(kinds: DocKinds) -> None:
    page = ocr_page(
        ("法定代表人", 62, 230, 150, 250),
        ("张建华", 160, 230, 220, 250),
        ("月17日", 700, 230, 760, 250),
    )
    fields, _ = extract(kinds.get("business_licence"), page)
    assert fields["legal_representative"].value == "张建华"


def test_a_label_centred_between_two_value_lines_takes_both(kinds: DocKinds) -> None:
    page = ocr_page(
        ("共有宗地面积4216.00㎡/", 158, 290, 400, 304),
        ("面积", 80, 300, 104, 314),
        ("房屋建筑面积98.56㎡", 158, 310, 380, 324),
    )
    fields, _ = extract(kinds.get("real_estate_certificate"), page)
    assert fields["area"].value == "共有宗地面积4216.00㎡/房屋建筑面积98.56㎡"


def test_a_colon_after_the_label_is_not_part_of_the_value(kinds: DocKinds) -> None:
    page = ocr_page(("参保单位：舟山港海船员服务有限公司", 68, 240, 500, 256))
    fields, _ = extract(kinds.get("social_insurance_certificate"), page)
    assert fields["employer"].value == "舟山港海船员服务有限公司"


def test_a_letter_o_read_for_a_zero_is_kept_and_flagged(kinds: DocKinds) -> None:
    page = id_card(("公民身份号码 33O902198103150314", 59, 535, 550, 565))
    fields, _ = extract(kinds.get("id_card_front"), page)
    number = fields["id_number"]
    assert (number.value, number.normalised, number.valid) == (
        "33O902198103150314",
        "33O902198103150314",
        False,
    )


def test_a_number_read_with_blanks_inside_is_found_and_normalised(kinds: DocKinds) -> None:
    page = id_card(
        ("公民身份号码", 59, 535, 215, 565), ("330902 19810315 0314", 250, 535, 550, 565)
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert (fields["id_number"].value, fields["id_number"].normalised) == (
        "330902 19810315 0314",
        "330902198103150314",
    )


def test_a_lowercase_x_check_digit_is_normalised_to_upper_case(kinds: DocKinds) -> None:
    page = id_card(("公民身份号码 33090319830722158x", 59, 535, 550, 565))
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert (fields["id_number"].normalised, fields["id_number"].valid) == (
        "33090319830722158X",
        True,
    )


def test_an_id_number_failing_its_check_digit_is_invalid_with_a_reason(kinds: DocKinds) -> None:
    page = id_card(("公民身份号码 330902198103150315", 59, 535, 550, 565))
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["id_number"].valid is False
    assert "校验码" in (fields["id_number"].reason or "")


def test_a_birth_date_not_matching_the_number_makes_both_invalid(kinds: DocKinds) -> None:
    page = id_card(
        ("出生1981年3月16日", 59, 232, 317, 266),
        ("公民身份号码 330902198103150314", 59, 535, 550, 565),
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    reasons = {fields[n].reason for n in ("birth_date", "id_number")}
    assert reasons == {"出生日期与公民身份号码不一致"}


def test_a_sex_not_matching_the_number_makes_both_invalid(kinds: DocKinds) -> None:
    page = id_card(
        ("性别女民族汉", 57, 153, 278, 188),
        ("公民身份号码 330902198103150314", 59, 535, 550, 565),
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert (fields["sex"].valid, fields["id_number"].valid) == (False, False)
    assert fields["sex"].reason == "性别与公民身份号码不一致"


def test_no_cross_check_runs_against_a_malformed_number(kinds: DocKinds) -> None:
    page = id_card(
        ("出生1981年3月16日", 59, 232, 317, 266),
        ("公民身份号码 33O902198103150314", 59, 535, 550, 565),
    )
    fields, warnings = extract(kinds.get("id_card_front"), page)
    assert fields["birth_date"].valid is True and fields["id_number"].valid is False
    assert not any("核对" in w for w in warnings)


def test_a_future_birth_date_is_invalid(kinds: DocKinds) -> None:
    fields, _ = extract(
        kinds.get("id_card_front"), id_card(("出生2030年1月1日", 59, 232, 317, 266))
    )
    assert (fields["birth_date"].normalised, fields["birth_date"].reason) == (
        "2030-01-01",
        "日期晚于今天",
    )


def test_an_unreadable_date_keeps_its_value_with_no_normal_form(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), id_card(("出生1981年3月", 59, 232, 317, 266)))
    birth = fields["birth_date"]
    assert (birth.value, birth.normalised, birth.valid) == ("1981年3月", None, False)


def test_a_value_that_does_not_match_the_pattern_is_invalid(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), id_card(("性别未知", 57, 153, 278, 188)))
    assert (fields["sex"].value, fields["sex"].reason) == ("未知", "性别的格式不正确")


def test_a_missing_required_field_is_a_warning_not_an_empty_field(kinds: DocKinds) -> None:
    fields, warnings = extract(kinds.get("id_card_front"), id_card(("姓名张伟", 57, 74, 211, 106)))
    assert "id_number" not in fields and "缺少字段：公民身份号码" in warnings


def test_a_missing_optional_field_is_silently_absent(kinds: DocKinds) -> None:
    _, warnings = extract(kinds.get("id_card_front"), id_card(("姓名张伟", 57, 74, 211, 106)))
    assert not any("民族" in warning for warning in warnings)


def test_a_label_with_nothing_after_or_below_it_gives_no_field(kinds: DocKinds) -> None:
    fields, warnings = extract(kinds.get("id_card_front"), id_card(("姓名", 57, 74, 110, 106)))
    assert "name" not in fields and "缺少字段：姓名" in warnings


def test_confidence_is_the_lowest_of_the_value_lines(kinds: DocKinds) -> None:
    page = ocr_page(
        TextLine("住址浙江省舟山市定海区", 0.99, Box(60, 316, 375, 344)),
        TextLine("环城南路18号", 0.61, Box(125, 365, 301, 396)),
    )
    fields, _ = extract(kinds.get("id_card_front"), page)
    assert fields["address"].confidence == 0.61


def test_a_glued_value_box_covers_only_the_value_part_of_the_token(kinds: DocKinds) -> None:
    fields, _ = extract(kinds.get("id_card_front"), id_card(("姓名张伟", 0, 74, 400, 106)))
    assert fields["name"].box == Box(200, 74, 400, 106)


def test_the_second_printing_of_a_label_is_the_second_person(kinds: DocKinds) -> None:
    page = ocr_page(
        ("姓名张伟", 56, 200, 160, 216),
        ("姓名李娜", 56, 292, 160, 308),
    )
    fields, _ = extract(kinds.get("marriage_certificate"), page)
    assert (fields["husband_name"].value, fields["wife_name"].value) == ("张伟", "李娜")


def test_a_wife_printed_first_is_flagged_not_swapped(kinds: DocKinds) -> None:
    page = ocr_page(("性别女", 220, 200, 300, 216), ("性别男", 220, 292, 300, 308))
    fields, _ = extract(kinds.get("marriage_certificate"), page)
    assert (fields["husband_sex"].value, fields["husband_sex"].valid) == ("女", False)


def test_an_unlabelled_number_is_found_by_its_pattern(kinds: DocKinds) -> None:
    page = ocr_page(("浙（2021）舟山市不动产权第0012345号", 500, 60, 900, 90))
    fields, _ = extract(kinds.get("real_estate_certificate"), page)
    number = fields["certificate_number"]
    assert (number.label, number.label_read, number.found_by, number.normalised) == (
        "不动产权证书号",
        None,
        "pattern",
        "浙(2021)舟山市不动产权第0012345号",
    )


def test_fields_on_a_second_page_carry_that_page(kinds: DocKinds) -> None:
    first = ocr_page(("姓名张伟", 57, 74, 211, 106))
    line = TextLine("公民身份号码 330902198103150314", 0.9, Box(59, 535, 550, 565), 1)
    second = PageText(1, 1000, 630, [line], "ocr")
    fields, _ = extract(kinds.get("id_card_front"), first, second)
    assert (fields["name"].page, fields["id_number"].page) == (0, 1)


def test_lines_of_one_row_are_read_left_to_right(kinds: DocKinds) -> None:
    page = ocr_page(("张伟", 150, 76, 220, 104), ("姓名", 57, 74, 110, 106))
    assert [row.text for row in rows_of([page])] == ["姓名张伟"]


def test_an_unrecognised_document_says_so(kinds: DocKinds) -> None:
    result = extract_document(kinds, [ocr_page(("会议纪要", 57, 74, 211, 106))], today=TODAY)
    assert (result.kind, result.fields, result.warnings) == (None, [], ["未能识别材料类型"])
