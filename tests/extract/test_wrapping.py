"""Values that wrap: every character kept at a join, and the value ending at the next label."""

from __future__ import annotations

import pytest

from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import ExtractedField
from tests.extract.layout import Item
from tests.extract.layout import extract as read


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def extract(kinds: DocKinds, code: str, *items: Item) -> dict[str, ExtractedField]:
    return read(kinds, code, *items)[0]


@pytest.mark.parametrize("lead", ["；", "、", "，", "。"])
def test_a_wrapped_line_starting_with_punctuation_keeps_it(kinds: DocKinds, lead: str) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("经营范围", 120, 600, 280, 640),
        ("房屋建筑工程施工", 420, 600, 800, 640),
        (f"{lead}五金产品批发", 420, 650, 760, 690),
    )
    assert fields["business_scope"].value == f"房屋建筑工程施工{lead}五金产品批发"


def test_a_colon_after_the_label_is_still_not_part_of_the_value(kinds: DocKinds) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("经营范围：", 120, 600, 300, 640),
        ("；五金", 420, 600, 560, 640),
    )
    assert fields["business_scope"].value == "五金"  # on the label's row, "；" separates


def test_a_long_business_scope_is_read_to_the_next_label_whatever_its_length(
    kinds: DocKinds,
) -> None:
    lines = [f"第{n:02d}项经营活动；" for n in range(1, 19)]
    items: list[Item] = [("经营范围", 120, 600, 280, 640)]
    items += [(text, 420, 600 + 50 * i, 820, 640 + 50 * i) for i, text in enumerate(lines)]
    below = 600 + 50 * len(lines)
    items += [("营业期限", 120, below, 280, below + 40)]
    items += [("2016年03月18日至长期", 420, below, 820, below + 40)]
    fields = extract(kinds, "business_licence", *items)
    assert fields["business_scope"].value == "".join(lines)
    assert fields["business_term"].normalised == "2016-03-18/长期"


def test_a_four_line_address_ends_at_the_number_label(kinds: DocKinds) -> None:
    parts = ["浙江省舟山市定海区", "解放西路128号", "海景花园3幢", "2单元502室"]
    items: list[Item] = [("住址", 59, 300, 130, 335)]
    items += [(text, 150, 300 + 40 * i, 500, 335 + 40 * i) for i, text in enumerate(parts)]
    items += [("公民身份号码", 59, 535, 230, 565), ("330902198103150314", 260, 535, 560, 565)]
    fields = extract(kinds, "id_card_front", *items)
    assert fields["address"].value == "".join(parts)
    assert fields["id_number"].value == "330902198103150314"


def test_a_right_column_value_wraps_though_the_left_column_runs_close_to_its_label(
    kinds: DocKinds,
) -> None:
    fields = extract(
        kinds,
        "business_licence",
        ("经营范围", 140, 945, 300, 1000),
        ("电子产品销售；软件开发；信息技术", 337, 945, 817, 1000),
        ("住", 872, 945, 910, 1000),
        ("所", 989, 945, 1027, 1000),
        ("浙江省宁波市鄞州区钱湖北路", 1074, 945, 1480, 1000),
        ("咨询服务；计算机系统服务；网络技", 337, 989, 817, 1030),
        ("246号3楼508室", 1074, 989, 1300, 1030),
    )
    assert fields["address"].value == "浙江省宁波市鄞州区钱湖北路246号3楼508室"
    assert fields["business_scope"].value == (
        "电子产品销售；软件开发；信息技术咨询服务；计算机系统服务；网络技"
    )
