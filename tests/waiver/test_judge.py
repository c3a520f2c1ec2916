"""Stage 3, judge: each record verified against the spec that asked for it, then one decision
per required material; a registry that did not answer never lets a material be waived."""

from __future__ import annotations

import datetime as dt

from adapters.model import EvidenceQuery
from matcher.waiver import judge
from matcher.waiver.plan import Lookup
from tests.waiver.stages import (
    APPLICANT,
    HOUSEHOLD_LICENCE,
    LICENCE,
    adapter,
    licence_spec,
    material,
    matter,
    record,
)

TODAY = dt.date(2026, 12, 7)
HOLDERS = {"applicant": APPLICANT}


def _answered(  # type: ignore[no-untyped-def]
    *items: object, status: str = "answered", signature: str | None = None
):
    lookup = Lookup(
        adapter("r-licence", "e_licence"),
        "applicant",
        EvidenceQuery(kind="e_licence", holder=APPLICANT, types=(LICENCE,)),
        status=status,
    )
    lookup.items = list(items)  # type: ignore[arg-type]
    lookup.signature_problems = [signature] * len(items)  # what gathering found
    return lookup


def test_a_record_of_a_type_not_asked_for_is_never_used() -> None:
    m = matter(material("a", licence_spec(LICENCE)))
    found = judge.outcomes(m, [_answered(record(HOUSEHOLD_LICENCE))], HOLDERS, TODAY)
    [outcome] = found["a"]
    assert outcome.status == "answered" and outcome.found == ()
    assert judge.found_records([_answered(record(HOUSEHOLD_LICENCE))], HOLDERS, TODAY) == []


def test_each_record_is_verified_against_its_spec() -> None:
    m = matter(material("a", licence_spec(LICENCE)))
    [sound] = judge.outcomes(m, [_answered(record())], HOLDERS, TODAY)["a"][0].found
    assert sound.verification.verified
    forged = _answered(record(), signature="signature_invalid")
    [bad] = judge.outcomes(m, [forged], HOLDERS, TODAY)["a"][0].found
    assert not bad.verification.verified
    assert "signature_invalid" in bad.verification.problems
    [decision] = judge.decisions(m, judge.outcomes(m, [forged], HOLDERS, TODAY), {})
    assert (decision.decision, decision.basis) == ("review", "evidence_invalid")


def test_a_registry_that_did_not_answer_leaves_its_materials_unwaived() -> None:
    m = matter(material("a", licence_spec(LICENCE)), material("b", licence_spec(LICENCE)))
    found = judge.outcomes(m, [_answered(status="unavailable")], HOLDERS, TODAY)
    assert [o.status for o in found["a"] + found["b"]] == ["unavailable", "unavailable"]
    made = judge.decisions(m, found, {})
    assert [(d.material_code, d.decision, d.basis) for d in made] == [
        ("a", "review", "registry_unavailable"),
        ("b", "review", "registry_unavailable"),
    ]
    assert judge.summary(made).model_dump() == {"waived": 0, "required": 0, "review": 2}


def test_only_required_materials_are_decided() -> None:
    m = matter(material("a", licence_spec()), material("extra", licence_spec(), required=False))
    found = judge.outcomes(m, [_answered()], HOLDERS, TODAY)
    assert list(found) == ["a"]
    assert [d.material_code for d in judge.decisions(m, found, {})] == ["a"]
