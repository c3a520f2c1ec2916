"""Comparing an uploaded document with the verified registry record (matcher.waiver.uploads)."""

from __future__ import annotations

import datetime as dt

import pytest

from adapters.model import Evidence, Holder, Issuer
from matcher.catalog.matters import EvidenceSpec, Material
from matcher.extract.fields import extract_document
from matcher.extract.kinds import DocKinds, load_doc_kinds
from matcher.extract.model import Box, Extraction, PageText, TextLine
from matcher.waiver.decide import Considered, SpecOutcome, decide
from matcher.waiver.evidence import Verification
from matcher.waiver.payloads import MaterialDecision
from matcher.waiver.uploads import ReadUpload, compare_upload

ZHANG_WEI = "330902198103150314"


@pytest.fixture(scope="module")
def kinds() -> DocKinds:
    return load_doc_kinds()


def card(kinds: DocKinds, born: str, sex: str = "男") -> Extraction:
    items = [
        ("姓名", 59, 60, 130, 95),
        ("张伟", 150, 60, 230, 95),
        ("性别", 59, 153, 130, 188),
        (sex, 150, 153, 180, 188),
        ("出生", 59, 232, 130, 266),
        (born, 150, 232, 400, 266),
        ("公民身份号码", 59, 535, 230, 565),
        (ZHANG_WEI, 260, 535, 560, 565),
    ]
    lines = [TextLine(t, 0.95, Box(x0, y0, x1, y1)) for t, x0, y0, x1, y1 in items]
    page = PageText(0, 1012, 638, lines, "ocr")
    return extract_document(kinds, [page], "id_card_front", today=dt.date(2026, 6, 1))


def licence_record(kinds: DocKinds) -> Evidence:
    """张伟's ID card record; it carries name and number, not the birth date."""
    return Evidence(
        kind="e_licence",
        registry="r1",
        id="L1",
        type=kinds.get("id_card_front").evidence_type,
        holder=Holder(id_type="citizen_id", id=ZHANG_WEI),
        issuer=Issuer(name="舟山市公安局定海区分局"),
        fields={"姓名": "张伟", "公民身份号码": ZHANG_WEI},
        raw={},
    )


def test_an_upload_agreeing_with_the_record_has_no_mismatch(kinds: DocKinds) -> None:
    upload = ReadUpload("id", "f1", card(kinds, "1981年3月15日"))
    check, against = compare_upload(upload, [licence_record(kinds)], kinds)
    assert against is not None
    assert (sorted(check.fields_compared), check.mismatches) == (["id_number", "name"], [])


def test_an_upload_failing_a_cross_check_is_a_mismatch_though_the_record_agrees(
    kinds: DocKinds,
) -> None:
    upload = ReadUpload("id", "f1", card(kinds, "1981年3月16日"))
    check, _ = compare_upload(upload, [licence_record(kinds)], kinds)
    reason = "出生日期与公民身份号码不一致"
    assert {m.field: m.label for m in check.mismatches} == {
        "birth_date": f"出生（{reason}）",
        "id_number": f"公民身份号码（{reason}）",
    }
    number = next(m for m in check.mismatches if m.field == "id_number")
    assert (number.uploaded, number.registry) == (ZHANG_WEI, ZHANG_WEI)


def decision_for(kinds: DocKinds, extraction: Extraction) -> MaterialDecision:
    record = licence_record(kinds)
    spec = EvidenceSpec(kind="e_licence", type_code=record.type)
    material = Material(
        code="id", name="居民身份证", required=True, issued_by_city=False, evidence=(spec,)
    )
    check, _ = compare_upload(ReadUpload("id", "f1", extraction), [record], kinds)
    found = (Considered(record, Verification(())),)
    return decide(material, [SpecOutcome(spec, "answered", found)], check)


def test_an_agreeing_upload_with_a_verified_record_is_upload_verified(kinds: DocKinds) -> None:
    d = decision_for(kinds, card(kinds, "1981年3月15日"))
    assert (d.decision, d.basis) == ("waive", "upload_verified")


def test_a_cross_check_failure_sends_the_material_to_review(kinds: DocKinds) -> None:
    d = decision_for(kinds, card(kinds, "1981年3月15日", sex="女"))
    assert (d.decision, d.basis) == ("review", "upload_mismatch")
    assert "性别与公民身份号码不一致" in d.reason
