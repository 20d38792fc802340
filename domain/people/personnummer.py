"""Swedish personnummer and samordningsnummer: parsing, validation, normal form.

Accepted forms: ``YYYYMMDDNNNC``, ``YYYYMMDD-NNNC``, ``YYMMDDNNNC``, ``YYMMDD-NNNC`` and
``YYMMDD+NNNC`` (``+`` marks a person aged 100 or more). For the 10-digit forms the century
is the latest one that puts the birth date on or before today (100 years further back with
``+``). A samordningsnummer has 60 added to the day of birth. The last digit is a Luhn check
digit over the 10-digit form.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

# ASCII only: `\d` alone also matches other scripts' digits, which `int` reads but which would
# end up in `digits` and give the same person a different blind index.
_PATTERN = re.compile(
    r"^(?P<century>\d{2})?(?P<yymmdd>\d{6})(?P<sep>[-+]?)(?P<serial>\d{3})(?P<check>\d)$",
    re.ASCII,
)
COORDINATION_DAY_OFFSET = 60
# The accepted forms in words, shown as the form's hint and in the error, so the two agree.
ACCEPTED_FORMS = (
    "10 eller 12 siffror, med eller utan bindestreck: ÅÅÅÅMMDD-NNNN eller ÅÅMMDD-NNNN, "
    "till exempel 20110412-1234"
)


class InvalidPersonnummer(ValueError):
    """Carries a message fit to show the user (Swedish)."""


@dataclass(frozen=True)
class Personnummer:
    digits: str  # 12 digits, the normal form used for the blind index
    birth_date: date
    is_coordination_number: bool

    @property
    def formatted(self) -> str:
        return f"{self.digits[:8]}-{self.digits[8:]}"


def luhn_check_digit(nine_digits: str) -> int:
    total = 0
    for index, char in enumerate(nine_digits):
        product = int(char) * (2 if index % 2 == 0 else 1)
        total += product // 10 + product % 10
    return (10 - total % 10) % 10


def _birth_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        raise InvalidPersonnummer("Personnumret innehåller ett datum som inte finns.") from None


def parse_personnummer(text: str, *, today: date) -> Personnummer:
    cleaned = text.strip().replace(" ", "")
    match = _PATTERN.match(cleaned)
    if match is None:
        raise InvalidPersonnummer(f"Ange personnummer med {ACCEPTED_FORMS}.")
    century, yymmdd, sep = match["century"], match["yymmdd"], match["sep"]
    serial, check = match["serial"], int(match["check"])
    if century is not None and sep == "+":
        raise InvalidPersonnummer("Plustecken används bara i den tiosiffriga formen.")

    yy, month, day_field = int(yymmdd[:2]), int(yymmdd[2:4]), int(yymmdd[4:6])
    is_coordination = day_field > COORDINATION_DAY_OFFSET
    day = day_field - COORDINATION_DAY_OFFSET if is_coordination else day_field

    if century is not None:
        born = _birth_date(int(century) * 100 + yy, month, day)
    else:
        year = today.year - (today.year - yy) % 100
        if (month, day) > (today.month, today.day) and year == today.year:
            year -= 100
        if sep == "+":
            year -= 100
        born = _birth_date(year, month, day)

    if born > today:
        raise InvalidPersonnummer("Personnumret anger ett födelsedatum i framtiden.")
    if luhn_check_digit(yymmdd + serial) != check:
        raise InvalidPersonnummer("Kontrollsiffran stämmer inte. Kontrollera personnumret.")
    return Personnummer(
        digits=f"{born.year:04d}{yymmdd[2:]}{serial}{check}",
        birth_date=born,
        is_coordination_number=is_coordination,
    )


def age_on(birth_date: date, on: date) -> int:
    """Age in whole years; someone born 29 February turns a year older on 1 March in other years."""
    years = on.year - birth_date.year
    if (on.month, on.day) < (birth_date.month, birth_date.day):
        years -= 1
    return years
