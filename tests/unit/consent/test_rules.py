"""The consent rules (DESIGN §2): who must sign, effective consent at an instant, what the case
lifecycle should do about it, and the birthdays that change who must sign."""

from __future__ import annotations

import dataclasses
import random
import uuid
from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from common.clock import STOCKHOLM
from consent.rules import (
    ACTIVE,
    CASE_STATES,
    CATEGORY_LABELS,
    CLOSED,
    CONSENT_PENDING,
    DECLINED,
    MOVE_REASON_LABELS,
    PAUSED,
    REFERRED,
    YOUNG_PERSON,
    Category,
    ConsentFact,
    Decision,
    EffectiveConsent,
    GuardianInfo,
    Move,
    MoveReason,
    Signer,
    SignerChange,
    SignerKind,
    SigningPolicy,
    age_on,
    birthday,
    consent_move,
    effective_consent,
    required_signers,
    signer_changes_within,
)
from domain.cases.rules import TRANSITIONS, CaseState
from domain.people.personnummer import age_on as domain_age_on

G1, G2, G3 = (uuid.UUID(int=n) for n in (1, 2, 3))
GUARDIAN_1, GUARDIAN_2, GUARDIAN_3 = (Signer.guardian(g) for g in (G1, G2, G3))
SOCIAL, SCHOOL, POLICE, LEISURE = (uuid.UUID(int=n) for n in (101, 102, 103, 104))
ALL_AGENCIES = frozenset({SOCIAL, SCHOOL, POLICE, LEISURE})
ALL_CATEGORIES = frozenset(Category)

DEFAULT = SigningPolicy()
FROM_14 = SigningPolicy(young_person_from_age=14)

JAN_1 = date(2025, 1, 1)
T0 = datetime(2025, 1, 10, 9, 0, tzinfo=UTC)
TODAY = date(2025, 3, 1)
NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)

# A 16-year-old with two custodial guardians: all three must sign.
THREE = frozenset({GUARDIAN_1, GUARDIAN_2, YOUNG_PERSON})


def fact(
    signer: Signer,
    decision: Decision = Decision.GIVEN,
    *,
    recorded_at: datetime = T0,
    valid_from: date = JAN_1,
    valid_until: date | None = None,
    agencies: frozenset[uuid.UUID] = ALL_AGENCIES,
    categories: frozenset[Category] = ALL_CATEGORIES,
    withdrawn_at: datetime | None = None,
) -> ConsentFact:
    return ConsentFact(
        id=uuid.uuid4(),
        signer=signer,
        decision=decision,
        valid_from=valid_from,
        valid_until=valid_until,
        agencies=agencies,
        categories=categories,
        recorded_at=recorded_at,
        withdrawn_at=withdrawn_at,
    )


def consent(
    facts: list[ConsentFact],
    *,
    required: frozenset[Signer] = THREE,
    at: datetime = NOW,
    today: date | None = None,
) -> EffectiveConsent:
    return effective_consent(
        required=required,
        facts=facts,
        at=at,
        today=at.astimezone(STOCKHOLM).date() if today is None else today,
    )


def all_given() -> list[ConsentFact]:
    return [fact(signer) for signer in (GUARDIAN_1, GUARDIAN_2, YOUNG_PERSON)]


# --- Labels, signers, policy ---------------------------------------------------------------------


def test_every_category_has_its_swedish_label() -> None:
    assert CATEGORY_LABELS == {
        Category.BASIC: "Grunduppgifter",
        Category.SCHOOL: "Skola",
        Category.SOCIAL: "Socialtjänst",
        Category.POLICE: "Polis",
        Category.LEISURE: "Fritid",
        Category.HEALTH: "Hälsa",
        Category.RISK: "Riskbedömning",
        Category.PLAN: "Planering och möten",
    }


def test_category_values_are_those_of_the_design() -> None:
    assert [c.value for c in Category] == [
        "basic",
        "school",
        "social",
        "police",
        "leisure",
        "health",
        "risk",
        "plan",
    ]


class TestSigner:
    def test_a_guardian_needs_an_id(self) -> None:
        with pytest.raises(ValueError, match="guardian_id"):
            Signer(SignerKind.GUARDIAN)

    def test_the_young_person_has_no_guardian_id(self) -> None:
        with pytest.raises(ValueError, match="guardian_id"):
            Signer(SignerKind.YOUNG_PERSON, G1)

    def test_signers_are_values(self) -> None:
        assert Signer(SignerKind.GUARDIAN, G1) == GUARDIAN_1
        assert Signer(SignerKind.YOUNG_PERSON) == YOUNG_PERSON
        assert len({GUARDIAN_1, Signer.guardian(G1), GUARDIAN_2, YOUNG_PERSON}) == 3


class TestSigningPolicy:
    def test_defaults(self) -> None:
        assert (DEFAULT.young_person_from_age, DEFAULT.adult_age) == (15, 18)

    @pytest.mark.parametrize(("young", "adult"), [(0, 18), (-1, 18), (19, 18), (15, 0)])
    def test_rejects_nonsense(self, young: int, adult: int) -> None:
        with pytest.raises(ValueError, match="young_person_from_age"):
            SigningPolicy(young_person_from_age=young, adult_age=adult)

    @pytest.mark.parametrize(("young", "adult"), [(1, 1), (18, 18), (14, 18), (1, 30)])
    def test_accepts_sensible_ages(self, young: int, adult: int) -> None:
        SigningPolicy(young_person_from_age=young, adult_age=adult)


# --- Age ------------------------------------------------------------------------------------------


class TestAgeOn:
    @pytest.mark.parametrize(
        ("born", "on", "age"),
        [
            (date(2010, 6, 15), date(2025, 6, 14), 14),
            (date(2010, 6, 15), date(2025, 6, 15), 15),
            (date(2010, 6, 15), date(2025, 6, 16), 15),
            (date(2010, 6, 15), date(2010, 6, 15), 0),
            (date(2008, 2, 29), date(2023, 2, 28), 14),
            (date(2008, 2, 29), date(2023, 3, 1), 15),
            (date(2008, 2, 29), date(2024, 2, 28), 15),
            (date(2008, 2, 29), date(2024, 2, 29), 16),
            (date(2007, 12, 31), date(2025, 1, 1), 17),
        ],
    )
    def test_examples(self, born: date, on: date, age: int) -> None:
        assert age_on(born, on) == age

    @given(
        born=st.dates(date(1900, 1, 1), date(2100, 12, 31)),
        on=st.dates(date(1900, 1, 1), date(2100, 12, 31)),
    )
    def test_agrees_with_the_domain_rule(self, born: date, on: date) -> None:
        assert age_on(born, on) == domain_age_on(born, on)

    @given(born=st.dates(date(1950, 1, 1), date(2050, 12, 31)), age=st.integers(1, 40))
    def test_birthday_is_the_first_day_of_an_age(self, born: date, age: int) -> None:
        day = birthday(born, age)
        assert age_on(born, day) == age
        assert age_on(born, day - timedelta(days=1)) == age - 1

    def test_birthday_of_someone_born_on_29_february(self) -> None:
        assert birthday(date(2008, 2, 29), 15) == date(2023, 3, 1)
        assert birthday(date(2008, 2, 29), 16) == date(2024, 2, 29)
        assert birthday(date(2008, 2, 29), 18) == date(2026, 3, 1)


# --- Who must sign --------------------------------------------------------------------------------

BORN = date(2010, 6, 15)
TWO_CUSTODIANS = [GuardianInfo(G1, has_custody=True), GuardianInfo(G2, has_custody=True)]
GUARDIANS = frozenset({GUARDIAN_1, GUARDIAN_2})
BOTH = GUARDIANS | {YOUNG_PERSON}
ALONE = frozenset({YOUNG_PERSON})


def required_at(
    on: date,
    *,
    born: date = BORN,
    guardians: list[GuardianInfo] | None = None,
    policy: SigningPolicy = DEFAULT,
) -> frozenset[Signer]:
    return required_signers(
        birth_date=born,
        on=on,
        guardians=TWO_CUSTODIANS if guardians is None else guardians,
        policy=policy,
    )


class TestRequiredSigners:
    @pytest.mark.parametrize(
        ("policy", "age", "expected"),
        [
            (DEFAULT, 13, GUARDIANS),
            (DEFAULT, 14, GUARDIANS),
            (DEFAULT, 15, BOTH),
            (DEFAULT, 16, BOTH),
            (DEFAULT, 17, BOTH),
            (DEFAULT, 18, ALONE),
            (DEFAULT, 19, ALONE),
            (FROM_14, 13, GUARDIANS),
            (FROM_14, 14, BOTH),
            (FROM_14, 15, BOTH),
            (FROM_14, 16, BOTH),
            (FROM_14, 17, BOTH),
            (FROM_14, 18, ALONE),
            (FROM_14, 19, ALONE),
        ],
    )
    @pytest.mark.parametrize("days_into_the_year", [0, 1, 200, 364])
    def test_by_age(
        self,
        policy: SigningPolicy,
        age: int,
        expected: frozenset[Signer],
        days_into_the_year: int,
    ) -> None:
        on = birthday(BORN, age) + timedelta(days=days_into_the_year)
        assert age_on(BORN, on) == age
        assert required_at(on, policy=policy) == expected

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2025, 6, 14), GUARDIANS),  # the day before the 15th birthday
            (date(2025, 6, 15), BOTH),  # the 15th birthday
            (date(2025, 6, 16), BOTH),
            (date(2028, 6, 14), BOTH),  # the day before the 18th birthday
            (date(2028, 6, 15), ALONE),  # the 18th birthday
            (date(2028, 6, 16), ALONE),
        ],
    )
    def test_around_the_birthdays(self, on: date, expected: frozenset[Signer]) -> None:
        assert required_at(on) == expected

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2024, 6, 14), GUARDIANS),  # the day before the 14th birthday
            (date(2024, 6, 15), BOTH),
            (date(2025, 6, 15), BOTH),
            (date(2028, 6, 14), BOTH),
            (date(2028, 6, 15), ALONE),
        ],
    )
    def test_around_the_birthdays_when_the_young_person_signs_from_14(
        self, on: date, expected: frozenset[Signer]
    ) -> None:
        assert required_at(on, policy=FROM_14) == expected

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2022, 2, 28), GUARDIANS),  # 13: 2022 has no 29 February
            (date(2023, 2, 28), GUARDIANS),  # still 14
            (date(2023, 3, 1), BOTH),  # 15 on 1 March in a year without 29 February
            (date(2024, 2, 28), BOTH),
            (date(2024, 2, 29), BOTH),
            (date(2026, 2, 28), BOTH),  # still 17
            (date(2026, 3, 1), ALONE),  # 18
        ],
    )
    def test_born_on_29_february(self, on: date, expected: frozenset[Signer]) -> None:
        assert required_at(on, born=date(2008, 2, 29)) == expected

    def test_born_on_29_february_with_a_threshold_in_a_leap_year(self) -> None:
        policy = SigningPolicy(young_person_from_age=16, adult_age=20)
        born = date(2008, 2, 29)
        assert required_at(date(2024, 2, 28), born=born, policy=policy) == GUARDIANS
        assert required_at(date(2024, 2, 29), born=born, policy=policy) == BOTH
        assert required_at(date(2028, 2, 28), born=born, policy=policy) == BOTH
        assert required_at(date(2028, 2, 29), born=born, policy=policy) == ALONE

    def test_only_guardians_with_custody(self) -> None:
        guardians = [
            GuardianInfo(G1, has_custody=True),
            GuardianInfo(G2, has_custody=False),
            GuardianInfo(G3, has_custody=True),
        ]
        assert required_at(date(2023, 1, 1), guardians=guardians) == {GUARDIAN_1, GUARDIAN_3}
        assert required_at(date(2026, 1, 1), guardians=guardians) == {
            GUARDIAN_1,
            GUARDIAN_3,
            YOUNG_PERSON,
        }
        assert required_at(date(2029, 1, 1), guardians=guardians) == ALONE

    def test_a_guardian_listed_twice_signs_once(self) -> None:
        guardians = [GuardianInfo(G1, has_custody=True), GuardianInfo(G1, has_custody=True)]
        assert required_at(date(2023, 1, 1), guardians=guardians) == {GUARDIAN_1}

    @pytest.mark.parametrize(
        ("on", "expected"),
        [
            (date(2023, 1, 1), frozenset()),  # nobody can sign: consent can never be complete
            (date(2026, 1, 1), ALONE),
            (date(2029, 1, 1), ALONE),
        ],
    )
    @pytest.mark.parametrize(
        "guardians", [[], [GuardianInfo(G1, has_custody=False)]], ids=["none", "no_custody"]
    )
    def test_without_a_guardian_with_custody(
        self, on: date, expected: frozenset[Signer], guardians: list[GuardianInfo]
    ) -> None:
        assert required_at(on, guardians=guardians) == expected

    def test_policy_with_equal_ages(self) -> None:
        policy = SigningPolicy(young_person_from_age=18, adult_age=18)
        assert required_at(date(2028, 6, 14), policy=policy) == GUARDIANS
        assert required_at(date(2028, 6, 15), policy=policy) == ALONE

    @given(
        born=st.dates(date(1990, 1, 1), date(2025, 12, 31)),
        age_days=st.integers(0, 25 * 366),
        guardians=st.lists(
            st.builds(GuardianInfo, id=st.sampled_from([G1, G2, G3]), has_custody=st.booleans()),
            max_size=4,
        ),
        young=st.integers(1, 20),
        extra=st.integers(0, 5),
    )
    def test_property_follows_the_policy(
        self,
        born: date,
        age_days: int,
        guardians: list[GuardianInfo],
        young: int,
        extra: int,
    ) -> None:
        policy = SigningPolicy(young_person_from_age=young, adult_age=young + extra)
        on = born + timedelta(days=age_days)
        age = age_on(born, on)
        result = required_signers(birth_date=born, on=on, guardians=guardians, policy=policy)
        assert (YOUNG_PERSON in result) == (age >= policy.young_person_from_age)
        custodians = {g.id for g in guardians if g.has_custody}
        assert {s.guardian_id for s in result if s.kind is SignerKind.GUARDIAN} == (
            custodians if age < policy.adult_age else set()
        )
        # From adult age the young person signs alone; before, somebody signs unless nobody can.
        if age >= policy.adult_age:
            assert result == ALONE
        assert bool(result) == (bool(custodians) or age >= policy.young_person_from_age)


# --- Effective consent: examples -----------------------------------------------------------------


class TestEffectiveConsent:
    def test_complete_when_every_required_signer_has_given(self) -> None:
        facts = all_given()
        result = consent(facts)
        assert result.complete
        assert result.agencies == ALL_AGENCIES
        assert result.categories == ALL_CATEGORIES
        assert result.basis == tuple(sorted(f.id for f in facts))
        assert result.missing == result.refused == result.withdrawn == frozenset()

    def test_scope_is_the_intersection(self) -> None:
        facts = [
            fact(GUARDIAN_1, agencies=frozenset({SOCIAL, SCHOOL, POLICE})),
            fact(
                GUARDIAN_2,
                agencies=frozenset({SOCIAL, SCHOOL, LEISURE}),
                categories=frozenset({Category.BASIC, Category.SCHOOL, Category.HEALTH}),
            ),
            fact(
                YOUNG_PERSON,
                categories=frozenset({Category.BASIC, Category.SCHOOL, Category.PLAN}),
            ),
        ]
        result = consent(facts)
        assert result.complete
        assert result.agencies == {SOCIAL, SCHOOL}
        assert result.categories == {Category.BASIC, Category.SCHOOL}
        assert result.covers(SCHOOL, Category.SCHOOL)
        assert not result.covers(POLICE, Category.SCHOOL)  # only guardian 1 named the police
        assert not result.covers(SCHOOL, Category.HEALTH)  # the young person left out health
        assert not result.covers(uuid.UUID(int=999), Category.BASIC)

    def test_disjoint_scopes_are_complete_but_cover_nothing(self) -> None:
        facts = [
            fact(GUARDIAN_1, agencies=frozenset({SOCIAL})),
            fact(GUARDIAN_2, agencies=frozenset({SCHOOL})),
            fact(YOUNG_PERSON),
        ]
        result = consent(facts)
        assert result.complete
        assert result.agencies == frozenset()
        assert not any(result.covers(a, c) for a in ALL_AGENCIES for c in Category)

    def test_a_missing_signer_means_nothing_is_shared(self) -> None:
        result = consent([fact(GUARDIAN_1), fact(YOUNG_PERSON)])
        assert not result.complete
        assert result.missing == {GUARDIAN_2}
        assert result.refused == result.withdrawn == frozenset()
        assert (result.agencies, result.categories, result.basis) == (frozenset(), frozenset(), ())
        assert not result.covers(SOCIAL, Category.BASIC)

    def test_nothing_recorded(self) -> None:
        result = consent([])
        assert not result.complete
        assert result.missing == THREE

    def test_a_refusal_means_nothing_is_shared(self) -> None:
        result = consent([fact(GUARDIAN_1), fact(GUARDIAN_2, Decision.REFUSED), fact(YOUNG_PERSON)])
        assert not result.complete
        assert result.refused == {GUARDIAN_2}
        assert result.missing == result.withdrawn == frozenset()
        assert result.basis == ()
        assert not result.covers(SOCIAL, Category.BASIC)

    @pytest.mark.parametrize("facts", [[], [fact(GUARDIAN_1), fact(YOUNG_PERSON)]])
    def test_nobody_required_is_never_complete(self, facts: list[ConsentFact]) -> None:
        result = consent(facts, required=frozenset())
        assert not result.complete
        assert result.missing == result.refused == result.withdrawn == frozenset()
        assert (result.agencies, result.categories, result.basis) == (frozenset(), frozenset(), ())
        assert not result.covers(SOCIAL, Category.BASIC)

    def test_facts_of_signers_who_are_not_required_are_ignored(self) -> None:
        # An 18-year-old signs alone: the guardians' records, refusals included, do not count.
        young = fact(YOUNG_PERSON)
        facts = [
            fact(GUARDIAN_1, Decision.REFUSED),
            fact(GUARDIAN_2, agencies=frozenset({SOCIAL})),
            young,
        ]
        result = consent(facts, required=ALONE)
        assert result.complete
        assert result.agencies == ALL_AGENCIES
        assert result.basis == (young.id,)

    def test_a_guardian_without_custody_does_not_narrow_the_scope(self) -> None:
        facts = [*all_given(), fact(GUARDIAN_3, agencies=frozenset())]
        assert consent(facts).agencies == ALL_AGENCIES

    def test_a_new_required_signer_makes_consent_incomplete(self) -> None:
        # The young person turns 15: guardians' consent alone no longer suffices.
        facts = [fact(GUARDIAN_1), fact(GUARDIAN_2)]
        assert consent(facts, required=GUARDIANS).complete
        result = consent(facts, required=BOTH)
        assert not result.complete
        assert result.missing == ALONE

    # Validity period.

    def test_expiry_is_inclusive(self) -> None:
        facts = [*all_given()[:2], fact(YOUNG_PERSON, valid_until=date(2025, 3, 31))]
        assert consent(facts, today=date(2025, 3, 31)).complete
        result = consent(facts, today=date(2025, 4, 1))
        assert not result.complete
        assert result.missing == ALONE

    def test_not_yet_valid(self) -> None:
        facts = [*all_given()[:2], fact(YOUNG_PERSON, valid_from=date(2025, 3, 10))]
        result = consent(facts, today=date(2025, 3, 9))
        assert not result.complete
        assert result.missing == ALONE
        assert consent(facts, today=date(2025, 3, 10)).complete

    def test_a_one_day_period(self) -> None:
        day = date(2025, 3, 5)
        facts = [*all_given()[:2], fact(YOUNG_PERSON, valid_from=day, valid_until=day)]
        assert [
            consent(facts, today=d).complete for d in (day - timedelta(1), day, day + timedelta(1))
        ] == [
            False,
            True,
            False,
        ]

    def test_today_is_the_callers_local_date(self) -> None:
        # 23:30 UTC on 31 March is already 1 April in Stockholm: the caller says which day it is.
        facts = [*all_given()[:2], fact(YOUNG_PERSON, valid_until=date(2025, 3, 31))]
        at = datetime(2025, 3, 31, 23, 30, tzinfo=UTC)
        assert not consent(facts, at=at).complete
        assert consent(facts, at=at, today=date(2025, 3, 31)).complete

    # Recording time and corrections.

    def test_records_recorded_after_the_instant_are_ignored(self) -> None:
        later = T0 + timedelta(days=10)
        facts = [*all_given()[:2], fact(YOUNG_PERSON, recorded_at=later)]
        assert not consent(facts, at=later - MICROSECOND).complete
        assert consent(facts, at=later - MICROSECOND).missing == ALONE
        assert consent(facts, at=later).complete

    def test_a_later_correction_supersedes(self) -> None:
        first = fact(YOUNG_PERSON, agencies=frozenset({SOCIAL, SCHOOL}))
        corrected = fact(
            YOUNG_PERSON, agencies=frozenset({SOCIAL}), recorded_at=T0 + timedelta(days=5)
        )
        facts = [fact(GUARDIAN_1), fact(GUARDIAN_2), corrected, first]
        before = consent(facts, at=T0 + timedelta(days=1))
        after = consent(facts, at=T0 + timedelta(days=5))
        assert before.agencies == {SOCIAL, SCHOOL}
        assert first.id in before.basis
        assert after.agencies == {SOCIAL}
        assert corrected.id in after.basis
        assert first.id not in after.basis

    def test_a_correction_may_widen_the_scope(self) -> None:
        facts = [
            fact(GUARDIAN_1, agencies=frozenset({SOCIAL})),
            fact(GUARDIAN_1, recorded_at=T0 + timedelta(hours=1)),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON),
        ]
        assert consent(facts).agencies == ALL_AGENCIES

    def test_a_later_refusal_supersedes_consent(self) -> None:
        refusal_at = T0 + timedelta(days=20)
        facts = [*all_given(), fact(GUARDIAN_2, Decision.REFUSED, recorded_at=refusal_at)]
        assert consent(facts, at=refusal_at - MICROSECOND).complete
        result = consent(facts, at=refusal_at)
        assert not result.complete
        assert result.refused == {GUARDIAN_2}

    def test_a_later_consent_supersedes_a_refusal(self) -> None:
        given_at = T0 + timedelta(days=20)
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2, Decision.REFUSED),
            fact(GUARDIAN_2, recorded_at=given_at),
            fact(YOUNG_PERSON),
        ]
        assert consent(facts, at=given_at - MICROSECOND).refused == {GUARDIAN_2}
        assert consent(facts, at=given_at).complete

    def test_on_equal_recording_times_the_refusal_wins_whatever_the_order(self) -> None:
        given_one = fact(YOUNG_PERSON)
        refused = fact(YOUNG_PERSON, Decision.REFUSED)
        for facts in (
            [fact(GUARDIAN_1), fact(GUARDIAN_2), given_one, refused],
            [refused, fact(GUARDIAN_1), given_one, fact(GUARDIAN_2)],
        ):
            assert consent(facts).refused == ALONE

    def test_recording_times_compare_as_instants_across_time_zones(self) -> None:
        # 10:30 in Stockholm (winter) is 09:30 UTC: after T0 (09:00 UTC), so it supersedes.
        local = datetime(2025, 1, 10, 10, 30, tzinfo=STOCKHOLM)
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, agencies=frozenset({SOCIAL})),
            fact(YOUNG_PERSON, Decision.REFUSED, recorded_at=local),
        ]
        assert consent(facts, at=datetime(2025, 1, 10, 9, 29, tzinfo=UTC)).complete
        assert consent(facts, at=datetime(2025, 1, 10, 9, 30, tzinfo=UTC)).refused == ALONE

    # Overlapping validity periods.

    def test_a_later_record_supersedes_only_where_the_periods_overlap(self) -> None:
        # A year's consent, then a refusal for March and April only.
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, valid_until=date(2025, 12, 31)),
            fact(
                YOUNG_PERSON,
                Decision.REFUSED,
                recorded_at=T0 + timedelta(days=1),
                valid_from=date(2025, 3, 1),
                valid_until=date(2025, 4, 30),
            ),
        ]
        assert consent(facts, today=date(2025, 2, 28)).complete
        assert consent(facts, today=date(2025, 3, 1)).refused == ALONE
        assert consent(facts, today=date(2025, 4, 30)).refused == ALONE
        assert consent(facts, today=date(2025, 5, 1)).complete
        assert consent(facts, today=date(2026, 1, 1)).missing == ALONE

    def test_a_renewal_follows_on(self) -> None:
        this_year = fact(YOUNG_PERSON, valid_until=date(2025, 12, 31))
        next_year = fact(
            YOUNG_PERSON,
            recorded_at=T0 + timedelta(days=300),
            valid_from=date(2026, 1, 1),
            valid_until=date(2026, 12, 31),
            categories=frozenset({Category.BASIC}),
        )
        facts = [fact(GUARDIAN_1), fact(GUARDIAN_2), this_year, next_year]
        at = T0 + timedelta(days=330)
        december = consent(facts, at=at, today=date(2025, 12, 31))
        january = consent(facts, at=at, today=date(2026, 1, 1))
        assert this_year.id in december.basis
        assert december.categories == ALL_CATEGORIES
        assert next_year.id in january.basis
        assert january.categories == {Category.BASIC}

    def test_the_latest_of_several_overlapping_records_is_in_force(self) -> None:
        records = [
            fact(
                GUARDIAN_1,
                recorded_at=T0 + timedelta(days=n),
                valid_from=date(2025, 1, 1) + timedelta(days=10 * n),
                valid_until=date(2025, 1, 1) + timedelta(days=10 * n + 25),
                agencies=frozenset({agency}),
            )
            for n, agency in enumerate([SOCIAL, SCHOOL, POLICE, LEISURE])
        ]
        facts = [*records, fact(GUARDIAN_2), fact(YOUNG_PERSON)]
        at = T0 + timedelta(days=10)

        def agencies_on(day: date) -> frozenset[uuid.UUID]:
            return consent(facts, at=at, today=day).agencies

        assert agencies_on(date(2025, 1, 5)) == {SOCIAL}  # only the first is valid
        assert agencies_on(date(2025, 1, 15)) == {SCHOOL}  # first and second: the second
        assert agencies_on(date(2025, 1, 25)) == {POLICE}  # three overlap: the third
        assert agencies_on(date(2025, 2, 5)) == {LEISURE}
        assert agencies_on(date(2025, 2, 25)) == {LEISURE}  # the fourth alone
        assert not consent(facts, at=at, today=date(2025, 2, 26)).complete

    # Withdrawal.

    def test_a_withdrawal_takes_effect_at_its_instant(self) -> None:
        withdrawn_at = T0 + timedelta(days=30, seconds=7)
        facts = [*all_given()[:2], fact(YOUNG_PERSON, withdrawn_at=withdrawn_at)]
        assert consent(facts, at=withdrawn_at - MICROSECOND).complete
        result = consent(facts, at=withdrawn_at)
        assert not result.complete
        assert result.withdrawn == ALONE
        assert result.missing == result.refused == frozenset()
        assert result.basis == ()
        assert not result.covers(SOCIAL, Category.BASIC)
        assert not consent(facts, at=withdrawn_at + timedelta(days=365)).complete

    def test_withdrawn_at_the_moment_of_recording(self) -> None:
        facts = [*all_given()[:2], fact(YOUNG_PERSON, withdrawn_at=T0)]
        assert consent(facts, at=T0).withdrawn == ALONE

    def test_a_new_consent_after_a_withdrawal_restores_consent(self) -> None:
        withdrawn_at = T0 + timedelta(days=30)
        again_at = T0 + timedelta(days=40)
        renewed = fact(YOUNG_PERSON, recorded_at=again_at, categories=frozenset({Category.PLAN}))
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, withdrawn_at=withdrawn_at),
            renewed,
        ]
        assert consent(facts, at=again_at - MICROSECOND).withdrawn == ALONE
        result = consent(facts, at=again_at)
        assert result.complete
        assert renewed.id in result.basis
        assert result.categories == {Category.PLAN}

    def test_a_withdrawal_ends_earlier_records_too(self) -> None:
        # A year's consent, corrected to the first half; the correction is withdrawn. The older
        # record must not come back in July: the signer has withdrawn.
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, valid_until=date(2025, 12, 31)),
            fact(
                YOUNG_PERSON,
                recorded_at=T0 + timedelta(days=1),
                valid_until=date(2025, 6, 30),
                withdrawn_at=T0 + timedelta(days=2),
            ),
        ]
        at = T0 + timedelta(days=200)
        assert consent(facts, at=at, today=date(2025, 3, 1)).withdrawn == ALONE
        assert consent(facts, at=at, today=date(2025, 7, 1)).withdrawn == ALONE
        # Without the withdrawal the older record would be in force again in July.
        unwithdrawn = [dataclasses.replace(f, withdrawn_at=None) for f in facts]
        assert consent(unwithdrawn, at=at, today=date(2025, 7, 1)).complete

    def test_withdrawing_a_superseded_record_ends_the_current_one(self) -> None:
        old = fact(YOUNG_PERSON, withdrawn_at=T0 + timedelta(days=5))
        current = fact(YOUNG_PERSON, recorded_at=T0 + timedelta(days=1))
        facts = [fact(GUARDIAN_1), fact(GUARDIAN_2), old, current]
        assert current.id in consent(facts, at=T0 + timedelta(days=4)).basis
        assert consent(facts, at=T0 + timedelta(days=5)).withdrawn == ALONE

    def test_a_withdrawal_does_not_end_a_later_record(self) -> None:
        facts = [
            fact(GUARDIAN_1),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, withdrawn_at=T0 + timedelta(days=5)),
            fact(YOUNG_PERSON, recorded_at=T0 + timedelta(days=3)),  # ended by the withdrawal
            fact(YOUNG_PERSON, recorded_at=T0 + timedelta(days=8)),  # given after it
        ]
        assert consent(facts, at=T0 + timedelta(days=4)).complete
        assert consent(facts, at=T0 + timedelta(days=6)).withdrawn == ALONE
        assert consent(facts, at=T0 + timedelta(days=8)).complete

    def test_withdrawn_then_expired_is_still_withdrawn(self) -> None:
        facts = [
            *all_given()[:2],
            fact(
                YOUNG_PERSON,
                valid_until=date(2025, 2, 1),
                withdrawn_at=T0 + timedelta(days=3),
            ),
        ]
        assert consent(facts, today=date(2025, 3, 1)).withdrawn == ALONE

    def test_an_expired_record_after_an_old_withdrawal_is_missing(self) -> None:
        facts = [
            *all_given()[:2],
            fact(
                YOUNG_PERSON,
                valid_until=date(2025, 1, 20),
                withdrawn_at=T0 + timedelta(days=1),
            ),
            fact(
                YOUNG_PERSON,
                recorded_at=T0 + timedelta(days=2),
                valid_until=date(2025, 2, 1),
            ),
        ]
        assert consent(facts, today=date(2025, 1, 31)).complete
        assert consent(facts, today=date(2025, 2, 2)).missing == ALONE

    def test_a_withdrawal_recorded_after_the_instant_is_not_yet_in_effect(self) -> None:
        facts = [*all_given()[:2], fact(YOUNG_PERSON, withdrawn_at=NOW + timedelta(hours=1))]
        assert consent(facts, at=NOW).complete

    def test_a_withdrawn_refusal_counts_as_withdrawn(self) -> None:
        facts = [
            *all_given()[:2],
            fact(YOUNG_PERSON, Decision.REFUSED, withdrawn_at=T0 + timedelta(days=1)),
        ]
        assert consent(facts, at=T0 + timedelta(hours=1)).refused == ALONE
        result = consent(facts, at=T0 + timedelta(days=1))
        assert result.withdrawn == ALONE
        assert result.refused == frozenset()

    def test_a_refusal_recorded_before_an_unrelated_withdrawal_stays_a_refusal(self) -> None:
        facts = [
            *all_given()[:2],
            fact(YOUNG_PERSON, withdrawn_at=T0 + timedelta(days=2)),
            fact(YOUNG_PERSON, Decision.REFUSED, recorded_at=T0 + timedelta(days=1)),
        ]
        assert consent(facts, at=T0 + timedelta(days=3)).refused == ALONE

    def test_statuses_of_several_signers(self) -> None:
        facts = [
            fact(GUARDIAN_1, Decision.REFUSED),
            fact(YOUNG_PERSON, withdrawn_at=T0 + timedelta(days=1)),
        ]
        result = consent(facts)
        assert result.missing == {GUARDIAN_2}
        assert result.refused == {GUARDIAN_1}
        assert result.withdrawn == ALONE

    # Input checks.

    def test_the_instant_must_be_timezone_aware(self) -> None:
        with pytest.raises(ValueError, match="at must be timezone-aware"):
            effective_consent(
                required=THREE,
                facts=all_given(),
                at=datetime(2025, 3, 1, 12, 0),  # noqa: DTZ001 - the point of the test
                today=TODAY,
            )

    def test_record_times_must_be_timezone_aware(self) -> None:
        naive = datetime(2025, 3, 1, 12, 0)  # noqa: DTZ001 - the point of the test
        with pytest.raises(ValueError, match="recorded_at"):
            fact(YOUNG_PERSON, recorded_at=naive)
        with pytest.raises(ValueError, match="withdrawn_at"):
            fact(YOUNG_PERSON, withdrawn_at=naive)

    def test_a_record_cannot_be_withdrawn_before_it_was_recorded(self) -> None:
        with pytest.raises(ValueError, match="withdrawn before it was recorded"):
            fact(YOUNG_PERSON, withdrawn_at=T0 - MICROSECOND)

    def test_a_period_cannot_end_before_it_starts(self) -> None:
        with pytest.raises(ValueError, match="valid_until"):
            fact(YOUNG_PERSON, valid_from=date(2025, 2, 1), valid_until=date(2025, 1, 31))


# --- Effective consent: properties ---------------------------------------------------------------

SIGNER_POOL = (YOUNG_PERSON, GUARDIAN_1, GUARDIAN_2, GUARDIAN_3)
AGENCY_POOL = (SOCIAL, SCHOOL, POLICE, LEISURE)
BASE = datetime(2025, 1, 1, tzinfo=UTC)
DAY0 = date(2025, 1, 1)

agency_sets = st.frozensets(st.sampled_from(AGENCY_POOL))
category_sets = st.frozensets(st.sampled_from(list(Category)))
signer_sets = st.frozensets(st.sampled_from(SIGNER_POOL))


def minute(n: int) -> datetime:
    return BASE + timedelta(minutes=n)


@st.composite
def facts_for(draw: st.DrawFn, signers: st.SearchStrategy[Signer]) -> ConsentFact:
    recorded = draw(st.integers(0, 60))
    start = draw(st.integers(0, 20))
    length = draw(st.none() | st.integers(0, 20))
    withdrawal = draw(st.none() | st.integers(0, 40))
    return ConsentFact(
        id=draw(st.uuids()),
        signer=draw(signers),
        decision=draw(st.sampled_from(Decision)),
        valid_from=DAY0 + timedelta(days=start),
        valid_until=None if length is None else DAY0 + timedelta(days=start + length),
        agencies=draw(agency_sets),
        categories=draw(category_sets),
        recorded_at=minute(recorded),
        withdrawn_at=None if withdrawal is None else minute(recorded + withdrawal),
    )


histories = st.lists(facts_for(st.sampled_from(SIGNER_POOL)), max_size=12, unique_by=lambda f: f.id)
instants = st.integers(0, 100).map(minute)
days = st.integers(0, 30).map(lambda n: DAY0 + timedelta(days=n))

noise = st.lists(facts_for(st.sampled_from(SIGNER_POOL)), max_size=3, unique_by=lambda f: f.id)
Scenario = tuple[frozenset[Signer], list[ConsentFact], datetime, date]


@st.composite
def likely_consenting(draw: st.DrawFn) -> Scenario:
    """Histories in which most required signers have given consent: one to three records each,
    mostly GIVEN, mostly valid around `today`, sometimes withdrawn, plus some noise."""
    required = draw(signer_sets.filter(bool))
    facts: list[ConsentFact] = []
    for signer in sorted(required, key=str):
        for _ in range(draw(st.integers(1, 3))):
            recorded = draw(st.integers(0, 60))
            start = draw(st.integers(0, 10))
            length = draw(st.none() | st.integers(6, 30))
            withdrawn = draw(st.integers(0, 7)) == 0
            facts.append(
                ConsentFact(
                    id=draw(st.uuids()),
                    signer=signer,
                    decision=draw(st.sampled_from([Decision.GIVEN] * 7 + [Decision.REFUSED])),
                    valid_from=DAY0 + timedelta(days=start),
                    valid_until=None if length is None else DAY0 + timedelta(days=start + length),
                    agencies=draw(agency_sets),
                    categories=draw(category_sets),
                    recorded_at=minute(recorded),
                    withdrawn_at=minute(recorded + draw(st.integers(0, 40))) if withdrawn else None,
                )
            )
    facts.extend(draw(noise))
    at = minute(draw(st.integers(50, 110)))
    today = DAY0 + timedelta(days=draw(st.integers(8, 16)))
    ids = [f.id for f in facts]
    assume(len(set(ids)) == len(ids))
    return required, facts, at, today


@st.composite
def arbitrary(draw: st.DrawFn, required: st.SearchStrategy[frozenset[Signer]]) -> Scenario:
    return draw(required), draw(histories), draw(instants), draw(days)


scenarios = st.one_of(arbitrary(signer_sets), likely_consenting())
# Scenarios in which somebody must sign.
scenarios_with_signers = st.one_of(arbitrary(signer_sets.filter(bool)), likely_consenting())


def known_at(facts: list[ConsentFact], signer: Signer, at: datetime) -> list[ConsentFact]:
    return [f for f in facts if f.signer == signer and f.recorded_at <= at]


def in_force(
    facts: list[ConsentFact], signer: Signer, at: datetime, today: date
) -> ConsentFact | None:
    """The latest recorded record valid today (ties: refusal, then larger id)."""
    valid = [f for f in known_at(facts, signer, at) if f.valid_on(today)]
    return max(
        valid,
        key=lambda f: (f.recorded_at, f.decision is Decision.REFUSED, f.id),
        default=None,
    )


PROPERTY = settings(max_examples=200, deadline=None)


class TestEffectiveConsentProperties:
    @PROPERTY
    @given(
        required=signer_sets.filter(bool),
        scopes=st.lists(st.tuples(agency_sets, category_sets), min_size=4, max_size=4),
        agency=st.sampled_from(AGENCY_POOL),
        category=st.sampled_from(list(Category)),
    )
    def test_scope_is_the_intersection_of_the_records(
        self,
        required: frozenset[Signer],
        scopes: list[tuple[frozenset[uuid.UUID], frozenset[Category]]],
        agency: uuid.UUID,
        category: Category,
    ) -> None:
        facts = [
            fact(signer, agencies=agencies, categories=categories)
            for signer, (agencies, categories) in zip(
                sorted(required, key=str), scopes, strict=False
            )
        ]
        result = consent(facts, required=required, today=TODAY)
        assert result.complete
        for record in facts:
            assert result.agencies <= record.agencies
            assert result.categories <= record.categories
        assert result.agencies == frozenset.intersection(*(f.agencies for f in facts))
        assert result.categories == frozenset.intersection(*(f.categories for f in facts))
        assert result.basis == tuple(sorted(f.id for f in facts))
        assert result.covers(agency, category) == all(
            agency in f.agencies and category in f.categories for f in facts
        )

    @PROPERTY
    @given(
        required=signer_sets.filter(bool),
        recorded=st.lists(st.integers(0, 1000), min_size=4, max_size=4),
        which=st.integers(0, 3),
        delay=st.integers(0, 1000) | st.just(0),
        at_offset=st.integers(-3, 3) | st.integers(-100_000, 100_000),
    )
    def test_withdrawal_at_any_moment(
        self,
        required: frozenset[Signer],
        recorded: list[int],
        which: int,
        delay: int,
        at_offset: int,
    ) -> None:
        signers = sorted(required, key=str)
        withdrawing = signers[which % len(signers)]
        facts = [fact(s, recorded_at=minute(r)) for s, r in zip(signers, recorded, strict=False)]
        position = signers.index(withdrawing)
        w = facts[position].recorded_at + timedelta(seconds=delay)
        facts[position] = dataclasses.replace(facts[position], withdrawn_at=w)
        at = w + timedelta(microseconds=at_offset)
        result = consent(facts, required=required, today=TODAY, at=at)
        unknown = {f.signer for f in facts if f.recorded_at > at}
        assert result.missing == unknown
        assert result.withdrawn == ({withdrawing} if at >= w else set())
        assert result.complete == (not unknown and at < w)
        if at >= w:
            assert not any(result.covers(a, c) for a in AGENCY_POOL for c in Category)

    @PROPERTY
    @given(scenario=scenarios)
    def test_statuses_partition_the_required_signers(self, scenario: Scenario) -> None:
        required, facts, at, today = scenario
        result = consent(facts, required=required, at=at, today=today)
        not_given = [result.missing, result.refused, result.withdrawn]
        for one, other in [(0, 1), (0, 2), (1, 2)]:
            assert not (not_given[one] & not_given[other])
        blocked = result.missing | result.refused | result.withdrawn
        assert blocked <= required
        assert result.complete == (bool(required) and not blocked)
        if not result.complete:
            assert (result.agencies, result.categories, result.basis) == (
                frozenset(),
                frozenset(),
                (),
            )
        assert list(result.basis) == sorted(result.basis)

    @PROPERTY
    @given(scenario=likely_consenting())
    def test_complete_consent_rests_on_the_records_in_force(self, scenario: Scenario) -> None:
        required, facts, at, today = scenario
        result = consent(facts, required=required, at=at, today=today)
        assume(result.complete)
        by_id = {f.id: f for f in facts}
        basis = [by_id[i] for i in result.basis]
        assert {f.signer for f in basis} == required
        assert len(basis) == len(required)
        for record in basis:
            assert record.decision is Decision.GIVEN
            assert record.recorded_at <= at
            assert record.valid_on(today)
            assert not record.withdrawn_by(at)
            assert record == in_force(facts, record.signer, at, today)
            # No withdrawal of this signer's, in effect by `at`, came at or after this record.
            for other in known_at(facts, record.signer, at):
                if other.withdrawn_at is not None and other.withdrawn_at <= at:
                    assert other.withdrawn_at < record.recorded_at
        assert result.agencies == frozenset.intersection(*(f.agencies for f in basis))
        assert result.categories == frozenset.intersection(*(f.categories for f in basis))

    @PROPERTY
    @given(scenario=scenarios)
    def test_refused_and_missing_follow_the_record_in_force(self, scenario: Scenario) -> None:
        required, facts, at, today = scenario
        result = consent(facts, required=required, at=at, today=today)
        for signer in required:
            record = in_force(facts, signer, at, today)
            if signer in result.refused:
                assert record is not None
                assert record.decision is Decision.REFUSED
                assert not record.withdrawn_by(at)
            if record is not None and record.decision is Decision.REFUSED:
                assert signer in result.refused | result.withdrawn
            if signer in result.missing:
                assert record is None
            if record is None:
                assert signer in result.missing | result.withdrawn

    @PROPERTY
    @given(
        scenario=scenarios,
        later=st.lists(facts_for(st.sampled_from(SIGNER_POOL)), max_size=5),
        others=st.lists(facts_for(st.sampled_from(SIGNER_POOL)), max_size=5),
        shuffle=st.randoms(use_true_random=False),
    )
    def test_only_what_was_known_about_required_signers_matters(
        self,
        scenario: Scenario,
        later: list[ConsentFact],
        others: list[ConsentFact],
        shuffle: random.Random,
    ) -> None:
        required, facts, at, today = scenario
        expected = consent(facts, required=required, at=at, today=today)
        # Records made after `at`, and withdrawals after `at`, change nothing at `at`.
        future = [
            dataclasses.replace(
                f, recorded_at=at + (f.recorded_at - BASE) + MICROSECOND, withdrawn_at=None
            )
            for f in later
        ]
        with_future = [*facts, *future]
        assert consent(with_future, required=required, at=at, today=today) == expected
        not_yet_withdrawn = [
            dataclasses.replace(f, withdrawn_at=None)
            if f.withdrawn_at is not None and f.withdrawn_at > at
            else f
            for f in facts
        ]
        assert consent(not_yet_withdrawn, required=required, at=at, today=today) == expected
        # Records of signers who are not required change nothing.
        outsiders = [f for f in others if f.signer not in required]
        assert consent([*facts, *outsiders], required=required, at=at, today=today) == expected
        # Nor does the order of the records.
        assert consent(facts[::-1], required=required, at=at, today=today) == expected
        shuffled = list(facts)
        shuffle.shuffle(shuffled)
        assert consent(shuffled, required=required, at=at, today=today) == expected

    @PROPERTY
    @given(
        scenario=scenarios_with_signers,
        which=st.integers(0, 3),
        pick=st.integers(0, 100),
        fraction=st.floats(0, 1),
    )
    def test_a_withdrawal_ends_everything_recorded_before_it(
        self, scenario: Scenario, which: int, pick: int, fraction: float
    ) -> None:
        """Withdraw any of a signer's records at any moment after the signer's last record so
        far: whatever the history, that signer no longer consents."""
        required, facts, at, today = scenario
        signers = sorted(required, key=str)
        signer = signers[which % len(signers)]
        known = known_at(facts, signer, at)
        assume(known)
        target = known[pick % len(known)]
        last = max(f.recorded_at for f in known)
        w = last + (at - last) * fraction
        facts = [dataclasses.replace(f, withdrawn_at=w) if f is target else f for f in facts]
        result = consent(facts, required=required, at=at, today=today)
        assert not result.complete
        assert signer in result.missing | result.refused | result.withdrawn
        if any(f.decision is Decision.GIVEN for f in known):
            # Not "missing": the signer did consent, and then withdrew (or refused).
            assert signer in result.refused | result.withdrawn

    @PROPERTY
    @given(
        scenario=scenarios_with_signers,
        scopes=st.lists(st.tuples(agency_sets, category_sets), min_size=4, max_size=4),
    )
    def test_a_fresh_consent_from_everyone_restores_consent(
        self,
        scenario: Scenario,
        scopes: list[tuple[frozenset[uuid.UUID], frozenset[Category]]],
    ) -> None:
        required, facts, at, today = scenario
        history = [
            dataclasses.replace(f, withdrawn_at=None)
            if f.withdrawn_at is not None and f.withdrawn_at > at
            else f
            for f in facts
            if f.recorded_at <= at
        ]
        later = at + MICROSECOND
        fresh = [
            fact(s, recorded_at=later, valid_from=DAY0, agencies=a, categories=c)
            for s, (a, c) in zip(sorted(required, key=str), scopes, strict=False)
        ]
        result = consent([*history, *fresh], required=required, at=later, today=today)
        assert result.complete
        assert result.basis == tuple(sorted(f.id for f in fresh))
        assert result.agencies == frozenset.intersection(*(f.agencies for f in fresh))

    @PROPERTY
    @given(facts=histories, at=instants, today=days)
    def test_nobody_required_is_never_complete(
        self, facts: list[ConsentFact], at: datetime, today: date
    ) -> None:
        result = consent(facts, required=frozenset(), at=at, today=today)
        assert result == EffectiveConsent(
            complete=False,
            agencies=frozenset(),
            categories=frozenset(),
            basis=(),
            missing=frozenset(),
            refused=frozenset(),
            withdrawn=frozenset(),
        )


# --- Lifecycle ------------------------------------------------------------------------------------

WITHDRAWN_AT = T0 + timedelta(days=1)

SITUATIONS: dict[str, EffectiveConsent] = {
    "complete": consent(all_given()),
    "missing": consent([fact(GUARDIAN_1), fact(GUARDIAN_2)]),
    "refused": consent([fact(GUARDIAN_1), fact(GUARDIAN_2), fact(YOUNG_PERSON, Decision.REFUSED)]),
    "withdrawn": consent(
        [fact(GUARDIAN_1), fact(GUARDIAN_2), fact(YOUNG_PERSON, withdrawn_at=WITHDRAWN_AT)]
    ),
    "expired": consent(
        [fact(GUARDIAN_1), fact(GUARDIAN_2), fact(YOUNG_PERSON, valid_until=date(2025, 2, 1))]
    ),
    "refused_and_withdrawn": consent(
        [
            fact(GUARDIAN_1, Decision.REFUSED),
            fact(GUARDIAN_2),
            fact(YOUNG_PERSON, withdrawn_at=WITHDRAWN_AT),
        ]
    ),
    "nobody_required": consent(all_given(), required=frozenset()),
}

STAY = None  # consent_move's "no change"
R = MoveReason
# Rows: the current state. Columns, in the order of SITUATIONS: complete, missing, refused,
# withdrawn, expired, refused and withdrawn, nobody required. A paused case here was paused by
# the rules; one paused by hand is the test below.
MOVES: dict[str, tuple[Move | None, ...]] = {
    REFERRED: (STAY, STAY, Move(DECLINED, R.CONSENT_REFUSED), STAY, STAY,
               Move(DECLINED, R.CONSENT_REFUSED), STAY),
    CONSENT_PENDING: (Move(ACTIVE, R.CONSENT_COMPLETE), STAY, Move(DECLINED, R.CONSENT_REFUSED),
                      STAY, STAY, Move(DECLINED, R.CONSENT_REFUSED), STAY),
    ACTIVE: (STAY, Move(PAUSED, R.SIGNER_MISSING), Move(PAUSED, R.CONSENT_REFUSED),
             Move(PAUSED, R.CONSENT_WITHDRAWN), Move(PAUSED, R.CONSENT_EXPIRED),
             Move(PAUSED, R.CONSENT_REFUSED), Move(PAUSED, R.CONSENT_INCOMPLETE)),
    PAUSED: (Move(ACTIVE, R.CONSENT_COMPLETE), STAY, STAY, STAY, STAY, STAY, STAY),
    DECLINED: (STAY, STAY, STAY, STAY, STAY, STAY, STAY),
    CLOSED: (STAY, STAY, STAY, STAY, STAY, STAY, STAY),
}  # fmt: skip
TABLE = [
    pytest.param(state, situation, MOVES[state][column], id=f"{state}-{situation}")
    for state in CASE_STATES
    for column, situation in enumerate(SITUATIONS)
]


def move(current: str, situation: str, *, paused_by_hand: bool = False) -> Move | None:
    return consent_move(
        current=current, paused_by_hand=paused_by_hand, consent=SITUATIONS[situation]
    )


class TestConsentMove:
    def test_the_situations_are_what_their_names_say(self) -> None:
        assert SITUATIONS["complete"].complete
        assert SITUATIONS["missing"].missing == ALONE
        assert not SITUATIONS["missing"].lapsed
        assert SITUATIONS["refused"].refused == ALONE
        assert SITUATIONS["withdrawn"].withdrawn == ALONE
        assert SITUATIONS["expired"].missing == ALONE
        assert SITUATIONS["expired"].lapsed == ALONE
        assert SITUATIONS["refused_and_withdrawn"].refused == {GUARDIAN_1}
        assert SITUATIONS["refused_and_withdrawn"].withdrawn == ALONE
        assert not SITUATIONS["nobody_required"].complete
        assert all(not s.complete for name, s in SITUATIONS.items() if name != "complete")

    def test_the_states_are_those_of_the_case_lifecycle(self) -> None:
        assert tuple(CaseState) == CASE_STATES
        assert len(MOVES) == len(CASE_STATES)

    def test_every_reason_has_its_swedish_label(self) -> None:
        assert set(MOVE_REASON_LABELS) == set(MoveReason)

    @pytest.mark.parametrize(("current", "situation", "expected"), TABLE)
    def test_table(self, current: str, situation: str, expected: Move | None) -> None:
        assert move(current, situation) == expected

    @pytest.mark.parametrize(("current", "situation", "expected"), TABLE)
    def test_accepts_the_domain_enum(
        self, current: str, situation: str, expected: Move | None
    ) -> None:
        assert move(CaseState(current), situation) == expected

    @pytest.mark.parametrize("situation", list(SITUATIONS))
    def test_a_case_paused_by_hand_stays_paused(self, situation: str) -> None:
        assert move(PAUSED, situation, paused_by_hand=True) is None

    def test_paused_by_hand_matters_only_for_paused_cases(self) -> None:
        for current in CASE_STATES:
            if current == PAUSED:
                continue
            for situation in SITUATIONS:
                assert move(current, situation, paused_by_hand=True) == move(current, situation)

    def test_unknown_state(self) -> None:
        with pytest.raises(ValueError, match="unknown case state"):
            move("archived", "complete")

    def test_a_missing_signer_with_only_a_future_record_has_not_lapsed(self) -> None:
        later = fact(YOUNG_PERSON, valid_from=date(2030, 1, 1))
        now = consent([fact(GUARDIAN_1), fact(GUARDIAN_2), later])
        assert now.missing == ALONE
        assert not now.lapsed
        move_ = consent_move(current=ACTIVE, paused_by_hand=False, consent=now)
        assert move_ == Move(PAUSED, R.SIGNER_MISSING)

    @PROPERTY
    @given(current=st.sampled_from(CASE_STATES), by_hand=st.booleans(), scenario=scenarios)
    def test_moves_are_allowed_stable_and_explained(
        self, current: str, by_hand: bool, scenario: Scenario
    ) -> None:
        required, facts, at, today = scenario
        now = consent(facts, required=required, at=at, today=today)
        result = consent_move(current=current, paused_by_hand=by_hand, consent=now)
        assert now.lapsed <= now.missing
        if result is None:
            # Nothing to do means the state already fits the consent, or a person decides.
            if current == ACTIVE:
                assert now.complete
            if current == CONSENT_PENDING:
                assert not now.complete
                assert not now.refused
            return
        assert CaseState(result.target) in TRANSITIONS[CaseState(current)]
        # Moving once is enough: the same consent asks for no further move (a move by the
        # rules is never a move by hand).
        assert consent_move(current=result.target, paused_by_hand=False, consent=now) is None
        # Only complete consent makes a case active; a case with incomplete consent never is.
        assert (result.target == ACTIVE) == now.complete
        assert (result.reason is R.CONSENT_COMPLETE) == now.complete
        assert result.reason not in (R.OPENED, R.MANUAL)
        if result.reason is R.CONSENT_REFUSED:
            assert now.refused


# --- Birthdays that change who must sign ---------------------------------------------------------


def changes(
    today: date, days: int, *, born: date = BORN, policy: SigningPolicy = DEFAULT
) -> list[SignerChange]:
    return signer_changes_within(birth_date=born, today=today, days=days, policy=policy)


FIFTEEN = SignerChange(date(2025, 6, 15), "fyller 15: den unga ska också skriva under")
EIGHTEEN = SignerChange(date(2028, 6, 15), "fyller 18: den unga skriver under ensam")


class TestSignerChangesWithin:
    @pytest.mark.parametrize(
        ("today", "days", "expected"),
        [
            (date(2025, 6, 1), 30, [FIFTEEN]),
            (date(2025, 6, 1), 14, [FIFTEEN]),  # the last day of the window counts
            (date(2025, 6, 1), 13, []),
            (date(2025, 6, 14), 1, [FIFTEEN]),  # the day before
            (date(2025, 6, 15), 30, []),  # on the day it is no longer ahead
            (date(2025, 6, 16), 30, []),
            (date(2025, 6, 14), 0, []),
            (date(2028, 5, 16), 30, [EIGHTEEN]),
            (date(2028, 6, 15), 30, []),
            (date(2025, 1, 1), 4 * 366, [FIFTEEN, EIGHTEEN]),
            (date(2020, 1, 1), 365, []),
            (date(2030, 1, 1), 365, []),
        ],
    )
    def test_examples(self, today: date, days: int, expected: list[SignerChange]) -> None:
        assert changes(today, days) == expected

    def test_young_person_from_14(self) -> None:
        assert changes(date(2024, 6, 1), 30, policy=FROM_14) == [
            SignerChange(date(2024, 6, 15), "fyller 14: den unga ska också skriva under")
        ]
        assert changes(date(2025, 6, 1), 30, policy=FROM_14) == []

    def test_born_on_29_february(self) -> None:
        born = date(2008, 2, 29)
        assert changes(date(2023, 2, 27), 1, born=born) == []
        assert changes(date(2023, 2, 28), 1, born=born) == [
            SignerChange(date(2023, 3, 1), "fyller 15: den unga ska också skriva under")
        ]
        assert changes(date(2026, 2, 1), 30, born=born) == [
            SignerChange(date(2026, 3, 1), "fyller 18: den unga skriver under ensam")
        ]

    def test_equal_ages_change_once(self) -> None:
        policy = SigningPolicy(young_person_from_age=18, adult_age=18)
        assert changes(date(2025, 1, 1), 5 * 366, policy=policy) == [EIGHTEEN]

    def test_negative_days(self) -> None:
        with pytest.raises(ValueError, match="days"):
            changes(date(2025, 6, 1), -1)

    @settings(max_examples=150, deadline=None)
    @given(
        born=st.dates(date(1990, 1, 1), date(2020, 12, 31)),
        young=st.integers(10, 18),
        extra=st.integers(0, 3),
        start=st.integers(-400, 400),
        days=st.integers(0, 500),
        threshold=st.booleans(),
    )
    def test_exactly_the_days_on_which_required_signers_change(
        self, born: date, young: int, extra: int, start: int, days: int, threshold: bool
    ) -> None:
        policy = SigningPolicy(young_person_from_age=young, adult_age=young + extra)
        today = birthday(born, policy.adult_age if threshold else young) + timedelta(days=start)
        guardians = [GuardianInfo(G1, has_custody=True)]

        def required(on: date) -> frozenset[Signer]:
            return required_signers(birth_date=born, on=on, guardians=guardians, policy=policy)

        window = [today + timedelta(days=n) for n in range(1, days + 1)]
        expected = [d for d in window if required(d) != required(d - timedelta(days=1))]
        result = changes(today, days, born=born, policy=policy)
        assert [c.on for c in result] == expected
        for change in result:
            age = age_on(born, change.on)
            assert change.description.startswith(f"fyller {age}: ")
