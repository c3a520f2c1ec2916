"""Document kinds: the shipped files, the schema, load errors, and recognising a kind."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from matcher.errors import CatalogError
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import Box, PageText, TextLine
from matcher.extract.names import FIELD_NAMES
from tests.extract.test_fields import LAYOUTS, pdf_pages
from tests.sample_types import LICENCE_TYPES

REPO = Path(__file__).resolve().parents[2]

EVIDENCE = {
    "id_card_front": "11100000000013888E001",
    "id_card_back": "11100000000013888E001",
    "household_register": "11100000000013888E002",
    "business_licence": "11100000MB0143888D001",
    "real_estate_certificate": "11100000MB1D08888P001",
    "marriage_certificate": "11100000000010888Q001",
    "seafarer_competency": "11100000000019888R001",
    "social_insurance_certificate": "social_insurance_record",
}

MINIMAL: dict[str, Any] = {
    "code": "sample_kind",
    "name": "样例证明",
    "cert_type": "sample_record",
    "keywords": {"all": ["样例证明"]},
    "fields": [{"name": "name", "labels": ["姓名"], "required": True}],
}


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def write_kind(folder: Path, data: dict[str, Any], name: str = "kind.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def edited(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(MINIMAL)
    data.update(changes)
    return data


def page(*texts: str) -> PageText:
    lines = [
        TextLine(text, 0.9, Box(50, 40 + 40 * i, 50 + 30 * len(text), 64 + 40 * i))
        for i, text in enumerate(texts)
    ]
    return PageText(0, 1000, 1000, lines, "ocr")


# ── the shipped kinds ────────────────────────────────────────────────────────────────────────


def test_every_kind_the_issue_asks_for_ships(kinds: DocKinds) -> None:
    assert {kind.code: kind.evidence_type for kind in kinds} == EVIDENCE


def test_every_shipped_licence_type_is_a_known_type(kinds: DocKinds) -> None:
    codes = {kind.licence_type_code for kind in kinds if kind.licence_type_code}
    assert codes <= set(LICENCE_TYPES)


def test_every_field_name_is_canonical(kinds: DocKinds) -> None:
    assert {spec.name for kind in kinds for spec in kind.fields} <= set(FIELD_NAMES)


def test_the_packaged_schema_is_a_byte_identical_copy() -> None:
    packaged = REPO / "matcher" / "data" / "schemas" / "doc-kind.schema.json"
    assert packaged.read_bytes() == (REPO / "schemas" / "doc-kind.schema.json").read_bytes()


def test_spaced_label_variants_collapse_to_one(kinds: DocKinds) -> None:
    assert kinds.get("business_licence").field("address").labels[0] == "住所"


def test_the_id_card_maps_its_fields_to_the_registry_surface(kinds: DocKinds) -> None:
    kind = kinds.get("id_card_front")
    assert (kind.surface_label("id_number"), kind.surface_label("birth_date")) == (
        "公民身份号码",
        "出生",
    )


def test_a_field_spec_normalises_a_registry_value_like_an_extracted_one(kinds: DocKinds) -> None:
    assert kinds.get("id_card_back").field("valid_period").normalise("2021.06.08-长期") == (
        "2021-06-08/长期"
    )


def test_both_faces_of_the_id_card_belong_to_the_id_card_licence_type(kinds: DocKinds) -> None:
    faces = kinds.for_evidence_type("11100000000013888E001")
    assert [kind.code for kind in faces] == ["id_card_back", "id_card_front"]


def test_an_unknown_kind_code_lists_the_known_ones(kinds: DocKinds) -> None:
    with pytest.raises(CatalogError, match="known kinds: business_licence"):
        kinds.get("passport")


# ── load errors ──────────────────────────────────────────────────────────────────────────────


def test_a_minimal_kind_loads(tmp_path: Path) -> None:
    loaded = load_doc_kinds(write_kind(tmp_path, MINIMAL))
    assert loaded.codes() == ["sample_kind"]


def test_a_folder_loads_every_kind_file_sorted_and_skips_dotfiles(tmp_path: Path) -> None:
    write_kind(tmp_path, edited(code="b_kind"), "b.yaml")
    write_kind(tmp_path, edited(code="a_kind"), "a.yml")
    (tmp_path / ".#a.yaml").write_text("not: [valid", encoding="utf-8")
    assert load_doc_kinds(tmp_path).codes() == ["a_kind", "b_kind"]


def test_an_unknown_key_names_the_file_path_and_line(tmp_path: Path) -> None:
    data = edited()
    data["fields"][0]["lables"] = ["姓名"]
    path = write_kind(tmp_path, data)
    with pytest.raises(
        CatalogError, match=r"kind\.yaml: fields\[0\]\.lables: unknown key 'lables'"
    ):
        load_doc_kinds(path)


def test_an_unknown_normaliser_is_refused(tmp_path: Path) -> None:
    data = edited()
    data["fields"][0]["normalise"] = ["title_case"]
    with pytest.raises(CatalogError, match=r"fields\[0\]\.normalise\[0\]: 'title_case' is not one"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_non_canonical_field_name_suggests_the_closest(tmp_path: Path) -> None:
    data = edited()
    data["fields"][0]["name"] = "id_numbr"
    with pytest.raises(CatalogError, match=r"fields\[0\]\.name: .*did you mean 'id_number'"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_field_given_twice_is_refused(tmp_path: Path) -> None:
    data = edited(fields=[*MINIMAL["fields"], {"name": "name", "labels": ["名称"]}])
    with pytest.raises(CatalogError, match=r"fields\[1\]\.name: duplicate field 'name'"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_bad_regex_is_refused_where_it_is(tmp_path: Path) -> None:
    data = edited()
    data["fields"][0]["pattern"] = "[0-9"
    with pytest.raises(CatalogError, match=r"fields\[0\]\.pattern: not a valid regex"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_cross_check_on_a_missing_field_is_refused(tmp_path: Path) -> None:
    data = edited(cross_checks=["birth_date_matches_id"])
    with pytest.raises(CatalogError, match=r"cross_checks\[0\]\.fields\.birth_date: 'birth_date'"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_registry_label_for_a_missing_field_is_refused(tmp_path: Path) -> None:
    data = edited(registry_surface_labels={"address": "住址"})
    with pytest.raises(CatalogError, match=r"registry_surface_labels\.address: 'address' is not"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_kind_without_an_evidence_type_is_refused(tmp_path: Path) -> None:
    data = edited()
    del data["cert_type"]
    with pytest.raises(CatalogError, match="one of 'licence_type_code' or 'cert_type' is required"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_kind_with_both_evidence_types_is_refused(tmp_path: Path) -> None:
    data = edited(licence_type_code="11100000000013888E001")
    with pytest.raises(CatalogError, match="cert_type: not allowed together with"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_pattern_located_field_needs_a_title(tmp_path: Path) -> None:
    data = edited(fields=[{"name": "certificate_number", "locate": "pattern", "pattern": r"\d+"}])
    with pytest.raises(CatalogError, match=r"fields\[0\]\.title: required key is missing"):
        load_doc_kinds(write_kind(tmp_path, data))


def test_a_kind_code_defined_twice_names_the_first_file(tmp_path: Path) -> None:
    write_kind(tmp_path, MINIMAL, "a.yaml")
    write_kind(tmp_path, MINIMAL, "b.yaml")
    with pytest.raises(CatalogError, match=r"b\.yaml: code: duplicate kind code .*a\.yaml"):
        load_doc_kinds(tmp_path)


def test_a_file_that_is_not_a_mapping_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "kind.yaml"
    path.write_text("- code: x\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="must hold a mapping"):
        load_doc_kinds(path)


def test_a_yaml_syntax_error_gives_its_line(tmp_path: Path) -> None:
    path = tmp_path / "kind.yaml"
    path.write_text("code: x\nname: [unclosed\n", encoding="utf-8")
    with pytest.raises(CatalogError, match="YAML syntax error at line"):
        load_doc_kinds(path)


def test_a_missing_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such document kind file or folder"):
        load_doc_kinds(tmp_path / "absent")


def test_an_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="folder holds no"):
        load_doc_kinds(tmp_path)


# ── recognition ──────────────────────────────────────────────────────────────────────────────


@pytest.mark.parametrize("code", sorted(LAYOUTS))
def test_a_pdf_of_each_kind_is_recognised(kinds: DocKinds, code: str) -> None:
    recognised = kinds.recognise(pdf_pages(LAYOUTS[code]))
    assert recognised is not None and recognised.code == code


def test_a_keyword_with_a_misread_character_still_counts(kinds: DocKinds) -> None:
    recognised = kinds.recognise([page("姓名张伟", "公民身份号玛 330902198103150314")])
    assert recognised is not None and recognised.code == "id_card_front"


def test_a_household_page_is_not_taken_for_an_id_card(kinds: DocKinds) -> None:
    recognised = kinds.recognise(
        [page("常住人口登记卡", "姓名张伟", "公民身份号码330902198103150314")]
    )
    assert recognised is not None and recognised.code == "household_register"


def test_a_page_matching_no_kind_is_not_recognised(kinds: DocKinds) -> None:
    assert kinds.recognise([page("会议纪要", "参会人员")]) is None


def test_an_expected_kind_that_matches_gives_no_warning(kinds: DocKinds) -> None:
    warnings: list[str] = []
    kind = kinds.recognise(pdf_pages(LAYOUTS["id_card_back"]), "id_card_back", warnings=warnings)
    assert kind is not None and kind.code == "id_card_back" and warnings == []


def test_an_expected_kind_that_does_not_match_is_still_tried_with_a_warning(
    kinds: DocKinds,
) -> None:
    warnings: list[str] = []
    pages = pdf_pages(LAYOUTS["id_card_front"])
    kind = kinds.recognise(pages, "business_licence", warnings=warnings)
    assert kind is not None and kind.code == "business_licence"
    assert warnings == [
        "材料内容与预期的“营业执照”不符（未找到：营业执照），"
        "看起来更像“居民身份证（人像面）”，仍按预期类型提取"
    ]


def test_an_unknown_expected_kind_is_refused(kinds: DocKinds) -> None:
    with pytest.raises(CatalogError, match="no document kind 'passport'"):
        kinds.recognise([page("姓名张伟")], "passport")
