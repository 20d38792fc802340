"""Every query on meetings, attendance and minute items, through the actor's case scope.

Meetings and attendance are read by case (`_by_case`); minute items by the shared-entry rule
(`_entries`, the SQL form of `CaseScope.sees_entry`), so an item the reader may not see never
leaves the database. Writes use compare-and-set on `version`, so of two concurrent edits
based on the same version exactly one wins.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, update
from sqlalchemy.orm.attributes import set_committed_value
from sqlmodel import col, select

from consent.models import TeamMember
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.meetings.models import Meeting, MeetingAttendee, MinuteItem
from domain.meetings.rules import AttendanceStatus, AttendeeKind
from domain.scoping import S, ScopedRepository
from domain.users.models import User


class MeetingRepository(ScopedRepository):
    def meetings_of(self, case_id: uuid.UUID) -> Sequence[Meeting]:
        statement = (
            select(Meeting)
            .where(Meeting.case_id == case_id)
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        )
        return self._session.exec(self._by_case(statement, Meeting.case_id)).all()

    def get(self, case_id: uuid.UUID, meeting_id: uuid.UUID) -> Meeting | None:
        statement = select(Meeting).where(Meeting.id == meeting_id, Meeting.case_id == case_id)
        return self._session.exec(self._by_case(statement, Meeting.case_id)).first()

    def upcoming(self, since: datetime) -> Sequence[tuple[Meeting, Case]]:
        """Scheduled meetings from `since` on, of every case the scope reaches."""
        statement = (
            select(Meeting, Case)
            .join(Case, col(Case.id) == col(Meeting.case_id))
            .where(col(Meeting.starts_at) >= since, Meeting.status == "scheduled")
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        )
        return [(m, c) for m, c in self._session.exec(self._cases(statement)).all()]

    def drafts_chaired_by(self, user_id: uuid.UUID) -> Sequence[tuple[Meeting, Case]]:
        statement = (
            select(Meeting, Case)
            .join(Case, col(Case.id) == col(Meeting.case_id))
            .where(
                Meeting.chair_user_id == user_id,
                Meeting.minutes_state == "draft",
                Meeting.status == "scheduled",
            )
            .order_by(col(Meeting.starts_at), col(Meeting.id))
        )
        return [(m, c) for m, c in self._session.exec(self._cases(statement)).all()]

    def invited_meeting_ids(
        self, user_id: uuid.UUID, meeting_ids: Sequence[uuid.UUID]
    ) -> set[uuid.UUID]:
        if not meeting_ids:
            return set()
        statement = (
            select(MeetingAttendee.meeting_id)
            .join(Meeting, col(Meeting.id) == col(MeetingAttendee.meeting_id))
            .where(
                MeetingAttendee.user_id == user_id, col(MeetingAttendee.meeting_id).in_(meeting_ids)
            )
        )
        return set(self._session.exec(self._by_case(statement, Meeting.case_id)).all())

    def team_user_ids(self, case_id: uuid.UUID) -> set[uuid.UUID]:
        statement = select(TeamMember.user_id).where(
            TeamMember.case_id == case_id, col(TeamMember.removed_at).is_(None)
        )
        return set(self._session.exec(self._by_case(statement, TeamMember.case_id)).all())

    def attendees(self, meeting: Meeting) -> Sequence[MeetingAttendee]:
        statement = (
            select(MeetingAttendee)
            .join(Meeting, col(Meeting.id) == col(MeetingAttendee.meeting_id))
            .where(MeetingAttendee.meeting_id == meeting.id)
            .order_by(col(MeetingAttendee.kind), col(MeetingAttendee.id))
        )
        return self._session.exec(self._by_case(statement, Meeting.case_id)).all()

    def visible_items(self, meeting: Meeting) -> Sequence[MinuteItem]:
        """The items of `meeting` the reader may see, oldest first."""
        statement = (
            select(MinuteItem)
            .where(MinuteItem.meeting_id == meeting.id)
            .order_by(col(MinuteItem.created_at), col(MinuteItem.id))
        )
        return self._session.exec(self._items(statement)).all()

    def visible_item(self, meeting: Meeting, item_id: uuid.UUID) -> MinuteItem | None:
        statement = select(MinuteItem).where(
            MinuteItem.id == item_id, MinuteItem.meeting_id == meeting.id
        )
        return self._session.exec(self._items(statement)).first()

    def _items(self, statement: S) -> S:
        return self._entries(
            statement,
            case_id=MinuteItem.case_id,
            category=MinuteItem.category,
            visibility=MinuteItem.visibility,
            author_agency_id=MinuteItem.author_agency_id,
        )

    def users_with_agencies(self, user_ids: set[uuid.UUID]) -> dict[uuid.UUID, tuple[User, Agency]]:
        """Staff names and agencies (not case data: `app_user` and `agency` are not gated)."""
        if not user_ids:
            return {}
        statement = (
            select(User, Agency)
            .join(Agency, col(Agency.id) == col(User.agency_id))
            .where(col(User.id).in_(user_ids))
        )
        return {user.id: (user, agency) for user, agency in self._session.exec(statement).all()}

    # --- writes ------------------------------------------------------------------------

    def add(self, meeting: Meeting, attendees: Sequence[MeetingAttendee]) -> None:
        _summarise(meeting, attendees)
        self._session.add(meeting)
        self._session.flush()
        for attendee in attendees:
            self._session.add(attendee)
        self._session.flush()

    def claim_meeting(
        self, meeting: Meeting, expected_version: int, *, raise_sequence: bool
    ) -> bool:
        """Compare-and-set: the meeting moves from `expected_version` to the next, or False
        when someone else changed it first. The caller then changes the loaded row."""
        sequence = meeting.sequence + (1 if raise_sequence else 0)
        result = self._session.execute(
            update(Meeting)
            .where(col(Meeting.id) == meeting.id, col(Meeting.version) == expected_version)
            .values(
                version=expected_version + 1,
                sequence=sequence,
            )
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        set_committed_value(meeting, "version", expected_version + 1)
        set_committed_value(meeting, "sequence", sequence)
        return True

    def claim_item(self, item: MinuteItem, expected_version: int) -> bool:
        result = self._session.execute(
            update(MinuteItem)
            .where(col(MinuteItem.id) == item.id, col(MinuteItem.version) == expected_version)
            .values(version=expected_version + 1)
            .execution_options(synchronize_session=False)
        )
        if result.rowcount != 1:  # type: ignore[attr-defined]
            return False
        set_committed_value(item, "version", expected_version + 1)
        return True

    def current_version(self, meeting: Meeting) -> int | None:
        """The meeting's version as stored now (after a lost compare-and-set)."""
        statement = select(Meeting.version).where(Meeting.id == meeting.id)
        return self._session.exec(self._by_case(statement, Meeting.case_id)).first()

    def current_item_version(self, item: MinuteItem) -> int | None:
        statement = select(MinuteItem.version).where(MinuteItem.id == item.id)
        return self._session.exec(self._by_case(statement, MinuteItem.case_id)).first()

    def replace_attendees(self, meeting: Meeting, attendees: Sequence[MeetingAttendee]) -> None:
        """The meeting's attendance becomes `attendees`; the meeting's summary of it follows
        in the same flush. The caller has claimed the meeting (`claim_meeting`)."""
        self._session.execute(
            delete(MeetingAttendee).where(col(MeetingAttendee.meeting_id) == meeting.id)
        )
        _summarise(meeting, attendees)
        for attendee in attendees:
            self._session.add(attendee)
        self._session.flush()

    def add_item(self, item: MinuteItem) -> None:
        self._session.add(item)
        self._session.flush()

    def save(self, row: Meeting | MinuteItem) -> None:
        self._session.add(row)
        self._session.flush()


def _summarise(meeting: Meeting, attendees: Sequence[MeetingAttendee]) -> None:
    """What the follow-up counts of a meeting's attendance, kept on the meeting: whether any
    was recorded (someone came or was absent), whether the young person came, and how many
    guardians came."""
    came = [a.kind for a in attendees if a.status == AttendanceStatus.CAME]
    meeting.attendance_recorded = any(
        a.status in (AttendanceStatus.CAME, AttendanceStatus.ABSENT) for a in attendees
    )
    meeting.young_person_came = AttendeeKind.YOUNG_PERSON in came
    meeting.guardians_came = came.count(AttendeeKind.GUARDIAN)
