"""The start page, "Min dag": what a case-working reader has on today, gathered from the
meetings, the plan and the consents, each through its own scoped, audited read. Nothing here
reads a table itself, so nothing on the page can come from a case the reader may not see."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from common.actor import Actor
from common.roles import Permission, Role
from domain.consents.tracker import EndingConsent, consents_ending
from domain.meetings import service as meetings
from domain.meetings.service import MeetingSummary, StartPageMeeting
from domain.plans import service as plans
from domain.plans.service import CommitmentView

OVERDUE_SHOWN = 50  # the coordinator's overdue list on the start page; the API pages the rest


@dataclass(frozen=True)
class MyDay:
    meetings: Sequence[StartPageMeeting]  # emergency-stop meetings first
    drafts: Sequence[MeetingSummary]  # minutes I chair that are not final yet
    commitments: Sequence[CommitmentView]  # mine and my agency's open ones, overdue first
    programme_overdue: Sequence[CommitmentView]  # a coordinator's: every overdue one
    programme_overdue_total: int
    consents_ending: Sequence[EndingConsent]

    @property
    def emergencies(self) -> Sequence[StartPageMeeting]:
        return [m for m in self.meetings if m.emergency]

    @property
    def is_empty(self) -> bool:
        return not (
            self.meetings
            or self.drafts
            or self.commitments
            or self.programme_overdue
            or self.consents_ending
        )


def works_on_cases(actor: Actor) -> bool:
    """Whether the actor has a working day on cases at all (the start page shows "Min dag")."""
    return actor.can(Permission.READ_MEETINGS) or actor.can(Permission.READ_PLAN)


def my_day(session: Session, actor: Actor, *, today: date) -> MyDay:
    reads_meetings = actor.can(Permission.READ_MEETINGS)
    reads_plan = actor.can(Permission.READ_PLAN)
    overdue = (
        plans.overdue_commitments(session, actor, today=today, page_size=OVERDUE_SHOWN)
        if reads_plan and actor.has_role(Role.COORDINATOR)
        else None
    )
    return MyDay(
        meetings=meetings.my_meetings(session, actor, today=today) if reads_meetings else [],
        drafts=meetings.my_draft_minutes(session, actor) if reads_meetings else [],
        commitments=plans.my_commitments(session, actor, today=today) if reads_plan else [],
        programme_overdue=overdue.items if overdue else [],
        programme_overdue_total=overdue.total if overdue else 0,
        consents_ending=consents_ending(session, actor) if works_on_cases(actor) else [],
    )
