"""The licence directory (证照目录): shipped data, schema, and the sample catalog's codes."""

from __future__ import annotations

import json
from pathlib import Path

import jsonschema
import pytest

from matcher.catalog.licences import load_directory
from matcher.catalog.matters import load_catalog
from matcher.catalog.yamlfiles import schema_path
from matcher.errors import CatalogError

REPO = Path(__file__).resolve().parents[2]


def test_shipped_directory_has_sixty_licence_types_and_the_certificate_types() -> None:
    directory = load_directory()

    assert len(directory.licence_types) >= 60
    assert any(t.level == "local" for t in directory.licence_types)
    certs = {t.code for t in directory.certificate_types}
    assert {"social_insurance_record", "household_record", "real_estate_record"} <= certs


def test_every_type_code_of_the_sample_catalog_is_in_the_directory() -> None:
    directory = load_directory()
    used = {
        (spec.kind, spec.type)
        for matter in load_catalog().matters
        for material in matter.materials
        for spec in material.evidence
    }

    missing = sorted(code for kind, code in used if directory.get(code) is None)
    wrong_kind = sorted(
        code for kind, code in used if (t := directory.get(code)) and t.kind != kind
    )
    assert missing == []
    assert wrong_kind == []


def test_aliases_do_not_name_two_types() -> None:
    directory = load_directory()
    owner: dict[str, str] = {}
    clashes = []
    for t in directory.types:
        for name in (t.name, *t.aliases):
            if name in owner and owner[name] != t.code:
                clashes.append(name)
            owner[name] = t.code

    assert clashes == []


def test_repo_schema_is_valid_and_packaged_copy_is_identical() -> None:
    repo = REPO / "schemas" / "licence-directory.schema.json"
    jsonschema.Draft202012Validator.check_schema(json.loads(repo.read_text(encoding="utf-8")))

    assert schema_path("licence-directory").read_bytes() == repo.read_bytes()


def test_a_duplicate_code_names_the_file_and_line(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "licence_types:\n"
        "  - {code: '11100000000013888E001', name: 甲, issuer: 乙, issued_by_city: false,\n"
        "     electronic: true, holder: person}\n"
        "  - {code: '11100000000013888E001', name: 丙, issuer: 乙, issued_by_city: false,\n"
        "     electronic: true, holder: person}\n"
        "certificate_types: []\n",
        encoding="utf-8",
    )

    with pytest.raises(CatalogError, match=r"duplicate type code.*line 4"):
        load_directory(path)


def test_a_bad_code_is_refused_with_its_path(tmp_path: Path) -> None:
    path = tmp_path / "d.yaml"
    path.write_text(
        "licence_types:\n"
        "  - {code: 'E001', name: 甲, issuer: 乙, issued_by_city: false,\n"
        "     electronic: true, holder: person}\n"
        "certificate_types: []\n",
        encoding="utf-8",
    )

    with pytest.raises(CatalogError, match=r"licence_types\[0\]\.code"):
        load_directory(path)
