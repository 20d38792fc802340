from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from common.errors import Conflict, ValidationFailed
from domain.referrals.rules import (
    AgeBand,
    CapacityLoad,
    Decision,
    ReferralStatus,
    SenderStatus,
    capacity_warnings,
    check_age,
    days_between,
    matching_band,
    sender_status,
    status_after,
)

BANDS = [
    AgeBand("SSPF", "SSPF 12–17", 12, 17, requires_crime_criteria=False),
    AgeBand("SIG", "SIG 12–17", 12, 17, requires_crime_criteria=True),
    AgeBand("SIG", "SIG 18+", 18, 20, requires_crime_criteria=True),
]
ON = date(2026, 12, 3)


class TestSenderStatus:
    @pytest.mark.parametrize(
        ("status", "seen"),
        [
            ("received", SenderStatus.RECEIVED),
            ("under_assessment", SenderStatus.UNDER_ASSESSMENT),
            ("waiting", SenderStatus.UNDER_ASSESSMENT),
            ("taken_up", SenderStatus.TAKEN_UP),
            ("not_taken_up", SenderStatus.NOT_TAKEN_UP),
        ],
    )
    def test_waiting_looks_like_under_assessment(self, status: str, seen: SenderStatus) -> None:
        assert sender_status(status) is seen


class TestStatusAfter:
    @pytest.mark.parametrize("decided", ["taken_up", "not_taken_up"])
    def test_a_decided_referral_takes_no_second_decision(self, decided: str) -> None:
        for decision in Decision:
            with pytest.raises(Conflict):
                status_after(decided, decision)

    def test_the_waiting_list_can_lead_to_a_case(self) -> None:
        assert status_after("waiting", Decision.OPEN_CASE) is ReferralStatus.TAKEN_UP
        with pytest.raises(Conflict):
            status_after("waiting", Decision.WAIT_LIST)

    def test_decline_is_not_taken_up(self) -> None:
        assert status_after("received", Decision.DECLINE) is ReferralStatus.NOT_TAKEN_UP


class TestEligibility:
    def test_age_inside_a_band_passes(self) -> None:
        check_age("SSPF", BANDS, birth_date=date(2012, 1, 1), birth_year=None, on=ON)

    def test_outside_every_band_names_the_programme_field(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            check_age("SSPF", BANDS, birth_date=date(2007, 1, 1), birth_year=None, on=ON)
        assert caught.value.errors[0].field == "programme"

    def test_separate_groups_of_a_programme(self) -> None:
        band = matching_band("SIG", BANDS, birth_date=date(2007, 6, 1), birth_year=None, on=ON)
        assert band is not None
        assert band.label == "SIG 18+"

    def test_a_birth_year_alone_gives_the_benefit_of_the_doubt(self) -> None:
        # Born 2008: 17 or 18 on ON; either fits SSPF's 12-17.
        check_age("SSPF", BANDS, birth_date=None, birth_year=2008, on=ON)
        with pytest.raises(ValidationFailed):
            check_age("SSPF", BANDS, birth_date=None, birth_year=2006, on=ON)

    def test_a_birthday_not_yet_reached_counts(self) -> None:
        with pytest.raises(ValidationFailed):  # 11 until the 4th
            check_age("SSPF", BANDS, birth_date=date(2014, 12, 4), birth_year=None, on=ON)


class TestCapacity:
    def test_full_when_load_reaches_persons_times_places(self) -> None:
        police = CapacityLoad("SIG", "police", "contact_person", 2, persons=1, load=2)
        assert police.full
        warnings = capacity_warnings([police])
        assert "Polisens kontaktpersoner" in warnings[0].swedish

    def test_room_left_warns_nothing(self) -> None:
        loads = [CapacityLoad("SIG", "police", "contact_person", 2, persons=2, load=3)]
        assert capacity_warnings(loads) == []

    def test_no_persons_is_not_a_full_capacity(self) -> None:
        assert not CapacityLoad("SIG", "police", "contact_person", 2, persons=0, load=0).full


def test_days_between_counts_stockholm_calendar_days() -> None:
    late = datetime(2026, 12, 1, 22, 30, tzinfo=UTC)  # 23:30 in Stockholm, the 1st
    assert days_between(late, datetime(2026, 12, 1, 23, 30, tzinfo=UTC)) == 1
