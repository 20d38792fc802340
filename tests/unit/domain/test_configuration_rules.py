"""Pure rules of the municipality's configuration: the consent ages' bounds and the Swedish
words the history shows for each kind of value."""

from __future__ import annotations

import pytest

from common.errors import FieldError
from domain.configuration.rules import ConfigKind, consent_ages, decode, describe, encode


class TestConsentAges:
    @pytest.mark.parametrize(("young", "adult"), [(14, 18), (15, 18), ("12", "16"), (18, 18)])
    def test_whole_years_within_bounds_are_taken(self, young: int | str, adult: int | str) -> None:
        errors: list[FieldError] = []
        assert consent_ages(young_person_from_age=young, adult_age=adult, errors=errors) == (
            int(young),
            int(adult),
        )
        assert errors == []

    @pytest.mark.parametrize(
        ("young", "adult", "fields"),
        [
            (11, 18, ["young_person_from_age"]),
            (19, 18, ["young_person_from_age"]),
            ("femton", 18, ["young_person_from_age"]),
            ("-1", 18, ["young_person_from_age"]),
            (15, 15, ["adult_age"]),
            (15, 22, ["adult_age"]),
            ("", "", ["young_person_from_age", "adult_age"]),
            (17, 16, ["young_person_from_age"]),  # signs too later than alone
        ],
    )
    def test_anything_else_names_the_field(
        self, young: int | str, adult: int | str, fields: list[str]
    ) -> None:
        errors: list[FieldError] = []
        assert consent_ages(young_person_from_age=young, adult_age=adult, errors=errors) is None
        assert [e.field for e in errors] == fields


class TestDescribe:
    def test_each_kind_in_swedish_words(self) -> None:
        assert describe(
            ConfigKind.CONSENT_AGES, {"young_person_from_age": 14, "adult_age": 18}
        ) == ("Den unga skriver under också från 14 år och ensam från 18 år")
        assert describe(ConfigKind.REFERRAL_GROUNDS, ["Hög skolfrånvaro", "Oro"]) == (
            "Hög skolfrånvaro; Oro"
        )
        band = {
            "programme": "SIG",
            "label": "Unga vuxna",
            "min_age": 15,
            "max_age": 20,
            "requires_crime_criteria": True,
        }
        assert describe(ConfigKind.ELIGIBILITY, [band]) == (
            "SIG Unga vuxna: 15–20 år, kräver brottskriterier"
        )
        rule = {
            "programme": "SSPF",
            "agency_kind": "school",
            "role": "contact_person",
            "per_person": 8,
        }
        assert describe(ConfigKind.CAPACITY, [rule]) == (
            "SSPF, Skola, kontaktperson: 8 ärenden per person"
        )
        level = {"code": "A", "rank": 4, "wording": "Mest brottsaktiv"}
        assert describe(ConfigKind.CYLINDER_LEVEL, level) == "Nivå A (ordning 4): Mest brottsaktiv"
        factor = {"kind": "protective", "text": "Idrottar"}
        assert describe(ConfigKind.ASSESSMENT_FACTOR, factor) == "Skyddsfaktor: Idrottar"

    def test_an_absent_value_is_empty(self) -> None:
        assert describe(ConfigKind.CYLINDER_LEVEL, None) == ""

    def test_values_survive_storage(self) -> None:
        value = {"wording": "Åäö", "rank": 1}
        assert decode(encode(value)) == value
        assert encode(None) is None
