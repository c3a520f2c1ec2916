"""The safety rule, stage by stage: only a record with no problem at all waives a material."""

import pytest

from adapters.model import Evidence, Holder, Issuer
from matcher.catalog.matters import EvidenceSpec, Material
from matcher.waiver.decide import Considered, SpecOutcome, decide
from matcher.waiver.evidence import Verification
from matcher.waiver.payloads import FieldMismatch, UploadCheck

LICENCE = EvidenceSpec(kind="e_licence", type_code="T001")
CERT = EvidenceSpec(kind="data_certificate", cert_type="social_insurance_record")


def _material(*specs: EvidenceSpec, commitment: bool = False, city: bool = False) -> Material:
    return Material(
        code="m1",
        name="营业执照",
        required=True,
        issued_by_city=city,
        accept_commitment=commitment,
        evidence=specs,
    )


def _found(kind: str = "e_licence", problems: tuple[str, ...] = ()) -> Considered:
    evidence = Evidence(
        kind=kind,  # type: ignore[arg-type]
        registry="r1",
        id="E1",
        type="T001" if kind == "e_licence" else "social_insurance_record",
        type_name="营业执照" if kind == "e_licence" else "社会保险参保证明",
        holder=Holder(id_type="uscc", id="91330900MA2A0B3C45"),
        issuer=Issuer(name="舟山市市场监督管理局"),
        raw={},
    )
    return Considered(evidence, Verification(problems))


def test_verified_licence_waives_with_its_evidence() -> None:
    d = decide(_material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(),))])
    assert (d.decision, d.basis) == ("waive", "e_licence")
    assert d.evidence[0].verified is True
    assert "免于提交" in d.reason


def test_verified_data_certificate_waives() -> None:
    d = decide(_material(CERT), [SpecOutcome(CERT, "answered", (_found("data_certificate"),))])
    assert (d.decision, d.basis) == ("waive", "data_certificate")


@pytest.mark.parametrize(
    "problem",
    ["signature_invalid", "unknown_key", "holder_mismatch", "issuer_mismatch", "unsigned"],
)
def test_untrustworthy_record_goes_to_review(problem: str) -> None:
    d = decide(
        _material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(problems=(problem,)),))]
    )
    assert (d.decision, d.basis) == ("review", "evidence_invalid")
    assert d.evidence[0].verified is False
    assert d.evidence[0].problems == [problem]


@pytest.mark.parametrize("problem", ["expired", "revoked", "suspended", "not_yet_valid"])
def test_invalid_licence_is_required(problem: str) -> None:
    d = decide(
        _material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(problems=(problem,)),))]
    )
    assert (d.decision, d.basis) == ("require", "evidence_invalid")


def test_registry_down_is_review_never_waive() -> None:
    d = decide(_material(LICENCE), [SpecOutcome(LICENCE, "unavailable")])
    assert (d.decision, d.basis) == ("review", "registry_unavailable")


def test_down_registry_outranks_an_expired_record_from_another() -> None:
    outcomes = [
        SpecOutcome(LICENCE, "answered", (_found(problems=("expired",)),)),
        SpecOutcome(CERT, "unavailable"),
    ]
    d = decide(_material(LICENCE, CERT), outcomes)
    assert (d.decision, d.basis) == ("review", "registry_unavailable")


def test_one_verified_record_is_enough_among_others() -> None:
    outcomes = [
        SpecOutcome(LICENCE, "answered", (_found(problems=("revoked",)), _found())),
        SpecOutcome(CERT, "unavailable"),
    ]
    d = decide(_material(LICENCE, CERT), outcomes)
    assert d.decision == "waive"
    assert [e.verified for e in d.evidence] == [False, True]


def test_nothing_found_is_required() -> None:
    d = decide(_material(LICENCE), [SpecOutcome(LICENCE, "answered")])
    assert (d.decision, d.basis) == ("require", "no_evidence")


def test_material_without_evidence_kinds_is_required_unless_the_city_issued_it() -> None:
    d = decide(_material(city=False), [])
    assert (d.decision, d.basis) == ("require", "no_evidence_source")
    # the first exemption: no electronic source is no reason to send the applicant for it
    d = decide(_material(city=True), [])
    assert (d.decision, d.basis) == ("review", "city_issued")
    assert "本市核发" in d.reason and "不需申请人提交" in d.reason


def test_missing_party_is_required_and_named() -> None:
    spouse = EvidenceSpec(kind="e_licence", type_code="T001", holder_role="spouse")
    d = decide(_material(spouse), [SpecOutcome(spouse, "party_missing")])
    assert (d.decision, d.basis) == ("require", "party_missing")
    assert "配偶" in d.reason


def test_commitment_is_offered_but_never_a_waiver() -> None:
    d = decide(_material(LICENCE, commitment=True), [SpecOutcome(LICENCE, "answered")])
    assert d.decision == "require"
    assert d.commitment_allowed is True
    assert "告知承诺" in d.reason


def _upload(*mismatched: str, compared: tuple[str, ...] = ("id_number", "name")) -> UploadCheck:
    return UploadCheck(
        file_id="f_" + "0" * 32,
        kind="id_card_front",
        fields_compared=list(compared),
        mismatches=[
            FieldMismatch(field=f, label=f, uploaded="a", registry="b") for f in mismatched
        ],
    )


def test_upload_matching_the_verified_licence_is_upload_verified() -> None:
    d = decide(_material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(),))], _upload())
    assert (d.decision, d.basis) == ("waive", "upload_verified")
    assert d.upload is not None and d.upload.fields_compared == ["id_number", "name"]


def test_upload_differing_from_the_licence_goes_to_review_naming_the_fields() -> None:
    d = decide(
        _material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(),))], _upload("address")
    )
    assert (d.decision, d.basis) == ("review", "upload_mismatch")
    assert "address" in d.reason


def test_upload_without_a_verified_licence_is_never_waived() -> None:
    for outcome in (
        SpecOutcome(LICENCE, "answered"),
        SpecOutcome(LICENCE, "answered", (_found(problems=("expired",)),)),
    ):
        d = decide(_material(LICENCE), [outcome], _upload())
        assert (d.decision, d.basis) == ("review", "upload_unverified")


def test_upload_does_not_hide_a_registry_outage() -> None:
    d = decide(_material(LICENCE), [SpecOutcome(LICENCE, "unavailable")], _upload())
    assert (d.decision, d.basis) == ("review", "registry_unavailable")


def _city_material(*specs: EvidenceSpec, issuer: str | None = "舟山市自然资源和规划局") -> Material:
    return Material(
        code="premises",
        name="经营场所使用证明",
        required=True,
        issued_by_city=True,
        issuer=issuer,
        evidence=specs,
    )


def test_city_issued_material_without_a_record_is_obtained_by_the_window() -> None:
    d = decide(
        _city_material(LICENCE, CERT),
        [SpecOutcome(LICENCE, "answered"), SpecOutcome(CERT, "answered")],
    )
    assert (d.decision, d.basis) == ("review", "city_issued")
    assert "舟山市自然资源和规划局" in d.reason and "部门协查" in d.reason
    assert "不需申请人提交" in d.reason


def test_city_issued_material_without_an_issuer_names_the_city() -> None:
    d = decide(_city_material(LICENCE, issuer=None), [SpecOutcome(LICENCE, "answered")])
    assert (d.decision, d.basis) == ("review", "city_issued")
    assert "本市核发部门" in d.reason


def test_city_issued_material_with_a_registry_down_stays_registry_unavailable() -> None:
    outcomes = [SpecOutcome(LICENCE, "answered"), SpecOutcome(CERT, "unavailable")]
    d = decide(_city_material(LICENCE, CERT), outcomes)
    assert (d.decision, d.basis) == ("review", "registry_unavailable")


@pytest.mark.parametrize(
    ("problem", "expected"),
    [
        ("signature_invalid", ("review", "evidence_invalid")),
        ("holder_mismatch", ("review", "evidence_invalid")),
        ("expired", ("require", "evidence_invalid")),
        ("revoked", ("require", "evidence_invalid")),
        ((), ("waive", "e_licence")),
    ],
)
def test_city_issued_material_with_a_record_is_decided_by_the_record(
    problem: str | tuple[()], expected: tuple[str, str]
) -> None:
    problems = (problem,) if isinstance(problem, str) else problem
    d = decide(
        _city_material(LICENCE), [SpecOutcome(LICENCE, "answered", (_found(problems=problems),))]
    )
    assert (d.decision, d.basis) == expected


def test_city_issued_material_of_a_party_not_named_is_required() -> None:
    spouse = EvidenceSpec(kind="e_licence", type_code="T001", holder_role="spouse")
    d = decide(_city_material(spouse), [SpecOutcome(spouse, "party_missing")])
    assert (d.decision, d.basis) == ("require", "party_missing")


def test_city_issued_material_is_never_waived_on_an_upload_alone() -> None:
    d = decide(_city_material(LICENCE), [SpecOutcome(LICENCE, "answered")], _upload())
    assert (d.decision, d.basis) == ("review", "city_issued")
