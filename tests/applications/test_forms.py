"""Forms as data: the shipped forms, the schema, format checks, and how bad files are reported."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped, unused-ignore]
import pytest
import yaml

from matcher.applications.forms import FormField, load_forms
from matcher.catalog.matters import load_catalog
from matcher.catalog.yamlfiles import schema_path
from matcher.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]

VALID: dict[str, Any] = {
    "code": "test-form",
    "name": "测试申请表",
    "sections": [
        {
            "title": "申请人",
            "fields": [
                {
                    "key": "id_number",
                    "label": "公民身份号码",
                    "type": "citizen_id",
                    "required": True,
                    "sources": [
                        {
                            "kind": "e_licence",
                            "type_code": "11100000000013888E001",
                            "field": "公民身份号码",
                        },
                        {"kind": "upload", "doc_kind": "id_card_front", "field": "id_number"},
                        {"kind": "request", "field": "id"},
                    ],
                },
                {
                    "key": "sex",
                    "label": "性别",
                    "type": "sex",
                    "sources": [{"kind": "derived", "from": "id_number", "rule": "sex"}],
                },
            ],
        }
    ],
}


def _write(folder: Path, data: Any, name: str = "form.yaml") -> Path:
    path = folder / name
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return path


def test_six_sample_forms_load_and_every_catalog_form_exists() -> None:
    forms = load_forms()
    assert {f.name for f in forms} >= {
        "公司登记（备案）申请书",
        "个体工商户登记（备案）申请书",
        "不动产登记申请书",
        "海员证申请表",
        "住房公积金提取申请表",
        "建筑工程施工许可申请表",
    }
    catalog = load_catalog()
    forms.check_catalog(catalog)
    named = {m.form for m in catalog.matters if m.form}
    assert named == {f.code for f in forms}
    assert catalog.get("ent-establish").form == "company-registration"


def test_packaged_schema_matches_repo_schema() -> None:
    repo = (REPO / "schemas" / "form.schema.json").read_bytes()
    jsonschema.Draft202012Validator.check_schema(json.loads(repo))
    assert schema_path("form").read_bytes() == repo


def test_a_valid_file_loads(tmp_path: Path) -> None:
    form = load_forms(_write(tmp_path, VALID)).get("test-form")
    assert [f.key for f in form.fields] == ["id_number", "sex"]
    assert form.fields[1].section == "申请人"
    assert [s.kind for s in form.fields[0].sources] == ["e_licence", "upload", "request"]


def _mutate(path: tuple[Any, ...], value: Any) -> dict[str, Any]:
    data = copy.deepcopy(VALID)
    target: Any = data
    for part in path[:-1]:
        target = target[part]
    if value is _DELETE:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return data


_DELETE = object()
F0 = ("sections", 0, "fields", 0)
S0 = (*F0, "sources", 0)


@pytest.mark.parametrize(
    ("path", "value", "where", "message"),
    [
        ((*S0, "kind"), "e_license", "sections[0].fields[0].sources[0].kind", "is not one of"),
        ((*S0, "type_code"), _DELETE, "sections[0].fields[0].sources[0].type_code", "required"),
        (
            (*S0, "meta"),
            "number",
            "sections[0].fields[0].sources[0]",
            "exactly one of 'field' or 'meta'",
        ),
        ((*S0, "colour"), "red", "sections[0].fields[0].sources[0].colour", "unknown key"),
        ((*F0, "type"), "email", "sections[0].fields[0].type", "is not one of"),
        ((*F0, "key"), "Id Number", "sections[0].fields[0].key", "does not match"),
        ((*F0, "label"), _DELETE, "sections[0].fields[0].label", "required key is missing"),
        (
            ("sections", 0, "fields", 1, "sources", 0, "from"),
            "phone",
            "sections[0].fields[1].sources[0].from",
            "'phone' is not an earlier field of this form",
        ),
        (
            (*F0, "sources", 1, "doc_kind"),
            "passport",
            "sections[0].fields[0].sources[1].doc_kind",
            "no document kind 'passport'",
        ),
        (
            (*F0, "sources", 1, "field"),
            "colour",
            "sections[0].fields[0].sources[1].field",
            "'colour' is not a field of id_card_front",
        ),
        (
            ("sections", 0, "fields", 1, "key"),
            "id_number",
            "sections[0].fields[1].key",
            "duplicate field key 'id_number'",
        ),
    ],
)
def test_a_bad_file_is_reported_with_file_path_and_message(
    tmp_path: Path, path: tuple[Any, ...], value: Any, where: str, message: str
) -> None:
    file = _write(tmp_path, _mutate(path, value))
    with pytest.raises(CatalogError) as err:
        load_forms(file)
    assert err.value.file == str(file)
    assert err.value.path == where
    assert message in err.value.detail
    assert "(line " in err.value.detail


def test_a_catalog_naming_an_unknown_form_is_refused(tmp_path: Path) -> None:
    forms = load_forms(_write(tmp_path, VALID))
    with pytest.raises(
        CatalogError, match="matter 'ent-establish' names form 'company-registration'"
    ):
        forms.check_catalog(load_catalog())


def test_yaml_syntax_error_names_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("code: x\nsections: [\n", encoding="utf-8")
    with pytest.raises(CatalogError, match=r"bad\.yaml: YAML syntax error at line"):
        load_forms(tmp_path)


@pytest.mark.parametrize(
    ("type_", "value", "normalised", "valid"),
    [
        ("date", "1981年3月15日", "1981-03-15", True),
        ("date", "1981.03.15", "1981-03-15", True),
        ("date", "2021年2月30日", "2021-02-30", False),
        ("money", "100万元", "1000000.00", True),
        ("money", "壹佰万元整", "1000000.00", True),
        ("money", "1,000,000元", "1000000.00", True),
        ("citizen_id", "33090319830722158x", "33090319830722158X", True),
        ("citizen_id", "330902198103150315", "330902198103150315", False),
        ("uscc", "91330900MA2A1K8N01", "91330900MA2A1K8N01", True),
        ("uscc", "91330900MA2A1K8N02", "91330900MA2A1K8N02", False),
        ("id_number", "Y1330903MC0A11271X", "Y1330903MC0A11271X", True),
        ("sex", "男性", "男", True),
        ("phone", "138 0013 8000", "13800138000", True),
        ("phone", "0580-2021234", "05802021234", True),
        ("phone", "12345", "12345", False),
        ("text", "有限责任公司（自然人独资）", "有限责任公司(自然人独资)", True),
        ("text", "  ", "", False),
        ("text", "长" * 2001, "长" * 2000, False),
    ],
)
def test_a_value_is_checked_as_its_type_says(
    type_: str, value: str, normalised: str, valid: bool
) -> None:
    field = FormField(key="f", label="字段", type=type_, section="栏目")  # type: ignore[arg-type]
    checked = field.check(value)
    assert (checked.normalised, checked.valid) == (normalised, valid), checked.reason
