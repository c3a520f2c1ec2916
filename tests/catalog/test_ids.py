import pytest
from stdnum.cn import ric

from matcher.catalog.ids import check_citizen_id, check_holder_id, check_uscc, is_citizen_id
from matcher.errors import InvalidIdentifier


def test_citizen_id_with_area_code_younger_than_holder_is_accepted() -> None:
    # 定海区 330902 dates from 1987; people born in 1981 hold such numbers. stdnum rejects it.
    number = "330902198101011230"
    with pytest.raises(ric.ValidationError):
        ric.validate(number)
    assert check_citizen_id(number).value == number


def test_lowercase_x_is_normalised() -> None:
    assert check_citizen_id("11010519491231002x").value == "11010519491231002X"


def test_hong_kong_residence_permit_number_is_accepted() -> None:
    assert check_citizen_id("810000199001011230").value == "810000199001011230"


def test_wrong_check_digit_is_rejected_with_a_reason() -> None:
    with pytest.raises(InvalidIdentifier, match="校验码"):
        check_citizen_id("330902198101011231")


@pytest.mark.parametrize("number", ["330902198102301230", "330902299001011230"])
def test_impossible_birth_date_is_rejected(number: str) -> None:
    body = number[:17]
    with pytest.raises(InvalidIdentifier, match="出生日期"):
        check_citizen_id(body + ric.calc_check_digit(body + "0"))


@pytest.mark.parametrize(
    "number", ["", "33090219810101123", "3309021981010112301", "A30902198101011230"]
)
def test_malformed_citizen_id_is_rejected(number: str) -> None:
    with pytest.raises(InvalidIdentifier, match="18位"):
        check_citizen_id(number)


def test_uscc_with_letter_registration_authority_is_accepted() -> None:
    assert check_uscc("Y1330900MA2A0B3C4F").value == "Y1330900MA2A0B3C4F"


def test_uscc_check_character_failure_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier, match="校验码"):
        check_uscc("91330900MA2A0B3C46")


def test_pre_standard_uscc_is_accepted_and_flagged_when_allowed() -> None:
    checked = check_uscc("91330900MA2A0B3C46", accept_pre_standard=True)
    assert checked.flags == ("uscc_check_failed",)


@pytest.mark.parametrize("code", ["91330900MA2A0B3CI5", "9133090AMA2A0B3C45", "91330900MA2A0B3C4"])
def test_uscc_outside_the_alphabet_or_length_is_rejected(code: str) -> None:
    with pytest.raises(InvalidIdentifier, match="18位"):
        check_uscc(code, accept_pre_standard=True)


def test_unknown_id_type_is_rejected() -> None:
    with pytest.raises(InvalidIdentifier):
        check_holder_id("passport", "E12345678")


def test_a_licence_number_is_known_as_an_id_number_by_shape_and_check_digit() -> None:
    """Masking in reasons: an 18-character number with a right check digit is someone's ID
    number, whatever its birth date says; a wrong check digit or another shape is not."""
    good = "330902198103150314"
    assert is_citizen_id(good) and is_citizen_id(good[:-1] + good[-1].lower())
    assert not is_citizen_id(good[:-1] + ("0" if good[-1] != "0" else "1"))
    body = "33090219810230031"  # 30 February: no citizen ID, but masked all the same
    assert is_citizen_id(body + ric.calc_check_digit(body + "0"))  # it reads 17 of 18
    for other in ("91330200MA2AXXXX1X", "11100000000013888E001", "", "33090219810315031"):
        assert not is_citizen_id(other)
