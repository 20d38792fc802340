"""The pure rules of meetings and minutes."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.clock import STOCKHOLM
from common.errors import Conflict, Forbidden, ValidationFailed
from consent.rules import Category
from domain.meetings.rules import (
    GUARDIAN_WITHOUT_NAME,
    AttendeeKind,
    ItemView,
    attendee_name,
    category_errors,
    check_amendable,
    check_finalisable,
    check_item_editable,
    check_open_for_meetings,
    emergency_start_errors,
    group_items,
    in_emergency_window,
    parse_category,
    text_errors,
    time_errors,
)

NOW = datetime(2026, 3, 10, 22, 30, tzinfo=UTC)  # 23:30 in Stockholm
A, B = uuid.uuid4(), uuid.uuid4()


def _fields(errors: list) -> list[str]:  # type: ignore[type-arg]
    return [e.field for e in errors]


class TestTimes:
    def test_end_before_start_names_ends_at(self) -> None:
        assert _fields(time_errors(NOW, NOW)) == ["ends_at"]
        assert _fields(time_errors(NOW, NOW - timedelta(minutes=1))) == ["ends_at"]
        assert time_errors(NOW, NOW + timedelta(hours=1)) == []

    def test_emergency_is_today_or_tomorrow_in_stockholm_and_never_past(self) -> None:
        assert _fields(emergency_start_errors(NOW - timedelta(seconds=1), NOW)) == ["starts_at"]
        assert emergency_start_errors(NOW + timedelta(minutes=10), NOW) == []
        # 23:30 Stockholm: tomorrow ends in 24.5 hours, UTC's tomorrow would end sooner
        end_of_tomorrow = datetime(2026, 3, 11, 23, 59, tzinfo=STOCKHOLM)
        assert emergency_start_errors(end_of_tomorrow, NOW) == []
        assert _fields(emergency_start_errors(end_of_tomorrow + timedelta(minutes=2), NOW)) == [
            "starts_at"
        ]

    @given(st.integers(min_value=-3 * 24 * 60, max_value=4 * 24 * 60))
    def test_the_window_matches_the_emergency_rule_for_future_times(self, minutes: int) -> None:
        starts = NOW + timedelta(minutes=minutes)
        today = NOW.astimezone(STOCKHOLM).date()
        if starts >= NOW:
            assert in_emergency_window(starts, today) == (emergency_start_errors(starts, NOW) == [])


class TestChecks:
    def test_closed_and_declined_cases_take_no_meetings(self) -> None:
        for state in ("closed", "declined"):
            with pytest.raises(Conflict):
                check_open_for_meetings(state)
        for state in ("referred", "consent_pending", "active", "paused"):
            check_open_for_meetings(state)

    def test_only_the_author_edits_and_only_a_draft(self) -> None:
        check_item_editable(minutes_state="draft", author_user_id=A, actor_id=A)
        with pytest.raises(Forbidden):
            check_item_editable(minutes_state="draft", author_user_id=A, actor_id=B)
        with pytest.raises(Conflict):
            check_item_editable(minutes_state="final", author_user_id=A, actor_id=A)

    def test_only_the_chair_finalises_once(self) -> None:
        check_finalisable(minutes_state="draft", chair_user_id=A, actor_id=A)
        with pytest.raises(Forbidden):
            check_finalisable(minutes_state="draft", chair_user_id=A, actor_id=B)
        with pytest.raises(Conflict):
            check_finalisable(minutes_state="final", chair_user_id=A, actor_id=A)

    def test_amendments_of_final_originals_by_author_or_chair(self) -> None:
        ok: dict[str, Any] = {"original_amends": None, "original_author": A, "chair_user_id": B}
        check_amendable(minutes_state="final", actor_id=A, **ok)
        check_amendable(minutes_state="final", actor_id=B, **ok)
        with pytest.raises(Forbidden):
            check_amendable(minutes_state="final", actor_id=uuid.uuid4(), **ok)
        with pytest.raises(Conflict):
            check_amendable(minutes_state="draft", actor_id=A, **ok)
        with pytest.raises(Conflict):
            check_amendable(
                minutes_state="final",
                actor_id=A,
                original_amends=uuid.uuid4(),
                original_author=A,
                chair_user_id=B,
            )

    def test_unknown_category_names_the_field(self) -> None:
        with pytest.raises(ValidationFailed) as caught:
            parse_category("gossip")
        assert _fields(caught.value.errors) == ["category"]
        assert parse_category("school") is Category.SCHOOL

    def test_writers_write_only_what_they_can_read(self) -> None:
        assert category_errors(Category.SCHOOL, writable={Category.SCHOOL}) == []
        assert _fields(category_errors(Category.POLICE, writable={Category.SCHOOL})) == ["category"]

    def test_text_is_trimmed_bounded_and_clean(self) -> None:
        assert text_errors("f", "  a  ", label="x", english="x", max_length=3, required=True) == (
            "a",
            [],
        )
        for bad in ("", "abcd", "a\x00"):
            value, errors = text_errors(
                "f", bad, label="x", english="x", max_length=3, required=True
            )
            assert value is None
            assert _fields(errors) == ["f"]


class TestNames:
    def test_guardian_name_only_with_social(self) -> None:
        common: dict[str, Any] = {"young_person_name": "Y P", "other_name": None, "user_name": None}
        assert (
            attendee_name(AttendeeKind.GUARDIAN, guardian_name="G", sees_social=True, **common)
            == "G"
        )
        assert (
            attendee_name(AttendeeKind.GUARDIAN, guardian_name="G", sees_social=False, **common)
            == GUARDIAN_WITHOUT_NAME
        )
        assert (
            attendee_name(
                AttendeeKind.YOUNG_PERSON, guardian_name=None, sees_social=False, **common
            )
            == "Y P"
        )


def _item(number: int, amends: int | None) -> ItemView:
    at = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(minutes=number)
    return ItemView(
        id=uuid.UUID(int=number + 1),
        heading=str(number),
        text="",
        category="basic",
        visibility="team",
        decision=False,
        author_user_id=None,
        author_name=None,
        author_agency_id=None,
        author_agency_name=None,
        amends_item_id=uuid.UUID(int=amends + 1) if amends is not None else None,
        created_at=at,
        updated_at=at,
        version=1,
    )


@given(
    st.lists(st.one_of(st.none(), st.integers(min_value=0, max_value=9)), max_size=10),
    st.sets(st.integers(min_value=0, max_value=9)),
)
def test_grouping_keeps_every_visible_item_once_and_never_points_at_a_hidden_one(
    targets: list[int | None], hidden: set[int]
) -> None:
    items = [_item(n, t if t is not None and t < n else None) for n, t in enumerate(targets)]
    visible = [i for n, i in enumerate(items) if n not in hidden]
    grouped = group_items(visible)
    flat = [i for item in grouped for i in (item, *item.amendments)]
    assert sorted(i.id for i in flat) == sorted(i.id for i in visible)
    shown = {i.id for i in visible}
    for item in grouped:
        assert item.amends_item_id is None
        for amendment in item.amendments:
            assert amendment.amends_item_id in shown
    assert all(i.amends_item_id is None or i.amends_item_id in shown for i in flat)


def test_an_amendment_sits_beside_its_original() -> None:
    grouped = group_items([_item(0, None), _item(1, None), _item(2, 0)])
    assert [(g.heading, [a.heading for a in g.amendments]) for g in grouped] == [
        ("0", ["2"]),
        ("1", []),
    ]
