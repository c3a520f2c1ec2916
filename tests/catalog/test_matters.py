"""The catalog: the shipped sample, the schema, and how bad catalog files are reported."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml
from pydantic import ValidationError

from matcher.catalog.licences import load_directory
from matcher.catalog.matters import EvidenceSpec, load_catalog, schema_path
from matcher.errors import CatalogError, UnknownMatter
from tests.sample_types import LICENCE_TYPES

REPO = Path(__file__).resolve().parents[2]
DIRECTORY_TYPES = {t.code for t in load_directory().licence_types}
DIRECTORY_CERTS = {t.code for t in load_directory().certificate_types}

CERT_TYPES = {
    "social_insurance_record",
    "tax_payment_record",
    "no_criminal_record",
    "provident_fund_record",
    "marriage_record",
    "real_estate_record",
    "household_record",
    "residence_record",
    "enterprise_credit_record",
}

VALID_MATTER: dict[str, Any] = {
    "code": "m1",
    "name": "企业设立登记",
    "department": "舟山市市场监督管理局",
    "materials": [
        {
            "code": "id-card",
            "name": "居民身份证",
            "required": True,
            "issued_by_city": False,
            "evidence": [
                {"kind": "e_licence", "type_code": "11100000000013888E001"},
                {"kind": "data_certificate", "cert_type": "household_record"},
            ],
        },
        {
            "code": "application",
            "name": "申请书",
            "required": True,
            "issued_by_city": False,
            "evidence": [],
        },
    ],
}


def write_catalog(folder: Path, name: str, *matters: dict[str, Any]) -> Path:
    path = folder / name
    text = yaml.safe_dump({"matters": list(matters)}, allow_unicode=True, sort_keys=False)
    path.write_text(text, encoding="utf-8")
    return path


def matter(
    code: str = "m1", edit: Callable[[dict[str, Any]], object] | None = None
) -> dict[str, Any]:
    result = copy.deepcopy(VALID_MATTER)
    result["code"] = code
    if edit is not None:
        edit(result)
    return result


def first_evidence(m: dict[str, Any]) -> dict[str, Any]:
    evidence: dict[str, Any] = m["materials"][0]["evidence"][0]
    return evidence


# --- the shipped sample ------------------------------------------------------------------


def test_sample_catalog_has_at_least_12_matters_and_60_materials() -> None:
    catalog = load_catalog()

    assert len(catalog) >= 12
    assert sum(len(m.materials) for m in catalog.matters) >= 60


def test_sample_licence_evidence_uses_only_the_directorys_type_codes() -> None:
    used = {
        spec.type
        for m in load_catalog().matters
        for material in m.materials
        for spec in material.evidence
        if spec.kind == "e_licence"
    }

    # the sandbox registry holds a part of them; the licence directory knows them all
    assert LICENCE_TYPES.keys() <= DIRECTORY_TYPES
    assert used <= DIRECTORY_TYPES


def test_sample_certificate_evidence_uses_only_the_directorys_cert_types() -> None:
    used = {
        spec.type
        for m in load_catalog().matters
        for material in m.materials
        for spec in material.evidence
        if spec.kind == "data_certificate"
    }

    assert CERT_TYPES <= DIRECTORY_CERTS
    assert used <= DIRECTORY_CERTS


def test_sample_ent_establish_asks_for_the_real_list_and_situations_apart() -> None:
    matter = load_catalog().get("ent-establish")
    always = [m.name for m in matter.materials if m.situation is None]
    # 《市场主体登记管理条例实施细则》: no 户籍、居住、无犯罪、社保或纳税证明
    assert always == [
        "公司登记（备案）申请书",
        "公司章程",
        "股东的主体资格文件或自然人身份证明",
        "法定代表人身份证明",
        "法定代表人、董事、监事和高级管理人员的任职文件",
        "住所（经营场所）使用证明",
    ]
    assert {m.situation for m in matter.materials if m.situation} == {
        "spouses-joint-investment",
        "corporate-shareholder",
        "agent",
    }
    assert [m.code for m in matter.materials if m.application_form] == ["application"]


def test_sample_has_a_matter_for_an_organisation_with_its_licence() -> None:
    # 食品经营许可: the market entity applies; its own 营业执照 stands in.
    licence = load_catalog().get("food-business-licence").material("business-licence")
    assert [(s.type, s.holder_role) for s in licence.evidence] == [
        ("11100000MB0143888D001", "applicant")
    ]


def test_sample_matters_keep_file_order() -> None:
    codes = [m.code for m in load_catalog().matters]

    # business.yaml sorts first, and ent-establish is its first matter.
    assert codes[0] == "ent-establish"


# --- the schema --------------------------------------------------------------------------


def test_repo_schema_is_a_valid_draft_2020_12_schema() -> None:
    schema = json.loads((REPO / "schemas" / "catalog.schema.json").read_text(encoding="utf-8"))

    jsonschema.Draft202012Validator.check_schema(schema)


def test_packaged_schema_matches_repo_schema() -> None:
    repo_schema = (REPO / "schemas" / "catalog.schema.json").read_bytes()

    assert schema_path("catalog").read_bytes() == repo_schema


# --- the models --------------------------------------------------------------------------


def test_evidence_type_is_the_type_code_for_an_e_licence() -> None:
    spec = EvidenceSpec(kind="e_licence", type_code="11100000000013888E001")

    assert spec.type == "11100000000013888E001"


def test_evidence_type_is_the_cert_type_for_a_data_certificate() -> None:
    spec = EvidenceSpec(kind="data_certificate", cert_type="tax_payment_record")

    assert spec.type == "tax_payment_record"


def test_evidence_holder_role_defaults_to_applicant() -> None:
    assert EvidenceSpec(kind="e_licence", type_code="X").holder_role == "applicant"


def test_evidence_with_the_other_kinds_code_is_refused() -> None:
    with pytest.raises(ValidationError, match="cert_type is not allowed"):
        EvidenceSpec(kind="e_licence", type_code="X", cert_type="tax_payment_record")


def test_accept_commitment_defaults_to_false(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, "c.yaml", matter()))

    assert catalog.get("m1").materials[0].accept_commitment is False


def test_the_portal_list_fields_load_and_default_to_unknown(tmp_path: Path) -> None:
    def listed(m: dict[str, Any]) -> None:
        m |= {"domain": "商事登记", "list_source": "《市场主体登记管理条例实施细则》"}
        m["materials"][0] |= {"channel": "government", "medium": "electronic", "copies": 1}

    catalog = load_catalog(write_catalog(tmp_path, "c.yaml", matter("m1", listed), matter("m2")))

    m1, m2 = catalog.get("m1"), catalog.get("m2")
    assert (m1.domain, m1.implementation_code) == ("商事登记", None)
    assert (m1.materials[0].channel, m1.materials[0].medium, m1.materials[0].copies) == (
        "government",
        "electronic",
        1,
    )
    assert (m2.domain, m2.list_source, m2.materials[0].channel, m2.materials[0].copies) == (
        None,
        None,
        None,
        None,
    )


def _application_form(m: dict[str, Any]) -> None:
    m["materials"][1]["application_form"] = True


def test_an_application_form_material_needs_the_matters_form(tmp_path: Path) -> None:
    no_form = write_catalog(tmp_path, "a.yaml", matter("m1", _application_form))
    with pytest.raises(CatalogError, match="marked application_form, but the matter names no form"):
        load_catalog(no_form)

    def two(m: dict[str, Any]) -> None:
        _application_form(m)
        m["form"] = "company-registration"
        m["materials"][0]["application_form"] = True

    with pytest.raises(CatalogError, match="more than one material is marked application_form"):
        load_catalog(write_catalog(tmp_path, "b.yaml", matter("m1", two)))

    def with_form(m: dict[str, Any]) -> None:
        _application_form(m)
        m["form"] = "company-registration"

    loaded = load_catalog(write_catalog(tmp_path, "c.yaml", matter("m1", with_form)))
    assert [x.application_form for x in loaded.get("m1").materials] == [False, True]


def test_get_returns_the_matter_with_that_code(tmp_path: Path) -> None:
    catalog = load_catalog(write_catalog(tmp_path, "c.yaml", matter("m1"), matter("m2")))

    assert catalog.get("m2").code == "m2"


def test_get_of_an_unknown_code_raises_unknown_matter() -> None:
    with pytest.raises(UnknownMatter, match="'no-such-matter'"):
        load_catalog().get("no-such-matter")


def test_unknown_matter_is_a_catalog_error() -> None:
    assert issubclass(UnknownMatter, CatalogError)


def test_get_suggests_close_codes() -> None:
    with pytest.raises(UnknownMatter, match="did you mean 'ent-establish'"):
        load_catalog().get("ent-establsh")


def test_material_of_an_unknown_code_raises() -> None:
    with pytest.raises(CatalogError, match="'no-such-material'"):
        load_catalog().get("ent-establish").material("no-such-material")


# --- bad catalog files -------------------------------------------------------------------


def _wrong_kind(m: dict[str, Any]) -> None:
    m["materials"][0]["evidence"][1]["kind"] = "data_cert"


def _no_materials(m: dict[str, Any]) -> None:
    del m["materials"]


def _unknown_key(m: dict[str, Any]) -> None:
    m["materials"][1]["colour"] = "red"


def _both_codes(m: dict[str, Any]) -> None:
    first_evidence(m)["cert_type"] = "tax_payment_record"


def _missing_type_code(m: dict[str, Any]) -> None:
    del first_evidence(m)["type_code"]


def _bad_holder_role(m: dict[str, Any]) -> None:
    first_evidence(m)["holder_role"] = "Legal-Rep"


def _duplicate_material(m: dict[str, Any]) -> None:
    m["materials"][1]["code"] = "id-card"


def _empty_materials(m: dict[str, Any]) -> None:
    m["materials"] = []


def _number_for_bool(m: dict[str, Any]) -> None:
    m["materials"][0]["required"] = 1


@pytest.mark.parametrize(
    ("edit", "path"),
    [
        (_wrong_kind, "matters[1].materials[0].evidence[1].kind"),
        (_no_materials, "matters[1].materials"),
        (_unknown_key, "matters[1].materials[1].colour"),
        (_both_codes, "matters[1].materials[0].evidence[0].cert_type"),
        (_missing_type_code, "matters[1].materials[0].evidence[0].type_code"),
        (_bad_holder_role, "matters[1].materials[0].evidence[0].holder_role"),
        (_duplicate_material, "matters[1].materials[1].code"),
        (_empty_materials, "matters[1].materials"),
        (_number_for_bool, "matters[1].materials[0].required"),
    ],
    ids=lambda value: value.__name__.strip("_") if callable(value) else None,
)
def test_bad_catalog_error_names_the_file_and_json_path(
    tmp_path: Path, edit: Callable[[dict[str, Any]], None], path: str
) -> None:
    file = write_catalog(tmp_path, "bad.yaml", matter("m0"), matter("m1", edit))

    with pytest.raises(CatalogError) as caught:
        load_catalog(file)

    assert (caught.value.file, caught.value.path) == (str(file), path)
    assert str(file) in str(caught.value)
    assert path in str(caught.value)


def test_bad_catalog_error_gives_the_line(tmp_path: Path) -> None:
    file = write_catalog(tmp_path, "bad.yaml", matter(edit=_wrong_kind))
    line = next(
        n
        for n, text in enumerate(file.read_text(encoding="utf-8").splitlines(), 1)
        if "data_cert" in text
    )

    with pytest.raises(CatalogError, match=rf"\(line {line}\)"):
        load_catalog(file)


def test_bad_catalog_error_says_what_is_wrong(tmp_path: Path) -> None:
    file = write_catalog(tmp_path, "bad.yaml", matter(edit=_wrong_kind))

    with pytest.raises(
        CatalogError, match="'data_cert' is not one of 'e_licence', 'data_certificate'"
    ):
        load_catalog(file)


def test_yaml_syntax_error_names_the_file_and_line(tmp_path: Path) -> None:
    file = tmp_path / "broken.yaml"
    file.write_text("matters:\n  - code: m1\n    name: [unclosed\n", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"broken\.yaml: YAML syntax error at line \d+"):
        load_catalog(file)


def test_a_key_given_twice_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "twice.yaml"
    file.write_text("matters: []\nmatters: []\n", encoding="utf-8")

    with pytest.raises(CatalogError, match="'matters' appears twice"):
        load_catalog(file)


def test_empty_file_is_refused(tmp_path: Path) -> None:
    file = tmp_path / "empty.yaml"
    file.write_text("", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"empty\.yaml: the file must hold a mapping"):
        load_catalog(file)


def test_missing_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(CatalogError, match="no such catalog file or folder"):
        load_catalog(tmp_path / "absent.yaml")


def test_folder_without_catalog_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("not a catalog", encoding="utf-8")

    with pytest.raises(CatalogError, match=r"no \*\.yaml or \*\.yml catalog files"):
        load_catalog(tmp_path)


def test_duplicate_matter_across_files_names_both_files(tmp_path: Path) -> None:
    first = write_catalog(tmp_path, "a.yaml", matter("m1"))
    second = write_catalog(tmp_path, "b.yml", matter("m2"), matter("m1"))

    with pytest.raises(CatalogError, match=f"first defined in {re.escape(str(first))}") as caught:
        load_catalog(tmp_path)

    assert (caught.value.file, caught.value.path) == (str(second), "matters[1].code")


def test_utf8_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    file = write_catalog(tmp_path, "bom.yaml", matter())
    file.write_bytes(b"\xef\xbb\xbf" + file.read_bytes())

    assert len(load_catalog(file)) == 1


# --- folders -----------------------------------------------------------------------------


def test_folder_merges_its_files_sorted_by_name(tmp_path: Path) -> None:
    write_catalog(tmp_path, "b.yml", matter("m3"))
    write_catalog(tmp_path, "a.yaml", matter("m1"), matter("m2"))

    catalog = load_catalog(str(tmp_path))

    assert [m.code for m in catalog.matters] == ["m1", "m2", "m3"]


def test_folder_skips_other_files_and_dotfiles(tmp_path: Path) -> None:
    write_catalog(tmp_path, "a.yaml", matter("m1"))
    write_catalog(tmp_path, ".#a.yaml", matter("lock"))
    write_catalog(tmp_path, "a.yaml.bak", matter("backup"))

    assert [m.code for m in load_catalog(tmp_path).matters] == ["m1"]
