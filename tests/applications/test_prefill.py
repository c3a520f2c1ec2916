"""Pre-filling one form from records, uploads and the request: which value wins, and why."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from adapters.model import Evidence, Holder, Issuer
from matcher.applications.forms import Form, FormField, Section
from matcher.applications.prefill import FoundRecord, Party, PrefilledField, prefill
from matcher.catalog.regions import province_name, region_name
from matcher.extract.model import ExtractedField, Extraction
from matcher.waiver.uploads import ReadUpload

ID_CARD = "11100000000013888E001"
DECLARATION = "name_declaration_record"
ZHANG_WEI = Party(id_type="citizen_id", id="330902198103150314", name="张伟")
NOW = dt.datetime(2026, 12, 2, 9, 0, tzinfo=dt.UTC)


def _form(*fields: dict[str, Any]) -> Form:
    return Form(
        code="t",
        name="测试表",
        sections=(
            Section(
                title="栏目",
                fields=tuple(FormField.model_validate({"section": "栏目", **f}) for f in fields),
            ),
        ),
    )


def _record(
    kind: str,
    type_: str,
    fields: dict[str, Any],
    *,
    problems: tuple[str, ...] = (),
    rid: str = "r1",
) -> FoundRecord:
    e = Evidence(
        kind=kind,  # type: ignore[arg-type]
        registry="zs-elicence" if kind == "e_licence" else "zs-datacert",
        id=rid,
        type=type_,
        type_name="居民身份证" if type_ == ID_CARD else "名称自主申报告知书",
        number="330902198103150314",
        holder=Holder(id_type="citizen_id", id=ZHANG_WEI.id),
        issuer=Issuer(name="舟山市公安局定海区分局"),
        fields=fields,
        raw={},
    )
    return FoundRecord("applicant", e, problems)


def _upload(doc_kind: str, name: str, value: str, *, confidence: float = 0.98) -> ReadUpload:
    found = ExtractedField(name, name, value, value, confidence, 0, None, True)
    return ReadUpload(
        "legal-rep-id", "f_" + "0" * 32, Extraction(doc_kind, "居民身份证", [], [found])
    )


def _fill(form: Form, records: list[FoundRecord], uploads: list[ReadUpload] = ()) -> Any:  # type: ignore[assignment]
    return prefill(
        form,
        matter_name="企业设立登记",
        parties={"applicant": ZHANG_WEI},
        records=records,
        uploads=uploads,
        retrieved_at=NOW,
    )


def _one(result: Any) -> PrefilledField:
    (field,) = result.fields
    return field  # type: ignore[no-any-return]


NAME = {
    "key": "name",
    "label": "姓名",
    "type": "text",
    "sources": [
        {"kind": "e_licence", "type_code": ID_CARD, "field": "姓名"},
        {"kind": "upload", "doc_kind": "id_card_front", "field": "name"},
        {"kind": "request", "field": "name"},
    ],
}


def test_a_verified_record_fills_and_names_its_source() -> None:
    field = _one(_fill(_form(NAME), [_record("e_licence", ID_CARD, {"姓名": "张伟"})]))
    assert (field.value, field.verified, field.conflict) == ("张伟", True, False)
    assert field.source is not None
    assert (field.source.kind, field.source.registry, field.source.record_id) == (
        "e_licence",
        "zs-elicence",
        "r1",
    )
    assert (field.source.field, field.source.retrieved_at) == ("姓名", NOW)


@pytest.mark.parametrize(
    "problem", ["signature_invalid", "holder_mismatch", "expired", "unknown_key"]
)
def test_an_unverified_record_is_a_candidate_never_the_value(problem: str) -> None:
    bad = _record("e_licence", ID_CARD, {"姓名": "张伟伟"}, problems=(problem,))
    field = _one(_fill(_form(NAME), [bad]))
    # The request's name fills the field; the record's differing name is shown, not used.
    assert field.value == "张伟" and field.source is not None and field.source.kind == "request"
    assert field.verified is False
    (candidate,) = field.candidates
    assert (candidate.value, candidate.usable, candidate.verified) == ("张伟伟", False, False)
    assert candidate.reason is not None and candidate.reason.startswith("记录未通过核验")
    assert field.conflict is False


def test_an_unverified_record_alone_leaves_the_field_missing() -> None:
    form = _form({**NAME, "sources": NAME["sources"][:1]})
    bad = _record("e_licence", ID_CARD, {"姓名": "张伟"}, problems=("signature_invalid",))
    result = _fill(form, [bad])
    assert _one(result).value is None and result.missing == ["name"]
    assert result.fill_rate == 0.0
    assert [c.value for c in _one(result).candidates] == ["张伟"]


def test_an_upload_that_disagrees_is_a_conflict_with_both_values() -> None:
    result = _fill(
        _form(NAME),
        [_record("e_licence", ID_CARD, {"姓名": "张伟"})],
        [_upload("id_card_front", "name", "张玮")],
    )
    field = _one(result)
    assert (field.value, field.conflict) == ("张伟", True)
    (upload,) = field.candidates
    assert (upload.value, upload.usable, upload.confidence) == ("张玮", True, 0.98)
    assert upload.source.kind == "upload" and upload.source.record_id == "f_" + "0" * 32


def test_a_low_confidence_upload_is_shown_but_does_not_fill() -> None:
    form = _form({**NAME, "sources": NAME["sources"][1:2]})
    field = _one(_fill(form, [], [_upload("id_card_front", "name", "张伟", confidence=0.6)]))
    assert field.value is None
    assert field.candidates[0].reason is not None and "置信度" in field.candidates[0].reason


@pytest.mark.parametrize(
    ("type_", "registry", "uploaded"),
    [
        ("money", "100万元", "1000000元"),
        ("money", "100万元", "壹佰万元整"),
        ("date", "1981年3月15日", "1981-03-15"),
        ("date", "1981.03.15", "1981年03月15日"),
        ("text", "有限责任公司（自然人独资）", "有限责任公司(自然人独资)"),
        ("text", "张 伟", "张伟"),
        ("text", "解放西路１２８号", "解放西路128号"),
    ],
)
def test_values_are_compared_normalised_and_shown_as_printed(
    type_: str, registry: str, uploaded: str
) -> None:
    form = _form(
        {
            "key": "v",
            "label": "值",
            "type": type_,
            "sources": [
                {"kind": "data_certificate", "cert_type": DECLARATION, "field": "值"},
                {"kind": "upload", "doc_kind": "business_licence", "field": "registered_capital"},
            ],
        }
    )
    field = _one(
        _fill(
            form,
            [_record("data_certificate", DECLARATION, {"值": registry})],
            [_upload("business_licence", "registered_capital", uploaded)],
        )
    )
    assert field.value == registry  # as the registry printed it
    assert (field.conflict, field.candidates) == (False, [])


def test_derived_fields_come_from_the_id_number() -> None:
    id_number = {
        "key": "id",
        "label": "公民身份号码",
        "type": "citizen_id",
        "sources": [{"kind": "request", "field": "id"}],
    }
    derived = [
        {"key": k, "label": k, "type": t, "sources": [{"kind": "derived", "from": "id", "rule": r}]}
        for k, t, r in [
            ("born", "date", "birth_date"),
            ("sex", "sex", "sex"),
            ("region", "text", "native_region"),
            ("province", "text", "native_province"),
        ]
    ]
    result = _fill(_form(id_number, *derived), [])
    values = {f.key: f.value for f in result.fields}
    assert values == {
        "id": "330902198103150314",
        "born": "1981-03-15",
        "sex": "男",
        "region": "浙江省舟山市定海区",
        "province": "浙江省",
    }
    assert result.fill_rate == 1.0
    assert all(f.source is not None and f.source.kind == "derived" for f in result.fields[1:])


def test_fill_rate_counts_the_fields_with_a_value() -> None:
    empty = {"key": "phone", "label": "联系电话", "type": "phone", "sources": []}
    result = _fill(_form(NAME, empty), [_record("e_licence", ID_CARD, {"姓名": "张伟"})])
    assert (result.filled, result.total, result.fill_rate, result.missing) == (1, 2, 0.5, ["phone"])


@pytest.mark.parametrize(
    ("code", "name"),
    [
        ("330902", "浙江省舟山市定海区"),
        ("330903", "浙江省舟山市普陀区"),
        ("330921", "浙江省舟山市岱山县"),
        ("330900", "浙江省舟山市"),
        ("330000", "浙江省"),
        ("810000", "香港特别行政区"),
        ("110101", "北京市东城区"),
        ("999999", None),
        ("33090", None),
    ],
)
def test_region_names_from_gb_t_2260_codes(code: str, name: str | None) -> None:
    assert region_name(code) == name


def test_province_of_a_code() -> None:
    assert province_name("330902") == "浙江省"
    assert province_name("000000") is None
