"""Strongly typed fields found by the shape of their value when their label cannot be read."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from matcher.errors import CatalogError
from matcher.extract.kinds import DocKinds, load_doc_kinds
from tests.extract.layout import Item, extract


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


CARD_TOP: tuple[Item, ...] = (
    ("姓名", 59, 60, 130, 95),
    ("张伟", 150, 60, 230, 95),
    ("性别", 59, 153, 130, 188),
    ("男", 150, 153, 180, 188),
)


def test_an_id_number_under_an_unreadable_label_is_found_by_its_shape(kinds: DocKinds) -> None:
    fields, warnings = extract(
        kinds,
        "id_card_front",
        *CARD_TOP,
        ("么民身仿", 59, 535, 200, 565),  # the label smudged beyond tolerance
        ("330902198103150314", 260, 535, 560, 565),
    )
    number = fields["id_number"]
    assert (number.label, number.label_read, number.found_by, number.valid) == (
        "公民身份号码",
        None,
        "shape",
        True,
    )
    assert number.normalised == "330902198103150314"
    assert "未找到“公民身份号码”标签，已按内容格式识别：公民身份号码" in warnings
    assert "缺少字段：公民身份号码" not in warnings


def test_a_number_found_by_its_shape_is_validated_as_always(kinds: DocKinds) -> None:
    fields, _ = extract(
        kinds, "id_card_front", *CARD_TOP, ("330902198103150315", 260, 535, 560, 565)
    )
    number = fields["id_number"]
    assert (number.found_by, number.valid) == ("shape", False)
    assert "校验码" in (number.reason or "")


def test_a_uscc_without_its_label_is_found_by_its_shape(kinds: DocKinds) -> None:
    fields, _ = extract(
        kinds,
        "business_licence",
        ("营业执照", 700, 300, 950, 360),
        ("91330900MA2A1K8N01", 120, 420, 560, 460),
        ("名称", 120, 600, 200, 640),
        ("舟山蓝海建设有限公司", 420, 600, 820, 640),
    )
    assert (fields["uscc"].normalised, fields["uscc"].found_by, fields["uscc"].valid) == (
        "91330900MA2A1K8N01",
        "shape",
        True,
    )


def test_two_dates_for_one_unlabelled_date_field_are_not_guessed(kinds: DocKinds) -> None:
    fields, warnings = extract(
        kinds,
        "id_card_front",
        *CARD_TOP,
        ("1981年3月15日", 150, 232, 360, 266),
        ("2021年6月8日", 150, 300, 360, 334),
        ("公民身份号码", 59, 535, 230, 565),
        ("330902198103150314", 260, 535, 560, 565),
    )
    assert "birth_date" not in fields
    assert "缺少字段：出生" in warnings


def test_a_number_another_field_holds_is_not_taken_again(kinds: DocKinds) -> None:
    fields, _ = extract(
        kinds,
        "marriage_certificate",
        ("身份证件号", 56, 260, 200, 290),
        ("330902198103150314", 220, 260, 520, 290),
        ("33090319830722158X", 220, 560, 520, 590),  # the wife's label is lost
    )
    assert fields["husband_id_number"].found_by == "label"
    assert (fields["wife_id_number"].normalised, fields["wife_id_number"].found_by) == (
        "33090319830722158X",
        "shape",
    )


def test_the_period_on_the_back_of_a_card_is_found_by_its_shape(kinds: DocKinds) -> None:
    fields, _ = extract(
        kinds,
        "id_card_back",
        ("签发机关", 100, 400, 260, 440),
        ("舟山市公安局定海区分局", 300, 400, 700, 440),
        ("2021.06.08-2041.06.08", 300, 470, 700, 510),
    )
    assert fields["valid_period"].normalised == "2021-06-08/2041-06-08"


def test_a_shape_that_is_not_a_regex_is_refused(tmp_path: Path) -> None:
    kind = {
        "code": "permit",
        "name": "许可证",
        "cert_type": "permit",
        "keywords": {"all": ["许可证"]},
        "fields": [{"name": "certificate_number", "label": "编号", "shape": "[A-"}],
    }
    path = tmp_path / "permit.yaml"
    path.write_text(yaml.safe_dump(kind, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=r"fields\[0\]\.shape: not a valid regex"):
        load_doc_kinds(path)
