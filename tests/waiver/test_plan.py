"""Stage 1, plan: the holders checked, and the fewest registry questions."""

from __future__ import annotations

import pytest

from matcher.errors import ConsentRequired, InputError
from matcher.waiver.payloads import WaiveCheckRequest
from matcher.waiver.plan import Planner, check_holders, request_hash, require_consent
from tests.waiver.stages import (
    APPLICANT,
    CERT,
    HOUSEHOLD_LICENCE,
    LICENCE,
    adapter,
    cert_spec,
    licence_spec,
    material,
    matter,
)


def _request(**extra: object) -> WaiveCheckRequest:
    return WaiveCheckRequest.model_validate(
        {
            "matter_code": "m",
            "applicant": {"id_type": "citizen_id", "id": APPLICANT.id, "name": "张伟"},
            **extra,
        }
    )


def test_one_licence_question_per_role_and_one_per_certificate_type() -> None:
    planner = Planner([adapter("r-licence", "e_licence"), adapter("r-cert", "data_certificate")])
    m = matter(
        material("a", licence_spec(LICENCE)),
        material("b", licence_spec(HOUSEHOLD_LICENCE), cert_spec(CERT)),
        material("c", cert_spec("residence_record")),
        material("optional", licence_spec("11100000000013888E009"), required=False),
    )
    lookups = planner.plan(m, {"applicant": APPLICANT})
    asked = sorted((lk.adapter.name, lk.query.types) for lk in lookups)
    assert asked == [
        ("r-cert", (CERT,)),
        ("r-cert", ("residence_record",)),
        ("r-licence", (LICENCE, HOUSEHOLD_LICENCE)),
    ]
    assert all(lk.query.holder == APPLICANT and lk.status == "pending" for lk in lookups)


def test_a_role_not_in_the_request_is_not_asked_about() -> None:
    planner = Planner([adapter("r-licence", "e_licence")])
    m = matter(material("a", licence_spec(LICENCE), licence_spec(LICENCE, role="legal_rep")))
    lookups = planner.plan(m, {"applicant": APPLICANT})
    assert [lk.role for lk in lookups] == ["applicant"]


def test_extra_questions_skip_what_the_plan_already_asks() -> None:
    planner = Planner([adapter("r-licence", "e_licence")])
    planned = planner.plan(matter(material("a", licence_spec(LICENCE))), {"applicant": APPLICANT})
    extra = planner.extra(
        planned,
        {"applicant": APPLICANT},
        [("applicant", "e_licence", LICENCE), ("applicant", "e_licence", HOUSEHOLD_LICENCE)],
    )
    assert [lk.query.types for lk in extra] == [(HOUSEHOLD_LICENCE,)]


def test_holders_are_checked_and_a_repeated_role_is_refused() -> None:
    holders, warnings = check_holders(_request(), max_parties=5, accept_pre_standard_uscc=False)
    assert holders["applicant"].id == APPLICANT.id and warnings == []
    twice = _request(
        parties=[{"role": "applicant", "id_type": "citizen_id", "id": APPLICANT.id, "name": "张"}]
    )
    with pytest.raises(InputError, match="重复") as raised:
        check_holders(twice, max_parties=5, accept_pre_standard_uscc=False)
    assert raised.value.field == "parties[0].role"


def test_consent_is_required_before_any_question_and_left_out_of_the_hash() -> None:
    needs = matter(material("a", licence_spec())).model_copy(update={"requires_consent": True})
    with pytest.raises(ConsentRequired):
        require_consent(needs, _request())
    require_consent(needs, _request(consent_token="t-1"))
    assert request_hash(_request(consent_token="t-1")) == request_hash(_request())
