"""Normalisers, validators and cross-field checks: forms, reasons, and nothing silently fixed."""

from __future__ import annotations

import datetime as dt
import json

import pytest

from matcher.catalog.matters import schema_path
from matcher.extract.validators import (
    CROSS_CHECKS,
    NORMALISERS,
    VALIDATORS,
    NormaliseFailed,
    normalise,
    validate,
)

TODAY = dt.date(2026, 6, 1)
ZHANG_WEI = "330902198103150314"  # 男, born 1981-03-15
LI_NA = "33090319830722158X"  # 女, born 1983-07-22
USCC = "91330900MA2A1K8N01"


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("1981年3月15日", "1981-03-15"),
        ("1981年03月15日", "1981-03-15"),
        ("1981 年 3 月 15 日", "1981-03-15"),
        ("1981.03.15", "1981-03-15"),
        ("1981-3-15", "1981-03-15"),
        ("1981/03/15", "1981-03-15"),
        ("19810315", "1981-03-15"),
        ("１９８１年３月１５日", "1981-03-15"),
        ("１ 9 8 ２ 年3 月1 ５ 日", "1982-03-15"),  # digits of a wide face, spaced out by OCR
    ],
)
def test_date_cn_writes_every_printed_form_as_iso(printed: str, expected: str) -> None:
    assert NORMALISERS["date_cn"](printed) == expected


def test_date_cn_refuses_a_form_it_does_not_know() -> None:
    with pytest.raises(NormaliseFailed, match="无法识别的日期"):
        NORMALISERS["date_cn"]("三月十五日")


def test_date_cn_changes_only_the_form_of_an_impossible_date() -> None:
    assert NORMALISERS["date_cn"]("2021年2月30日") == "2021-02-30"


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("2021.06.08-2041.06.08", "2021-06-08/2041-06-08"),
        ("2021.06.08-长期", "2021-06-08/长期"),
        ("2016年03月18日至2046年03月17日", "2016-03-18/2046-03-17"),
        ("2016年03月18日至长期", "2016-03-18/长期"),
        ("2012年06月01日起2082年05月31日止", "2012-06-01/2082-05-31"),
        ("2082年05月31日止", "/2082-05-31"),
        ("2021-03-04-2041-03-03", "2021-03-04/2041-03-03"),
        ("长期", "/长期"),
    ],
)
def test_date_range_writes_start_slash_end(printed: str, expected: str) -> None:
    assert NORMALISERS["date_range"](printed) == expected


def test_date_range_refuses_a_single_date_without_start_or_end_word() -> None:
    with pytest.raises(NormaliseFailed, match="无法识别的期限"):
        NORMALISERS["date_range"]("2021.06.08")


@pytest.mark.parametrize(
    ("printed", "expected"),
    [
        ("伍仟万元整", "50000000.00"),
        ("人民币伍仟万元", "50000000.00"),
        ("叁佰伍拾万元整", "3500000.00"),
        ("贰亿元整", "200000000.00"),
        ("壹亿贰仟万元", "120000000.00"),
        ("伍元零伍分", "5.05"),
        ("5000万元人民币", "50000000.00"),
        ("5,000万元", "50000000.00"),
        ("100.5万元", "1005000.00"),
    ],
)
def test_money_cn_reads_capital_numerals_and_digits_as_yuan(printed: str, expected: str) -> None:
    assert NORMALISERS["money_cn"](printed) == expected


def test_money_cn_refuses_a_foreign_currency() -> None:
    with pytest.raises(NormaliseFailed, match="不是人民币金额"):
        NORMALISERS["money_cn"]("伍佰万美元")


def test_integer_drops_the_unit() -> None:
    assert NORMALISERS["integer"]("268个月") == "268"


def test_ethnicity_drops_a_trailing_zu() -> None:
    assert [NORMALISERS["ethnicity"](v) for v in ("汉族", "汉", "蒙古族")] == ["汉", "汉", "蒙古"]


def test_cjk_brackets_makes_a_chinese_names_brackets_full_width() -> None:
    assert normalise(["cjk_brackets"], "温州三江投资管理合伙企业（有限合伙)") == (
        "温州三江投资管理合伙企业（有限合伙）"
    )
    assert normalise(["cjk_brackets"], "ACME (China) Ltd.") == "ACME (China) Ltd."


def test_normalisers_run_in_order() -> None:
    assert (
        normalise(["strip_spaces", "fullwidth_to_halfwidth", "upper"], "３３０ ９０２ｘ")
        == "330902X"
    )


def test_normalisers_never_repair_a_letter_o_in_a_number() -> None:
    assert normalise(["strip_spaces", "upper"], "33O902198103150314") == "33O902198103150314"


def test_citizen_id_passes_a_correct_number() -> None:
    assert validate(["citizen_id"], ZHANG_WEI, today=TODAY) is None


def test_citizen_id_with_a_wrong_check_digit_says_so() -> None:
    reason = validate(["citizen_id"], ZHANG_WEI[:-1] + "5", today=TODAY)
    assert reason is not None and "校验码" in reason


def test_citizen_id_with_an_impossible_birth_date_says_so() -> None:
    reason = validate(["citizen_id"], "330902198102300314", today=TODAY)
    assert reason is not None and "出生日期" in reason


def test_citizen_id_with_a_letter_o_is_invalid_not_corrected() -> None:
    reason = validate(["citizen_id"], "33O902198103150314", today=TODAY)
    assert reason is not None and "18位" in reason


def test_uscc_passes_a_correct_code() -> None:
    assert validate(["uscc"], USCC, today=TODAY) is None


def test_uscc_with_a_wrong_check_character_says_so() -> None:
    reason = validate(["uscc"], USCC[:-1] + "2", today=TODAY)
    assert reason is not None and "校验码" in reason


@pytest.mark.parametrize("value", ["2021-02-30", "2021-13-01", "2021-3-4", "长期"])
def test_date_rejects_what_is_not_a_real_iso_date(value: str) -> None:
    assert validate(["date"], value, today=TODAY) == f"不是有效日期：{value}"


def test_not_future_rejects_a_date_after_today() -> None:
    assert validate(["not_future"], "2026-06-02", today=TODAY) == "日期晚于今天"


def test_not_future_accepts_today() -> None:
    assert validate(["not_future"], "2026-06-01", today=TODAY) is None


def test_date_range_accepts_an_open_end() -> None:
    assert validate(["date_range"], "2021-06-08/长期", today=TODAY) is None


def test_date_range_rejects_a_start_after_the_end() -> None:
    reason = validate(["date_range"], "2041-06-08/2021-06-08", today=TODAY)
    assert reason == "期限的起始日期晚于截止日期"


def test_date_range_rejects_an_impossible_date() -> None:
    reason = validate(["date_range"], "2021-02-30/2041-02-28", today=TODAY)
    assert reason is not None and "无效" in reason


def test_sex_accepts_male_or_female() -> None:
    assert [validate(["sex"], v, today=TODAY) for v in ("男", "女")] == [None, None]


def test_sex_rejects_anything_else() -> None:
    assert validate(["sex"], "M", today=TODAY) == "性别应为“男”或“女”：M"


def test_the_first_failing_validator_gives_the_reason() -> None:
    assert validate(["date", "not_future"], "2099-01-01", today=TODAY) == "日期晚于今天"


def test_birth_date_matching_the_number_passes() -> None:
    check = CROSS_CHECKS["birth_date_matches_id"].check
    assert check({"birth_date": "1981-03-15", "id_number": ZHANG_WEI}) is None


def test_birth_date_not_matching_the_number_fails() -> None:
    check = CROSS_CHECKS["birth_date_matches_id"].check
    reason = check({"birth_date": "1981-03-16", "id_number": ZHANG_WEI})
    assert reason == "出生日期与公民身份号码不一致"


@pytest.mark.parametrize(("number", "sex"), [(ZHANG_WEI, "男"), (LI_NA, "女")])
def test_sex_follows_the_17th_digit(number: str, sex: str) -> None:
    assert CROSS_CHECKS["sex_matches_id"].check({"sex": sex, "id_number": number}) is None


def test_sex_not_matching_the_17th_digit_fails() -> None:
    reason = CROSS_CHECKS["sex_matches_id"].check({"sex": "女", "id_number": ZHANG_WEI})
    assert reason == "性别与公民身份号码不一致"


def test_the_schema_lists_exactly_the_named_functions() -> None:
    defs = json.loads(schema_path("doc-kind").read_text(encoding="utf-8"))["$defs"]
    assert set(defs["normaliser"]["enum"]) == set(NORMALISERS)
    assert set(defs["validator"]["enum"]) == set(VALIDATORS)
    assert set(defs["cross_check_name"]["enum"]) == set(CROSS_CHECKS)


def test_blanks_between_chinese_characters_are_dropped_others_kept() -> None:
    from matcher.extract.validators import cjk_spacing

    assert (
        cjk_spacing(" 浙江省舟山市定海区临城街道 体育路300号 ")
        == "浙江省舟山市定海区临城街道体育路300号"
    )
    assert cjk_spacing("Room 302 室") == "Room 302 室"


@pytest.mark.parametrize("unit", ["㎡", "m²", "m2", "平方米", "m", ""])
def test_area_drops_every_reading_of_the_unit(unit: str) -> None:
    from matcher.extract.validators import area

    assert area(f"共有宗地面积4216.00{unit}/房屋建筑面积98.56{unit}") == (
        "共有宗地面积4216.00/房屋建筑面积98.56"
    )


def test_traditional_characters_read_by_ocr_become_simplified_in_the_normal_form() -> None:
    from matcher.extract.validators import normalise

    assert normalise([], "浙江省嘉興市南湖區中山東路52號") == "浙江省嘉兴市南湖区中山东路52号"
    assert normalise(["ethnicity"], "漢族") == "汉"
    assert normalise(["strip_spaces", "upper"], "33090219810315031x") == "33090219810315031X"
