"""Use cases for cylinder-model assessments and their configuration.

Who may do what:
- READ_ASSESSMENTS: read the assessments of a case the scope lets the reader see. They are
  shared entries of category `risk`: a partner whose agency's consent lacks `risk` reads the
  case's path as empty (the case itself may still be visible to them through `basic`).
- RECORD_ASSESSMENT on a case the actor manages (its own unit or the coordinator): record a
  new assessment. Assessments are immutable; the latest is current.
- CONFIGURE (the administrator): rename, add and retire levels and factors. A change is a new
  version; an assessment keeps the level and factor texts it was made with.
Every read of assessments is audited with the scope's basis, every write too.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import STOCKHOLM, utcnow
from common.clock import today as stockholm_today
from common.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import Permission
from consent.scope import CaseScope
from domain.access import case_scope
from domain.assessments import rules
from domain.assessments.models import Assessment, AssessmentFactor, CylinderLevel
from domain.assessments.repository import AssessmentConfigRepository, AssessmentRepository
from domain.assessments.rules import Factor, Level, Movement, Participant
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.cases.rules import CaseState
from domain.configuration.rules import ConfigKind
from domain.configuration.service import record_change
from domain.meetings.models import Meeting
from domain.meetings.repository import MeetingRepository


@dataclass(frozen=True)
class AssessmentEntry:
    """One assessment as a reader sees it: its snapshots unpacked, and how it moved."""

    assessment: Assessment
    level: Level
    factors: Sequence[Factor]
    participants: Sequence[Participant]
    movement: Movement

    @property
    def risk_factors(self) -> list[Factor]:
        return [f for f in self.factors if f.kind == rules.FactorKind.RISK.value]

    @property
    def protective_factors(self) -> list[Factor]:
        return [f for f in self.factors if f.kind == rules.FactorKind.PROTECTIVE.value]


@dataclass(frozen=True)
class AssessmentPath:
    """One reader's view of a case's assessments, oldest first. `axis` is the chart's levels,
    bottom first. The choices for a new assessment (`levels`, `factors`, `team`, `meetings`)
    are given only to a reader who may record one."""

    case: Case
    entries: Sequence[AssessmentEntry]
    axis: Sequence[Level]
    recordable: bool
    levels: Sequence[CylinderLevel]
    factors: Sequence[AssessmentFactor]
    team: Sequence[Participant]
    meetings: Sequence[Meeting]

    @property
    def current(self) -> AssessmentEntry | None:
        return self.entries[-1] if self.entries else None


def _level(row: CylinderLevel) -> Level:
    return Level(code=row.code, rank=row.rank, wording=row.wording)


def _factor(row: AssessmentFactor) -> Factor:
    return Factor(id=row.factor_id, kind=row.kind, text=row.text)


def _entries(rows: Sequence[Assessment]) -> list[AssessmentEntry]:
    moved = rules.movements([row.level_rank for row in rows])
    return [
        AssessmentEntry(
            assessment=row,
            level=Level(code=row.level_code, rank=row.level_rank, wording=row.level_wording),
            factors=rules.factors_from_json(row.factors),
            participants=rules.participants_from_json(row.participants),
            movement=movement,
        )
        for row, movement in zip(rows, moved, strict=True)
    ]


def _records(actor: Actor, scope: CaseScope, case: Case) -> bool:
    return (
        actor.can(Permission.RECORD_ASSESSMENT)
        and scope.manages(case)
        and case.state != CaseState.CLOSED.value
    )


def _team(session: Session, scope: CaseScope, case: Case) -> dict[uuid.UUID, Participant]:
    return {
        m.user_id: Participant(
            user_id=m.user_id, name=m.display_name, agency_id=m.agency_id, agency_name=m.agency_name
        )
        for m in CaseRepository(session, scope).team(case)
    }


# --- reading -------------------------------------------------------------------------


def read_path(session: Session, actor: Actor, *, case_id: uuid.UUID) -> AssessmentPath:
    """The case's assessments the reader may see, for the path over time."""
    actor.require(Permission.READ_ASSESSMENTS)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None:
        raise NotFound()
    entries = _entries(AssessmentRepository(session, scope).of_case(case.id))
    config = AssessmentConfigRepository(session)
    current_levels = config.current_levels()
    recordable = _records(actor, scope, case)
    audit.record(
        session,
        actor,
        action="assessment.list",
        resource_type="case",
        resource_id=case.id,
        case_id=case.id,
        basis={
            **scope.basis_for(case),
            "assessments": [str(e.assessment.id) for e in entries],
        },
    )
    return AssessmentPath(
        case=case,
        entries=entries,
        axis=rules.axis_levels([_level(r) for r in current_levels], [e.level for e in entries])
        if entries
        else [],
        recordable=recordable,
        levels=current_levels if recordable else [],
        factors=config.current_factors() if recordable else [],
        team=list(_team(session, scope, case).values()) if recordable else [],
        meetings=MeetingRepository(session, scope).meetings_of(case.id) if recordable else [],
    )


def read_assessment(
    session: Session, actor: Actor, *, case_id: uuid.UUID, assessment_id: uuid.UUID
) -> AssessmentEntry:
    actor.require(Permission.READ_ASSESSMENTS)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None:
        raise NotFound()
    assessments = AssessmentRepository(session, scope)
    row = assessments.get(case.id, assessment_id)
    if row is None:
        raise NotFound()
    path = _entries(assessments.of_case(case.id))
    entry = next(e for e in path if e.assessment.id == row.id)
    audit.record(
        session,
        actor,
        action="assessment.read",
        resource_type="assessment",
        resource_id=row.id,
        case_id=case.id,
        basis=scope.basis_for(case),
    )
    return entry


# --- recording -----------------------------------------------------------------------


def recording_case(session: Session, actor: Actor, *, case_id: uuid.UUID) -> Case:
    """The access decision for recording: the permission (403), a case the actor manages
    (404 otherwise), not closed (409). Pages call it before they read the form."""
    actor.require(Permission.RECORD_ASSESSMENT)
    scope = case_scope(session, actor)
    case = CaseRepository(session, scope).get(case_id)
    if case is None or not scope.manages(case):
        raise NotFound()
    if case.state == CaseState.CLOSED.value:
        raise Conflict(
            "Ärendet är avslutat: nya bedömningar kan inte göras.",
            english="The case is closed: no new assessments can be recorded.",
        )
    return case


def record_assessment(
    session: Session,
    actor: Actor,
    *,
    case_id: uuid.UUID,
    level_code: str,
    factor_ids: Sequence[uuid.UUID],
    rationale: str,
    participant_user_ids: Sequence[uuid.UUID],
    meeting_id: uuid.UUID | None = None,
    assessed_on: date | None = None,
    today: date | None = None,
) -> AssessmentEntry:
    """Record a new assessment on a case the actor manages; bad input names every field and
    stores nothing."""
    case = recording_case(session, actor, case_id=case_id)
    scope = case_scope(session, actor)
    config = AssessmentConfigRepository(session)
    errors: list[FieldError] = []
    level_rows = {row.code: row for row in config.current_levels()}
    level = rules.choose_level(level_code, [_level(r) for r in level_rows.values()], errors)
    factors = rules.choose_factors(
        factor_ids, [_factor(r) for r in config.current_factors()], errors
    )
    text = rules.rationale_text(rationale, errors)
    participants = rules.choose_participants(
        participant_user_ids, _team(session, scope, case), errors
    )
    meeting_day: date | None = None
    if meeting_id is not None:
        meeting = MeetingRepository(session, scope).get(case.id, meeting_id)
        if meeting is None:
            errors.append(
                FieldError(
                    "meeting_id",
                    "Mötet hör inte till ärendet. Välj ett av ärendets möten.",
                    "meeting_id names no meeting of this case.",
                )
            )
        else:
            meeting_day = meeting.starts_at.astimezone(STOCKHOLM).date()
    day = rules.assessment_day(
        given=assessed_on,
        meeting_day=meeting_day,
        has_meeting=meeting_id is not None,
        today=today or stockholm_today(),
        errors=errors,
    )
    if errors or level is None or text is None or day is None:
        raise ValidationFailed(errors)
    row = Assessment(
        case_id=case.id,
        level_id=level_rows[level.code].id,
        level_code=level.code,
        level_rank=level.rank,
        level_wording=level.wording,
        factors=rules.factors_json(factors),
        rationale=text,
        participants=rules.participants_json(participants),
        meeting_id=meeting_id,
        assessed_on=day,
        author_agency_id=actor.agency_id,
        recorded_by=actor.user_id,
        recorded_at=utcnow(),
    )
    repository = AssessmentRepository(session, scope)
    repository.add(row)
    audit.record(
        session,
        actor,
        action="assessment.record",
        resource_type="assessment",
        resource_id=row.id,
        case_id=case.id,
        basis={**scope.basis_for(case), "level": level.code},
    )
    path = _entries(repository.of_case(case.id))
    return next(e for e in path if e.assessment.id == row.id)


# --- configuration -------------------------------------------------------------------


def current_levels(session: Session, actor: Actor) -> Sequence[CylinderLevel]:
    """The municipality's levels, bottom first (configuration: no case data)."""
    del actor  # any signed-in user may read the configuration
    return AssessmentConfigRepository(session).current_levels()


def current_factors(session: Session, actor: Actor) -> Sequence[AssessmentFactor]:
    del actor
    return AssessmentConfigRepository(session).current_factors()


def set_level(
    session: Session,
    actor: Actor,
    *,
    code: str,
    wording: str,
    rank: int,
    version: int | None,
) -> CylinderLevel:
    """Add a level (`version` None) or give a current one new wording or rank (`version` the
    one it was based on). The old version stays for the assessments made with it."""
    actor.require(Permission.CONFIGURE)
    config = AssessmentConfigRepository(session)
    errors: list[FieldError] = []
    current = config.current_levels()
    level = rules.level_config(
        code=code, wording=wording, rank=rank, others=[_level(r) for r in current], errors=errors
    )
    if errors or level is None:
        raise ValidationFailed(errors)
    latest = config.latest_level(level.code)
    live = latest is not None and not latest.retired
    if live and latest is not None:
        if version != latest.version:
            raise StaleVersion(current_version=latest.version)
    elif version is not None:  # a new (or retired) code: nothing to base an edit on
        raise StaleVersion(current_version=None)
    now = utcnow()
    if latest is not None and not config.supersede(latest, now):
        raise StaleVersion(current_version=None)
    old = _level_value(latest) if live and latest is not None else None
    row = CylinderLevel(
        code=level.code,
        version=config.max_level_version(level.code) + 1,
        rank=level.rank,
        wording=level.wording,
        recorded_at=now,
        recorded_by=actor.user_id,
    )
    config.add(row)
    record_change(
        session,
        actor,
        kind=ConfigKind.CYLINDER_LEVEL,
        subject=row.code,
        old=old,
        new=_level_value(row),
        at=now,
    )
    audit.record(
        session,
        actor,
        action="assessment_config.level_set",
        resource_type="cylinder_level",
        resource_id=row.id,
        basis={"kind": "configuration", "code": row.code, "version": row.version},
    )
    return row


def retire_level(session: Session, actor: Actor, *, code: str, version: int) -> CylinderLevel:
    actor.require(Permission.CONFIGURE)
    config = AssessmentConfigRepository(session)
    latest = config.latest_level(code)
    if latest is None or latest.retired:
        raise NotFound()
    if latest.version != version:
        raise StaleVersion(current_version=latest.version)
    now = utcnow()
    if not config.supersede(latest, now):
        raise StaleVersion(current_version=None)
    row = CylinderLevel(
        code=latest.code,
        version=latest.version + 1,
        rank=latest.rank,
        wording=latest.wording,
        retired=True,
        recorded_at=now,
        recorded_by=actor.user_id,
    )
    config.add(row)
    record_change(
        session,
        actor,
        kind=ConfigKind.CYLINDER_LEVEL,
        subject=row.code,
        old=_level_value(latest),
        new=None,
        at=now,
    )
    audit.record(
        session,
        actor,
        action="assessment_config.level_retire",
        resource_type="cylinder_level",
        resource_id=row.id,
        basis={"kind": "configuration", "code": row.code, "version": row.version},
    )
    return row


def add_factor(session: Session, actor: Actor, *, kind: str, text: str) -> AssessmentFactor:
    actor.require(Permission.CONFIGURE)
    errors: list[FieldError] = []
    chosen = rules.factor_kind(kind, errors)
    clean = rules.factor_text(text, errors)
    if errors or chosen is None or clean is None:
        raise ValidationFailed(errors)
    config = AssessmentConfigRepository(session)
    row = AssessmentFactor(
        factor_id=uuid.uuid4(),
        kind=chosen.value,
        version=1,
        rank=config.next_factor_rank(chosen.value),
        text=clean,
        recorded_by=actor.user_id,
    )
    config.add(row)
    _audit_factor(session, actor, row, "assessment_config.factor_add", old=None)
    return row


def change_factor(
    session: Session,
    actor: Actor,
    *,
    factor_id: uuid.UUID,
    version: int,
    text: str | None = None,
    retire: bool = False,
) -> AssessmentFactor:
    """New wording for a factor, or its retirement: a new version either way."""
    actor.require(Permission.CONFIGURE)
    config = AssessmentConfigRepository(session)
    latest = config.latest_factor(factor_id)
    if latest is None or latest.retired:
        raise NotFound()
    errors: list[FieldError] = []
    clean = latest.text if retire else rules.factor_text(text or "", errors)
    if errors or clean is None:
        raise ValidationFailed(errors)
    if latest.version != version:
        raise StaleVersion(current_version=latest.version)
    now = utcnow()
    if not config.supersede(latest, now):
        raise StaleVersion(current_version=None)
    row = AssessmentFactor(
        factor_id=latest.factor_id,
        kind=latest.kind,
        version=latest.version + 1,
        rank=latest.rank,
        text=clean,
        retired=retire,
        recorded_at=now,
        recorded_by=actor.user_id,
    )
    config.add(row)
    action = "assessment_config.factor_retire" if retire else "assessment_config.factor_change"
    _audit_factor(session, actor, row, action, old=_factor_value(latest))
    return row


def _level_value(row: CylinderLevel) -> dict[str, object]:
    return {"code": row.code, "rank": row.rank, "wording": row.wording}


def _factor_value(row: AssessmentFactor) -> dict[str, object]:
    return {"kind": row.kind, "text": row.text}


def _audit_factor(
    session: Session,
    actor: Actor,
    row: AssessmentFactor,
    action: str,
    *,
    old: dict[str, object] | None,
) -> None:
    """The audit event and the configuration history's row, in the change's transaction."""
    record_change(
        session,
        actor,
        kind=ConfigKind.ASSESSMENT_FACTOR,
        subject=str(row.factor_id),
        old=old,
        new=None if row.retired else _factor_value(row),
        at=row.recorded_at,
    )
    audit.record(
        session,
        actor,
        action=action,
        resource_type="assessment_factor",
        resource_id=row.factor_id,
        basis={"kind": "configuration", "version": row.version, "factor_kind": row.kind},
    )
