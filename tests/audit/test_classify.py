"""Materials under the two exemptions, each with its reason."""

from __future__ import annotations

import pytest

from matcher.audit.classify import classify_row
from matcher.audit.matching import MaterialMatcher
from matcher.audit.sheets import MaterialRow, RowProblem
from matcher.catalog.licences import load_directory


@pytest.fixture(scope="module")
def matcher() -> MaterialMatcher:
    return MaterialMatcher(load_directory())


def row(name: str, **kw: object) -> MaterialRow:
    r = MaterialRow("a.csv", 2, "X-1", "事项", "舟山市民政局", "舟山市", name)
    for key, value in kw.items():
        setattr(r, key, value)
    return r


def test_an_e_licence_names_the_licence(matcher: MaterialMatcher) -> None:
    result = classify_row(row("结婚证复印件"), matcher, "舟山市")

    assert result["classification"] == "e_licence"
    assert result["evidence"] == "结婚证" and result["type_code"] == "11100000000010888Q001"


def test_a_data_certificate_names_the_certificate(matcher: MaterialMatcher) -> None:
    result = classify_row(row("社保参保证明"), matcher, "舟山市")

    assert result["classification"] == "data_certificate"
    assert result["evidence"] == "社会保险参保证明"


def test_a_city_issued_paper_licence_is_the_first_exemption(matcher: MaterialMatcher) -> None:
    result = classify_row(row("城市道路挖掘许可证"), matcher, "舟山市")

    assert result["classification"] == "city_issued"
    assert "舟山市综合行政执法局" in result["reason"]


def test_an_unmatched_material_issued_by_this_city(matcher: MaterialMatcher) -> None:
    r = row("消防验收意见", channel="政府部门核发", channel_note="舟山市住房和城乡建设局")

    assert classify_row(r, matcher, "舟山市")["classification"] == "city_issued"
    assert classify_row(r, matcher, "宁波市")["classification"] == "not_waivable"


def test_commitment_only_where_the_list_allows_it(matcher: MaterialMatcher) -> None:
    assert (
        classify_row(row("场所平面图", commitment=True), matcher, "舟山市")["classification"]
        == "commitment"
    )
    result = classify_row(row("场所平面图"), matcher, "舟山市")
    assert result["classification"] == "not_waivable"
    assert "没有对应" in result["reason"]


def test_an_outside_paper_licence_is_not_waivable_and_says_why(matcher: MaterialMatcher) -> None:
    result = classify_row(row("毕业证书"), matcher, "舟山市")

    assert result["classification"] == "not_waivable"
    assert "暂无电子证照" in result["reason"]


def test_a_commitment_letter_is_not_waivable(matcher: MaterialMatcher) -> None:
    result = classify_row(row("身份证明承诺书"), matcher, "舟山市")

    assert result["classification"] == "not_waivable" and result["type_code"] is None
    assert "文书" in result["reason"]


def test_an_invalid_row_is_kept_as_invalid(matcher: MaterialMatcher) -> None:
    r = row("")
    r.problems.append(RowProblem("a.csv", 2, "材料名称", "材料名称为空，无法归类", fatal=True))

    result = classify_row(r, matcher, "舟山市")

    assert result["classification"] == "invalid" and result["problems"]
