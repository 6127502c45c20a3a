from datetime import date

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from fangkong.people.idnumbers import (
    InvalidNumber,
    check_char,
    make_resident_id,
    normalize_mobile,
    parse_resident_id,
)

# Published example of GB 11643 with an X check character.
VALID_WITH_X = "11010519491231002X"


def test_valid_id_with_x_check_character_gives_birth_date_and_sex():
    parsed = parse_resident_id(VALID_WITH_X)
    assert parsed.birth_date == date(1949, 12, 31)
    assert parsed.sex == "F"  # sequence 002: even
    assert parsed.area_code == "110105"


def test_lowercase_x_and_spaces_are_accepted():
    assert parse_resident_id(" 11010519491231002x ").number == VALID_WITH_X


def test_male_from_odd_sequence():
    number = make_resident_id(area_code="440303", birth_date=date(1990, 1, 2), sequence=123)
    assert parse_resident_id(number).sex == "M"


@pytest.mark.parametrize(
    ("number", "reason"),
    [
        ("110105194912310021", "check character should be X"),
        ("11010519491231002", "18 characters; this one has 17"),
        ("1101051949123100211", "18 characters; this one has 19"),
        ("11010519491331002X", "not a real date"),
        ("11010519490230002X", "not a real date"),
        ("1101051949A231002X", "17 digits followed by a digit or X"),
        ("11010518800101002X", "not a possible past date"),
    ],
)
def test_each_kind_of_invalid_id_is_refused_with_its_reason(number, reason):
    with translation.override("en"), pytest.raises(InvalidNumber) as error:
        parse_resident_id(number)
    assert reason in str(error.value)


def test_birth_date_in_the_future_is_refused():
    first17 = "110105" + "20991231" + "002"
    with pytest.raises(InvalidNumber, match="2099-12-31"):
        parse_resident_id(first17 + check_char(first17))


@given(
    area=st.from_regex(r"^[1-6][0-9]{5}$", fullmatch=True),
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
)
def test_generated_ids_round_trip(area, birth, sequence):
    number = make_resident_id(area_code=area, birth_date=birth, sequence=sequence)
    parsed = parse_resident_id(number)
    assert (parsed.area_code, parsed.birth_date, parsed.sex) == (area, birth, "M" if sequence % 2 else "F")


@given(
    birth=st.dates(min_value=date(1900, 1, 1), max_value=date(2024, 12, 31)),
    sequence=st.integers(min_value=0, max_value=999),
    position=st.integers(min_value=0, max_value=16),
    delta=st.integers(min_value=1, max_value=9),
)
def test_a_single_mistyped_digit_is_always_caught(birth, sequence, position, delta):
    number = make_resident_id(area_code="440303", birth_date=birth, sequence=sequence)
    digits = list(number)
    digits[position] = str((int(digits[position]) + delta) % 10)
    with pytest.raises(InvalidNumber):
        parse_resident_id("".join(digits))


@pytest.mark.parametrize("raw", ["13812345678", "+86 138-1234-5678", "8613812345678", "199 0000 1111"])
def test_mainland_mobiles_are_normalised(raw):
    assert len(normalize_mobile(raw)) == 11


@pytest.mark.parametrize("raw", ["12812345678", "1381234567", "138123456789", "0755-12345678", "abc"])
def test_invalid_mobiles_are_refused(raw):
    with pytest.raises(InvalidNumber):
        normalize_mobile(raw)
