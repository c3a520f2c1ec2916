"""Material names are matched to directory types after normalisation; documents never match."""

from __future__ import annotations

import pytest

from matcher.audit.matching import MaterialMatcher, normalise_name
from matcher.catalog.licences import load_directory


@pytest.fixture(scope="module")
def matcher() -> MaterialMatcher:
    return MaterialMatcher(load_directory())


@pytest.mark.parametrize(
    "name",
    [
        "身份证复印件",
        "申请人有效身份证件",
        "居民身份证原件及复印件",
        "身份证（正反面）1份",
        "居民身份證",
    ],
)
def test_id_card_phrasings_are_one_licence_type(matcher: MaterialMatcher, name: str) -> None:
    match = matcher.match(name)

    assert match.type is not None and match.type.name == "居民身份证"
    assert match.score >= 80


@pytest.mark.parametrize(
    "name", ["身份证明承诺书", "营业执照变更申请书", "结婚证遗失声明", "户口簿迁移情况说明"]
)
def test_documents_that_mention_a_licence_do_not_match(matcher: MaterialMatcher, name: str) -> None:
    match = matcher.match(name)

    assert match.type is None
    assert match.document
    assert "文书" in match.reason


def test_width_brackets_and_copies_are_normalised() -> None:
    assert normalise_name("营业执照（副本）复印件加盖公章　２份") == "营业执照"
    assert normalise_name("［户口本］原件") == "户口本"


def test_a_name_naming_two_types_is_matched_for_review(matcher: MaterialMatcher) -> None:
    match = matcher.match("身份证及户口簿")

    assert match.type is not None and match.needs_review
    assert "需人工确认" in match.reason


def test_a_close_misspelling_matches_with_its_similarity(matcher: MaterialMatcher) -> None:
    match = matcher.match("居民身分证")

    assert match.type is not None and match.type.name == "居民身份证"
    assert "相似度" in match.reason and match.score < 100


def test_an_unrelated_material_matches_nothing(matcher: MaterialMatcher) -> None:
    match = matcher.match("公司章程")

    assert match.type is None and match.score < 80


def test_a_data_certificate_inside_a_longer_name(matcher: MaterialMatcher) -> None:
    match = matcher.match("法定代表人任职资格证明（无犯罪记录证明）")

    assert match.type is not None and match.type.kind == "data_certificate"
    assert match.type.code == "no_criminal_record"


def test_the_threshold_decides_what_counts(matcher: MaterialMatcher) -> None:
    strict = MaterialMatcher(load_directory(), threshold=95)

    assert matcher.match("居民身分证").type is not None
    loose = strict.match("居民身分证")
    assert loose.type is None and loose.candidate is not None
    assert "低于匹配阈值95" in loose.reason
