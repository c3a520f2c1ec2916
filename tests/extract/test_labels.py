"""Labels as real documents print them: variants, wide spacing, colons, pieces over lines."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.errors import CatalogError
from matcher.extract.fields import extract_fields
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import Box, ExtractedField, PageText, TextLine

TODAY = dt.date(2026, 6, 1)
Item = tuple[str, float, float, float, float]


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def page(*items: Item, width: float = 1654, height: float = 2339) -> PageText:
    """An OCR page: (text, x0, y0, x1, y1) in pixels."""
    lines = [TextLine(t, 0.95, Box(x0, y0, x1, y1)) for t, x0, y0, x1, y1 in items]
    return PageText(0, width, height, lines, "ocr")


def extract(kinds: DocKinds, code: str, *items: Item) -> dict[str, ExtractedField]:
    fields, _ = extract_fields(kinds.get(code), [page(*items)], today=TODAY)
    return {f.name: f for f in fields}


def test_a_variant_number_label_yields_the_number_under_the_canonical_label(
    kinds: DocKinds,
) -> None:
    fields = extract(
        kinds,
        "id_card_front",
        ("公民身份证号码", 59, 535, 230, 565),
        ("330902198103150314", 260, 535, 560, 565),
    )
    number = fields["id_number"]
    assert (number.label, number.label_read, number.normalised, number.valid) == (
        "公民身份号码",
        "公民身份证号码",
        "330902198103150314",
        True,
    )


@pytest.mark.parametrize(
    ("printed", "name", "canonical"),
    [
        ("经营场所", "address", "住所"),
        ("主要经营场所", "address", "住所"),
        ("经营者", "legal_representative", "法定代表人"),
        ("执行事务合伙人", "legal_representative", "法定代表人"),
        ("负责人", "legal_representative", "法定代表人"),
    ],
)
def test_a_licence_label_variant_reports_the_canonical_label(
    kinds: DocKinds, printed: str, name: str, canonical: str
) -> None:
    fields = extract(
        kinds,
        "business_licence",
        (printed, 120, 600, 120 + 40 * len(printed), 640),
        ("舟山市定海区环城南路8号", 420, 600, 900, 640),
    )
    assert (fields[name].label, fields[name].label_read, fields[name].value) == (
        canonical,
        printed,
        "舟山市定海区环城南路8号",
    )


def test_a_wide_spaced_label_read_as_two_boxes_is_one_label(kinds: DocKinds) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("名", 120, 600, 160, 640),
        ("称", 260, 600, 300, 640),
        ("舟山蓝海建设有限公司", 420, 600, 820, 640),
    )
    name = fields["name"]
    assert (name.label, name.label_read, name.value) == ("名称", "名称", "舟山蓝海建设有限公司")


@pytest.mark.parametrize("colon", ["：", ":"])
def test_a_colon_glued_to_a_label_that_lost_a_character_is_not_read(
    kinds: DocKinds, colon: str
) -> None:
    fields = extract(
        kinds, "business_licence", (f"称{colon}舟山蓝海建设有限公司", 120, 600, 700, 640)
    )
    assert (fields["name"].label, fields["name"].value) == ("名称", "舟山蓝海建设有限公司")


def test_a_label_wrapped_in_a_narrow_cell_is_found_and_its_centred_value_read(
    kinds: DocKinds,
) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("法定代", 120, 600, 240, 640),
        ("张建华", 420, 625, 540, 665),
        ("表人", 120, 650, 200, 690),
    )
    rep = fields["legal_representative"]
    assert (rep.label, rep.label_read, rep.value) == ("法定代表人", "法定代表人", "张建华")


def test_a_vertical_label_one_character_per_line_takes_the_value_beside_it(
    kinds: DocKinds,
) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("经", 120, 600, 160, 640),
        ("房屋建筑工程、市政公用工程施工；", 420, 600, 1100, 640),
        ("营", 120, 660, 160, 700),
        ("五金产品批发；建筑材料销售。", 420, 660, 1000, 700),
        ("范", 120, 720, 160, 760),
        ("围", 120, 780, 160, 820),
    )
    scope = fields["business_scope"]
    assert (scope.label, scope.value) == (
        "经营范围",
        "房屋建筑工程、市政公用工程施工；五金产品批发；建筑材料销售。",
    )


def test_single_characters_of_values_are_not_taken_for_a_vertical_label(kinds: DocKinds) -> None:
    fields = extract(
        kinds,
        "id_card_front",
        ("性别", 59, 153, 130, 188),
        ("男", 150, 153, 180, 188),
        ("民族", 250, 153, 320, 188),
        ("汉", 340, 153, 370, 188),
    )
    assert {n: f.value for n, f in fields.items()} == {"sex": "男", "ethnicity": "汉"}


# ── the kind file ────────────────────────────────────────────────────────────────────────────

KIND: dict[str, Any] = {
    "code": "permit",
    "name": "许可证",
    "cert_type": "permit",
    "keywords": {"all": ["许可证"]},
}


def load(tmp_path: Path, *fields: dict[str, Any]) -> DocKinds:
    path = tmp_path / "permit.yaml"
    path.write_text(yaml.safe_dump({**KIND, "fields": list(fields)}, allow_unicode=True), "utf-8")
    return load_doc_kinds(path)


def test_a_field_declares_its_canonical_label_and_variants(tmp_path: Path) -> None:
    kinds = load(tmp_path, {"name": "address", "label": "住　所", "variants": ["经营场所"]})
    assert kinds.get("permit").field("address").labels == ("住所", "经营场所")


def test_the_older_list_of_labels_still_loads_canonical_first(tmp_path: Path) -> None:
    kinds = load(tmp_path, {"name": "address", "labels": ["住所", "经营场所"]})
    spec = kinds.get("permit").field("address")
    assert (spec.label, spec.labels) == ("住所", ("住所", "经营场所"))


def test_a_list_of_labels_with_variants_beside_it_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"fields\[0\]"):
        load(tmp_path, {"name": "address", "labels": ["住所"], "variants": ["经营场所"]})


def test_a_field_with_neither_label_nor_pattern_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match=r"fields\[0\]"):
        load(tmp_path, {"name": "address", "variants": ["经营场所"]})


# ── what real prints and engines did to labels ───────────────────────────────────────────────


def test_a_value_before_a_variant_label_is_not_read_as_a_misprinted_label(
    kinds: DocKinds,
) -> None:
    fields = extract(
        kinds,
        "social_insurance_certificate",
        ("姓名", 160, 430, 240, 480),
        ("潘雨", 425, 430, 505, 480),
        ("身份证号码", 827, 430, 1010, 480),
        ("330402200407237729", 1090, 430, 1480, 480),
    )
    assert (fields["name"].value, fields["id_number"].label_read) == ("潘雨", "身份证号码")


def test_a_tall_label_beside_two_lines_of_its_value_keeps_them_in_order(
    kinds: DocKinds,
) -> None:
    """经营 read as one tall box beside both lines of the value, 范 and 围 under it; the value's
    second line starts 2 px further left than its first (a table-style licence)."""
    fields = extract(
        kinds,
        "business_licence",
        ("法定代表人", 170, 1191, 330, 1242),
        ("曹欣国", 355, 1191, 475, 1242),
        ("住", 172, 1311, 236, 1362),
        ("所", 258, 1311, 317, 1362),
        ("浙江省温州市鹿城区车站大道861号12楼2902室", 355, 1316, 1074, 1357),
        ("经营", 209, 1416, 270, 1557),
        (
            "餐饮服务；餐饮管理；食品销售；外卖递送服务；酒类经营；非居住房地产租",
            357,
            1425,
            1452,
            1464,
        ),
        ("赁；会议及展览服务。", 355, 1471, 665, 1521),
        ("范", 216, 1542, 265, 1613),
        ("围", 214, 1617, 268, 1674),
    )
    scope = fields["business_scope"]
    assert (scope.label, scope.normalised) == (
        "经营范围",
        "餐饮服务；餐饮管理；食品销售；外卖递送服务；酒类经营；非居住房地产租赁；会议及展览服务。",
    )
    assert fields["address"].value == "浙江省温州市鹿城区车站大道861号12楼2902室"


def test_a_vertical_label_read_as_one_tall_line_takes_the_lines_level_with_it(
    kinds: DocKinds,
) -> None:
    """An engine read 经营范 as one tall line and left 围 under it; the value's first line lies
    above the tall line's centre, its second beside it."""
    fields = extract(
        kinds,
        "business_licence",
        ("法定代表人", 160, 1000, 330, 1050),
        ("张建华", 500, 1000, 620, 1050),
        ("电子产品销售；软件开发；信息技术服", 503, 1324, 1480, 1379),
        ("经营范", 357, 1321, 410, 1526),
        ("务；数据处理服务。", 506, 1420, 1000, 1470),
        ("围", 366, 1531, 410, 1581),
    )
    scope = fields["business_scope"]
    assert (scope.label, scope.label_read, scope.normalised) == (
        "经营范围",
        "经营范围",
        "电子产品销售；软件开发；信息技术服务；数据处理服务。",
    )
    assert fields["legal_representative"].value == "张建华"
