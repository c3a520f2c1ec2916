"""The department directory: routing by issuer code, issuer name, registry; bad files refused."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from matcher.catalog.departments import load_directory
from matcher.catalog.licences import load_directory as load_licence_directory
from matcher.errors import CatalogError
from matcher.sandbox import SandboxConfig
from matcher.sandbox.samples import load_samples


def test_every_sample_issuer_and_catalog_issuer_has_a_department() -> None:
    directory = load_directory()
    samples = load_samples(SandboxConfig().data_dir)
    for code in samples.issuer_codes():
        assert directory.route(issuer_code=code), code
    from matcher.catalog.matters import load_catalog

    issuers = {m.issuer for matter in load_catalog().matters for m in matter.materials if m.issuer}
    unrouted = {name for name in issuers if directory.route(issuer_name=name) is None}
    # The province's housing department is not one of the city's.
    assert unrouted == {"浙江省住房和城乡建设厅"}


def test_routing_prefers_the_issuer_code_then_the_name_then_the_registry() -> None:
    d = load_directory()
    assert d.route(issuer_code="11330902002601423W", issuer_name="舟山市民政局") == "zs-psb"
    assert d.route(issuer_code="unknown", issuer_name="舟山市民政局") == "zs-civil"
    assert d.route(issuer_name="no such office", registry="zs-elicence") == "zs-dsj"
    assert d.route(issuer_name="no such office", registry="elsewhere") is None
    assert d.name("zs-nrp") == "舟山市自然资源和规划局"


def test_every_sample_licence_type_is_in_the_licence_directory() -> None:
    d = load_directory()
    assert d.licence_types is None  # the sample's come from the licence directory (证照目录)
    d.licence_types = {t.code: t.name for t in load_licence_directory().licence_types}
    samples = load_samples(SandboxConfig().data_dir)
    assert all(d.knows_type(str(e.record["type_code"])) for e in samples.licences)
    assert d.knows_type("99999999999999999X999") is False


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ({"departments": [{"code": "Bad Code", "name": "x"}]}, "does not match"),
        ({"departments": [{"code": "a", "name": "x", "colour": 1}]}, "unknown key 'colour'"),
        ({"departments": [{"code": "a", "name": "x"}, {"code": "a", "name": "y"}]}, "duplicate"),
        ({"departments": []}, "must not be empty"),
    ],
)
def test_a_bad_directory_names_the_problem(tmp_path: Path, content: object, message: str) -> None:
    path = tmp_path / "dir.yaml"
    path.write_text(yaml.safe_dump(content, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogError, match=message):
        load_directory(path)


def test_packaged_departments_schema_matches_repo_schema() -> None:
    root = Path(__file__).resolve().parents[2]
    assert (root / "schemas/departments.schema.json").read_bytes() == (
        root / "matcher/data/schemas/departments.schema.json"
    ).read_bytes()
