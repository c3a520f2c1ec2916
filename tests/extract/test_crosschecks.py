"""Cross-field checks declared in the kinds: number ↔ birth date and sex, USCC ↔ region, dates."""

from __future__ import annotations

import pymupdf
import pytest

from matcher.extract.crosschecks import CROSS_CHECKS, region_of_place_names
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import ExtractedField
from matcher.extract.pipeline import ExtractOptions, Extractor
from tests.extract.layout import Item, extract

WRONG_CHECK_DIGIT = "330902198103150315"  # 张伟's number with its last digit off by one


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


# ── the acceptance case: a specimen card, read from its picture by the real engine ───────────


def specimen_card_png() -> bytes:
    """A card printing 公民身份证号码 (a variant label), a number whose check digit is wrong and
    a birth date that disagrees with the number, rendered at 300 DPI."""
    with pymupdf.open() as doc:
        page = doc.new_page(width=243, height=153)  # 85.6 × 54 mm
        for x, y, text, size, font in (
            (16, 26, "姓名  张伟", 10, "china-s"),
            (16, 46, "性别  男    民族  汉", 10, "china-s"),
            (16, 66, "出生  1982年3月15日", 10, "china-s"),
            (16, 86, "住址  浙江省舟山市定海区解放西路128号", 8, "china-s"),
            (16, 134, "公民身份证号码", 9, "china-s"),
            (90, 134, WRONG_CHECK_DIGIT, 11, "cour"),
        ):
            page.insert_text((x, y), text, fontname=font, fontsize=size)
        return bytes(page.get_pixmap(dpi=300).tobytes("png"))


@pytest.fixture(scope="module")
def specimen() -> tuple[dict[str, ExtractedField], list[str]]:
    extractor = Extractor(load_doc_kinds(), ExtractOptions())
    result = extractor.extract(specimen_card_png(), filename="card.png")
    assert result.kind == "id_card_front"
    assert all(page.source == "ocr" for page in result.pages)
    return {f.name: f for f in result.fields}, result.warnings


def test_a_variant_label_and_a_wrong_check_digit_yield_the_number_as_invalid(
    specimen: tuple[dict[str, ExtractedField], list[str]],
) -> None:
    fields, _ = specimen
    number = fields["id_number"]
    assert (number.label, number.label_read, number.normalised, number.valid) == (
        "公民身份号码",
        "公民身份证号码",
        WRONG_CHECK_DIGIT,
        False,
    )
    assert "校验码" in (number.reason or "")


def test_a_birth_date_disagreeing_with_the_number_is_flagged_on_both_fields(
    specimen: tuple[dict[str, ExtractedField], list[str]],
) -> None:
    fields, warnings = specimen
    assert (fields["birth_date"].normalised, fields["birth_date"].valid) == ("1982-03-15", False)
    assert fields["birth_date"].reason == "出生日期与公民身份号码不一致"
    assert "出生日期与公民身份号码不一致" in (fields["id_number"].reason or "")
    assert "字段核对未通过：出生日期与公民身份号码不一致" in warnings
    assert fields["sex"].valid is True  # 男 agrees with the 17th digit


# ── the checks, one by one ───────────────────────────────────────────────────────────────────

LICENCE: tuple[Item, ...] = (
    ("统一社会信用代码", 120, 400, 440, 440),
    ("名称", 120, 600, 200, 640),
    ("舟山蓝海建设有限公司", 420, 600, 820, 640),
    ("成立日期", 900, 600, 1060, 640),
    ("营业期限", 900, 700, 1060, 740),
    ("登记机关", 900, 1800, 1060, 1840),
)


def licence(uscc: str, established: str, term: str, authority: str, registered: str) -> list[Item]:
    return [
        *LICENCE,
        (uscc, 120, 450, 560, 490),
        (established, 1100, 600, 1400, 640),
        (term, 1100, 700, 1600, 740),
        (authority, 1100, 1800, 1500, 1840),
        (registered, 1150, 1880, 1450, 1920),
    ]


def test_a_consistent_licence_passes_every_check(kinds: DocKinds) -> None:
    fields, warnings = extract(
        kinds,
        "business_licence",
        *licence(
            "91330902MA2A1K8N0X"[:-1] + "Y",
            "2016年03月18日",
            "2016年03月18日至长期",
            "舟山市定海区市场监督管理局",
            "2021年05月12日",
        ),
    )
    checked = ("established_on", "business_term", "registration_authority", "registered_on")
    assert all(fields[name].valid for name in checked)
    assert not any("核对" in w for w in warnings)


def test_a_uscc_from_another_county_than_the_authority_is_flagged_on_both(kinds: DocKinds) -> None:
    fields, warnings = extract(
        kinds,
        "business_licence",
        *licence(
            "91330902MA2A1K8N01",
            "2016年03月18日",
            "2016年03月18日至长期",
            "岱山县市场监督管理局",
            "2021年05月12日",
        ),
    )
    reason = "统一社会信用代码中的行政区划码（330902）与登记机关所在地区不一致"
    assert reason in (fields["uscc"].reason or "")
    assert fields["registration_authority"].reason == reason
    assert f"字段核对未通过：{reason}" in warnings


def test_a_city_authority_may_register_a_company_of_its_districts() -> None:
    check = CROSS_CHECKS["uscc_matches_authority_region"].check
    assert check({"uscc": "91330903MA2A1K8N01", "authority": "舟山市市场监督管理局"}) is None
    assert check({"uscc": "91330903MA2A1K8N01", "authority": "市场监督管理局"}) is None


def test_place_names_are_looked_up_with_their_past_names() -> None:
    assert "330902" in region_of_place_names("舟山市定海区市场监督管理局")
    assert "120110" in region_of_place_names("东郊区")  # 东丽区 before 1992


def test_an_established_date_after_the_term_start_is_flagged(kinds: DocKinds) -> None:
    fields, warnings = extract(
        kinds,
        "business_licence",
        *licence(
            "91330900MA2A1K8N01",
            "2016年03月19日",
            "2016年03月18日至2046年03月17日",
            "舟山市市场监督管理局",
            "2021年05月12日",
        ),
    )
    reason = "成立日期晚于营业期限的起始日期"
    assert (fields["established_on"].reason, fields["business_term"].reason) == (reason, reason)
    assert f"字段核对未通过：{reason}" in warnings


def test_a_certificate_issued_on_its_last_valid_day_is_flagged() -> None:
    check = CROSS_CHECKS["dates_strictly_in_order"].check
    titles = {"earlier": "签发日期", "later": "有效期至"}
    same = {"earlier": "2031-05-01", "later": "2031-05-01"}
    assert check(same, titles) == "签发日期与有效期至为同一天"
    assert check({"earlier": "2026-05-01", "later": "2031-04-30"}, titles) is None


def test_a_sex_disagreeing_with_a_number_with_a_wrong_check_digit_is_still_flagged(
    kinds: DocKinds,
) -> None:
    fields, _ = extract(
        kinds,
        "id_card_front",
        ("性别", 59, 153, 130, 188),
        ("女", 150, 153, 180, 188),
        ("公民身份号码", 59, 535, 230, 565),
        (WRONG_CHECK_DIGIT, 260, 535, 560, 565),
    )
    assert fields["sex"].reason == "性别与公民身份号码不一致"
    reason = fields["id_number"].reason or ""
    assert "校验码" in reason and "性别与公民身份号码不一致" in reason
