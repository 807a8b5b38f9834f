"""Identifier validation: real check-digit rules, proved by properties and known examples."""

import pytest
from hypothesis import given, strategies as st

from obra import ids
from obra.errors import InvalidInput

digits = st.text(alphabet="0123456789", min_size=9, max_size=9)


def test_known_identifiers_validate():
    assert ids.parse_iswc("T-034.524.680-1") == "T0345246801"
    assert ids.format_iswc("T0345246801") == "T-034.524.680-1"
    assert ids.parse_isrc("us-rc1-76-07839") == "USRC17607839"
    assert ids.parse_ipi_name("14107338") == "00014107338"
    assert ids.parse_isni("0000 0001 2103 2683") == "0000000121032683"
    assert ids.parse_ipi_base("I-000000229-7") == "I-000000229-7"


def test_wrong_check_digit_names_the_field_and_the_right_digit():
    with pytest.raises(InvalidInput) as exc:
        ids.parse_iswc("T-034.524.680-2", field="works.3.iswc")
    problem = exc.value.problems[0]
    assert problem.field == "works.3.iswc"
    assert "the digits give 1" in problem.message


@given(digits)
def test_iswc_round_trip(nine):
    iswc = f"T{nine}{ids.iswc_check_digit(nine)}"
    assert ids.parse_iswc(ids.format_iswc(iswc)) == iswc


@given(digits, st.integers(1, 9))
def test_iswc_with_another_check_digit_is_refused(nine, delta):
    wrong = (ids.iswc_check_digit(nine) + delta) % 10
    with pytest.raises(InvalidInput):
        ids.parse_iswc(f"T{nine}{wrong}")


@given(digits, st.integers(0, 8), st.integers(1, 9))
def test_ipi_name_detects_every_single_digit_error(nine, pos, delta):
    valid = nine + ids.ipi_name_check(nine)
    assert ids.parse_ipi_name(valid) == valid
    typo = valid[:pos] + str((int(valid[pos]) + delta) % 10) + valid[pos + 1:]
    with pytest.raises(InvalidInput):
        ids.parse_ipi_name(typo)


@given(st.text(alphabet="0123456789", min_size=15, max_size=15), st.integers(0, 14), st.integers(1, 9))
def test_isni_detects_every_single_digit_error(fifteen, pos, delta):
    valid = fifteen + ids.isni_check_char(fifteen)
    assert ids.parse_isni(valid) == valid
    typo = valid[:pos] + str((int(valid[pos]) + delta) % 10) + valid[pos + 1:]
    with pytest.raises(InvalidInput):
        ids.parse_isni(typo)


@given(st.sampled_from(["OBRA", "UYMVD", "ESMAD", "X1"]), st.integers(2000, 2100), st.integers(1, 9_999_999),
       st.data())
def test_registration_numbers_detect_a_mistyped_character(office, year, seq, data):
    number = ids.format_registration_number(office, year, seq)
    assert ids.parse_registration_number(number.lower()) == number
    assert ids.office_of(number) == office
    positions = [i for i, ch in enumerate(number[:-2]) if ch != "-"]
    pos = data.draw(st.sampled_from(positions))
    alphabet = "0123456789" if number[pos].isdigit() else "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    replacement = data.draw(st.sampled_from([c for c in alphabet if c != number[pos]]))
    typo = number[:pos] + replacement + number[pos + 1:]
    with pytest.raises(InvalidInput):
        ids.parse_registration_number(typo)


def test_isrc_refuses_unknown_country_prefix_and_bad_shape():
    with pytest.raises(InvalidInput):
        ids.parse_isrc("XY-ABC-24-00001")
    with pytest.raises(InvalidInput):
        ids.parse_isrc("USRC1760783")


def test_territories_are_cisac_tis_codes_with_groups():
    assert ids.parse_territory("world") == "2WL"
    assert ids.territory_covers("2WL", "UY")
    assert ids.territory_covers("2SA", "UY")
    assert not ids.territory_covers("2SA", "ES")
    assert ids.territory_covers("2EN", "ES")
    with pytest.raises(InvalidInput) as exc:
        ids.parse_territory("ZQ", field="shares.0.territory")
    assert exc.value.problems[0].field == "shares.0.territory"


@given(st.one_of(st.text(), st.integers(), st.none()))
def test_ascii_digits_admits_exactly_what_int_reads_as_written(value):
    """True only for a non-empty string of 0-9; then ``int()`` reads it, digit for digit."""
    expected = isinstance(value, str) and value != "" and all(c in "0123456789" for c in value)
    assert ids.ascii_digits(value) is expected
    if expected:
        assert str(int(value)) == value.lstrip("0") or int(value) == 0


@pytest.mark.parametrize("value", ["²", "12³", "٣", "１２", "", " 1", "1 ", "-1", "+1", "1_000"])
def test_ascii_digits_refuses_what_isdigit_or_int_would_take(value):
    """'²' passes ``str.isdigit()`` and crashes ``int()``; '٣' and '１２' pass both; none is an ASCII number."""
    assert not ids.ascii_digits(value)


@given(st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=8),
       st.integers(min_value=1, max_value=9999), st.integers(min_value=1, max_value=9_999_999),
       st.integers(min_value=0, max_value=2_500))
def test_a_block_of_registration_numbers_is_each_number_formatted_alone(office, year, first, n):
    """The bulk path's numbers (check character from a shared prefix) are exactly the single path's."""
    n = min(n, 10_000_000 - first)
    block = ids.registration_numbers(office, year, first, n)
    assert block == [ids.format_registration_number(office, year, first + k) for k in range(n)]
    assert all(ids.parse_registration_number(number) == number for number in block[:50])
