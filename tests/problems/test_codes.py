"""Masking: no raw citizen ID number leaves a report; credit codes and serials stay readable."""

from __future__ import annotations

import pytest

from matcher.problems.codes import PROBLEM_TEXT, mask_id, mask_name, scrub, verification_code


def test_citizen_ids_are_masked_and_credit_codes_kept() -> None:
    assert mask_id("citizen_id", "330902198103150314") == "330902********0314"
    assert mask_id("uscc", "91330900MA2A1K8N01") == "91330900MA2A1K8N01"
    assert mask_name("张伟") == "张*" and mask_name(None) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("持证人 330902198103150314。", "持证人 330902********0314。"),
        ("33090319830722158x", "330903********158x"),
        # 18 digits that are no ID number (no real birth date): an issuer's credit code
        ("113309000026088718", "113309000026088718"),
        # a valid ID number glued into a longer token is a serial, not a person
        ("1.2.156.3005.2.T.330902198103150314A.001", "1.2.156.3005.2.T.330902198103150314A.001"),
    ],
)
def test_scrub_masks_only_real_id_numbers(text: str, expected: str) -> None:
    assert scrub({"a": [text]}) == {"a": [expected]}


def test_every_code_has_a_chinese_description_and_verification_maps_into_them() -> None:
    assert len(PROBLEM_TEXT) == 12  # the eleven a check finds, and field_conflict (pre-fill)
    for problem in (
        "signature_invalid",
        "unsigned",
        "alg_mismatch",
        "unknown_key",
        "issuer_mismatch",
        "holder_mismatch",
    ):
        code = verification_code(problem)
        assert code in PROBLEM_TEXT
    assert verification_code("expired") is None and verification_code("revoked") is None
