"""Personnummer and samordningsnummer: forms, century rule, check digit, dates, age."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from domain.people.personnummer import (
    InvalidPersonnummer,
    Personnummer,
    age_on,
    luhn_check_digit,
    parse_personnummer,
)

TODAY = date(2025, 6, 15)

FORMAT_MESSAGE = "10 eller 12 siffror"
PLUS_MESSAGE = "Plustecken"
CHECK_MESSAGE = "Kontrollsiffran"
DATE_MESSAGE = "datum som inte finns"
FUTURE_MESSAGE = "framtiden"


def with_check(nine_digits: str) -> str:
    """The ten-digit number YYMMDDNNN plus its check digit."""
    return nine_digits + str(luhn_check_digit(nine_digits))


def twelve(century: str, nine_digits: str, sep: str = "") -> str:
    """YYYYMMDD[sep]NNNC with a correct check digit."""
    ten = with_check(nine_digits)
    return f"{century}{ten[:6]}{sep}{ten[6:]}"


def ten(nine_digits: str, sep: str = "") -> str:
    """YYMMDD[sep]NNNC with a correct check digit."""
    number = with_check(nine_digits)
    return f"{number[:6]}{sep}{number[6:]}"


def parse(text: str, today: date = TODAY) -> Personnummer:
    return parse_personnummer(text, today=today)


class TestLuhnCheckDigit:
    def test_classic_reference_value(self) -> None:
        assert luhn_check_digit("811218987") == 6

    def test_samordningsnummer_reference_value(self) -> None:
        # Skatteverket's example samordningsnummer 701063-2391.
        assert luhn_check_digit("701063239") == 1

    @pytest.mark.parametrize(
        ("nine_digits", "expected"),
        [
            ("000000000", 0),  # sum 0
            ("100000000", 8),  # 1·2 = 2
            ("500000000", 9),  # 5·2 = 10 → 1 + 0
            ("900000000", 1),  # 9·2 = 18 → 1 + 8 = 9
            ("010000000", 9),  # second position has weight 1
            ("000000009", 1),  # last position has weight 2: 18 → 9
        ],
    )
    def test_weights_alternate_two_one_and_products_are_digit_summed(
        self, nine_digits: str, expected: int
    ) -> None:
        assert luhn_check_digit(nine_digits) == expected

    @given(st.text(alphabet="0123456789", min_size=9, max_size=9))
    def test_check_digit_is_a_single_digit(self, nine_digits: str) -> None:
        assert 0 <= luhn_check_digit(nine_digits) <= 9


class TestAcceptedForms:
    @pytest.mark.parametrize(
        "text",
        [
            "198112189876",
            "19811218-9876",
            "8112189876",
            "811218-9876",
            " 811218-9876 ",
            "19811218 9876",
            "811218 - 9876",
        ],
    )
    def test_every_form_gives_the_same_normal_form(self, text: str) -> None:
        number = parse(text)

        assert number.digits == "198112189876"
        assert number.birth_date == date(1981, 12, 18)
        assert number.is_coordination_number is False

    def test_plus_marks_someone_aged_one_hundred_or_more(self) -> None:
        number = parse("811218+9876")

        assert number.digits == "188112189876"
        assert number.birth_date == date(1881, 12, 18)

    def test_formatted_is_eight_digits_dash_four(self) -> None:
        assert parse("8112189876").formatted == "19811218-9876"

    def test_digits_are_twelve_ascii_digits(self) -> None:
        digits = parse("811218-9876").digits

        assert len(digits) == 12
        assert digits.isascii()
        assert digits.isdigit()

    def test_samordningsnummer_keeps_the_day_plus_sixty_in_the_normal_form(self) -> None:
        number = parse("701063-2391")

        assert number.digits == "197010632391"
        assert number.formatted == "19701063-2391"
        assert number.birth_date == date(1970, 10, 3)
        assert number.is_coordination_number is True

    @pytest.mark.parametrize("day_field", ["61", "91"])
    def test_samordningsnummer_day_bounds_are_accepted(self, day_field: str) -> None:
        number = parse(twelve("19", f"7001{day_field}123"))

        assert number.birth_date == date(1970, 1, int(day_field) - 60)
        assert number.is_coordination_number is True


class TestCenturyOfTenDigitForms:
    """Today is 2025-06-15 in these tests."""

    @pytest.mark.parametrize(
        ("nine_digits", "sep", "born"),
        [
            ("250615123", "-", date(2025, 6, 15)),  # born today: this century
            ("250615123", "", date(2025, 6, 15)),
            ("250616123", "-", date(1925, 6, 16)),  # tomorrow would be in the future
            ("250614123", "-", date(2025, 6, 14)),
            ("250615123", "+", date(1925, 6, 15)),  # exactly 100 today
            ("250616123", "+", date(1825, 6, 16)),
            ("000101123", "-", date(2000, 1, 1)),
            ("991231123", "-", date(1999, 12, 31)),
            ("991231123", "+", date(1899, 12, 31)),
            ("260101123", "-", date(1926, 1, 1)),
            ("241231123", "-", date(2024, 12, 31)),
        ],
    )
    def test_latest_century_on_or_before_today(
        self, nine_digits: str, sep: str, born: date
    ) -> None:
        number = parse(ten(nine_digits, sep))

        assert number.birth_date == born
        assert number.digits == f"{born.year:04d}{nine_digits[2:]}{with_check(nine_digits)[9]}"

    def test_samordningsnummer_century_follows_the_real_birth_date(self) -> None:
        # Day field 76 is the 16th: tomorrow relative to today, so the previous century.
        assert parse(ten("250676123", "-")).birth_date == date(1925, 6, 16)
        # Day field 75 is the 15th: today.
        assert parse(ten("250675123", "-")).birth_date == date(2025, 6, 15)

    def test_29_february_in_the_current_century_when_that_year_is_a_leap_year(self) -> None:
        assert parse(ten("240229123", "-")).birth_date == date(2024, 2, 29)

    def test_plus_on_29_february_of_a_century_year_that_was_no_leap_year_is_refused(
        self,
    ) -> None:
        # 000229+… would be 1900-02-29, which did not exist.
        with pytest.raises(InvalidPersonnummer, match=DATE_MESSAGE):
            parse(ten("000229123", "+"))


class TestRejections:
    @pytest.mark.parametrize(
        ("text", "message"),
        [
            ("", FORMAT_MESSAGE),
            ("   ", FORMAT_MESSAGE),
            ("811218987", FORMAT_MESSAGE),  # nine digits
            ("81121898765", FORMAT_MESSAGE),  # eleven digits
            ("1981121898765", FORMAT_MESSAGE),  # thirteen digits
            ("81121-89876", FORMAT_MESSAGE),  # separator in the wrong place
            ("811218/9876", FORMAT_MESSAGE),
            ("811218--9876", FORMAT_MESSAGE),
            ("811218-98a6", FORMAT_MESSAGE),
            ("19811218-9876x", FORMAT_MESSAGE),
            ("811218\t9876", FORMAT_MESSAGE),
            ("811218-9876\n19811218-9876", FORMAT_MESSAGE),
            ("١٩٨١١٢١٨٩٨٧٦", FORMAT_MESSAGE),  # Arabic-Indic digits
            ("１９８１１２１８９８７６", FORMAT_MESSAGE),  # full-width digits
            ("19811218+9876", PLUS_MESSAGE),
            ("198112189875", CHECK_MESSAGE),
            ("811218-9875", CHECK_MESSAGE),
            ("811218+9875", CHECK_MESSAGE),
            ("701063-2390", CHECK_MESSAGE),
        ],
    )
    def test_malformed_or_wrong_numbers_are_refused_with_a_reason(
        self, text: str, message: str
    ) -> None:
        with pytest.raises(InvalidPersonnummer, match=message):
            parse(text)

    @pytest.mark.parametrize(
        "text",
        [
            twelve("20", "230230123"),  # 30 February
            twelve("20", "230229123"),  # 29 February, not a leap year
            twelve("19", "000229123"),  # 1900 was not a leap year
            twelve("20", "231301123"),  # month 13
            twelve("20", "230001123"),  # month 0
            twelve("20", "230100123"),  # day 0
            twelve("20", "230132123"),  # day 32
            twelve("20", "230431123"),  # 31 April
            twelve("20", "230160123"),  # day field 60 is neither a day nor day + 60
            twelve("20", "230192123"),  # samordningsnummer for day 32
            twelve("20", "230291123"),  # samordningsnummer for 31 February
            ten("230230123", "-"),
            ten("230229123", "-"),
            ten("231301123"),
            ten("230192123", "+"),
        ],
    )
    def test_impossible_dates_are_refused(self, text: str) -> None:
        with pytest.raises(InvalidPersonnummer, match=DATE_MESSAGE):
            parse(text)

    @pytest.mark.parametrize(
        "text",
        [
            twelve("20", "250616123"),  # tomorrow
            twelve("20", "250616123", "-"),
            twelve("21", "000101123"),
            twelve("20", "250676123"),  # samordningsnummer for tomorrow
        ],
    )
    def test_future_birth_dates_are_refused(self, text: str) -> None:
        with pytest.raises(InvalidPersonnummer, match=FUTURE_MESSAGE):
            parse(text)

    def test_born_today_is_not_the_future(self) -> None:
        assert parse(twelve("20", "250615123")).birth_date == TODAY

    def test_wrong_check_digit_is_refused(self) -> None:
        with pytest.raises(InvalidPersonnummer, match=CHECK_MESSAGE):
            parse("19811218-9870")

    def test_error_is_a_value_error(self) -> None:
        with pytest.raises(ValueError, match=CHECK_MESSAGE):
            parse("811218-9870")


# --- properties -------------------------------------------------------------------------

MIN_BIRTH = date(1900, 1, 1)
MAX_TODAY = date(2099, 12, 31)


@st.composite
def birth_and_today(draw: st.DrawFn) -> tuple[date, date]:
    today = draw(st.dates(min_value=MIN_BIRTH, max_value=MAX_TODAY))
    born = draw(st.dates(min_value=MIN_BIRTH, max_value=today))
    return born, today


serials = st.integers(min_value=0, max_value=999)


def nine_of(born: date, serial: int, day_offset: int = 0) -> str:
    return f"{born.year % 100:02d}{born.month:02d}{born.day + day_offset:02d}{serial:03d}"


def accepted_forms(born: date, serial: int, today: date, day_offset: int = 0) -> list[str]:
    nine = nine_of(born, serial, day_offset)
    century = f"{born.year // 100:02d}"
    forms = [twelve(century, nine), twelve(century, nine, "-")]
    if age_on(born, today) >= 100:
        forms.append(ten(nine, "+"))
    else:
        forms += [ten(nine), ten(nine, "-")]
    return forms


@given(birth_and_today(), serials)
def test_any_valid_number_parses_the_same_in_every_accepted_form(
    dates: tuple[date, date], serial: int
) -> None:
    born, today = dates
    nine = nine_of(born, serial)
    expected_digits = f"{born.year:04d}{nine[2:]}{luhn_check_digit(nine)}"

    for text in accepted_forms(born, serial, today):
        number = parse_personnummer(text, today=today)
        assert number.digits == expected_digits, text
        assert number.birth_date == born, text
        assert number.is_coordination_number is False
        assert number.formatted == f"{expected_digits[:8]}-{expected_digits[8:]}"


@given(birth_and_today(), serials, st.integers(min_value=1, max_value=9))
def test_any_other_check_digit_is_refused(
    dates: tuple[date, date], serial: int, shift: int
) -> None:
    born, today = dates
    for text in accepted_forms(born, serial, today):
        wrong = str((int(text[-1]) + shift) % 10)
        with pytest.raises(InvalidPersonnummer, match=CHECK_MESSAGE):
            parse_personnummer(text[:-1] + wrong, today=today)


@given(birth_and_today(), serials)
def test_samordningsnummer_gives_the_real_birth_date(dates: tuple[date, date], serial: int) -> None:
    born, today = dates
    nine = nine_of(born, serial, day_offset=60)
    expected_digits = f"{born.year:04d}{nine[2:]}{luhn_check_digit(nine)}"

    for text in accepted_forms(born, serial, today, day_offset=60):
        number = parse_personnummer(text, today=today)
        assert number.birth_date == born, text
        assert number.is_coordination_number is True
        assert number.digits == expected_digits
        assert int(number.digits[6:8]) == born.day + 60


@given(
    st.dates(min_value=date(1900, 1, 2), max_value=MAX_TODAY),
    st.integers(min_value=1, max_value=3650),
    serials,
)
def test_a_birth_date_after_today_is_refused(today: date, days_ahead: int, serial: int) -> None:
    born = today + timedelta(days=days_ahead)
    assume(born.year < 2100)
    text = twelve(f"{born.year // 100:02d}", nine_of(born, serial), "-")

    with pytest.raises(InvalidPersonnummer, match=FUTURE_MESSAGE):
        parse_personnummer(text, today=today)


class TestAgeOn:
    @pytest.mark.parametrize(
        ("born", "on", "age"),
        [
            (date(2000, 6, 15), date(2000, 6, 15), 0),
            (date(2000, 6, 15), date(2001, 6, 14), 0),
            (date(2000, 6, 15), date(2001, 6, 15), 1),
            (date(2000, 6, 15), date(2025, 6, 14), 24),
            (date(2000, 6, 15), date(2025, 6, 15), 25),
            (date(2000, 12, 31), date(2001, 1, 1), 0),
            (date(2004, 2, 29), date(2005, 2, 28), 0),
            (date(2004, 2, 29), date(2005, 3, 1), 1),
            (date(2004, 2, 29), date(2008, 2, 28), 3),
            (date(2004, 2, 29), date(2008, 2, 29), 4),
            (date(1925, 6, 15), date(2025, 6, 15), 100),
        ],
    )
    def test_whole_years(self, born: date, on: date, age: int) -> None:
        assert age_on(born, on) == age

    @given(
        st.dates(min_value=MIN_BIRTH, max_value=MAX_TODAY),
        st.integers(min_value=0, max_value=60_000),
        st.integers(min_value=0, max_value=60_000),
    )
    def test_age_never_decreases(self, born: date, first: int, second: int) -> None:
        earlier = born + timedelta(days=min(first, second))
        later = born + timedelta(days=max(first, second))

        assert 0 <= age_on(born, earlier) <= age_on(born, later)

    @given(st.dates(min_value=MIN_BIRTH, max_value=MAX_TODAY), st.integers(1, 150))
    def test_age_goes_up_by_exactly_one_on_the_birthday(self, born: date, years: int) -> None:
        year = born.year + years
        try:
            birthday = born.replace(year=year)
        except ValueError:  # 29 February in a year that has none: 1 March
            birthday = date(year, 3, 1)

        assert age_on(born, birthday) == years
        assert age_on(born, birthday - timedelta(days=1)) == years - 1

    @given(birth_and_today(), serials)
    def test_the_plus_sign_is_right_exactly_from_the_hundredth_birthday(
        self, dates: tuple[date, date], serial: int
    ) -> None:
        born, today = dates
        plus = ten(nine_of(born, serial), "+")
        dash = ten(nine_of(born, serial), "-")
        right, wrong = (plus, dash) if age_on(born, today) >= 100 else (dash, plus)

        assert parse_personnummer(right, today=today).birth_date == born
        try:
            other = parse_personnummer(wrong, today=today).birth_date
        except InvalidPersonnummer:  # e.g. 29 February moved into 1900
            return
        assert other != born
