"""Use cases of the collaboration agreement: the one entry for the JSON API, the pages, the
demo and the follow-up report (helper code in `domain.statistics` / the report calls
`statistics_request_for` and `freeze_grid`).

Reading needs READ_FOLLOW_UP (the steering group, the coordinator); every change needs
MANAGE_AGREEMENTS (the coordinator) and is audited in the same transaction. An agreement is
configuration, never personal data, so reads are not audited. Edits carry the version they
were based on; a stale one answers 409. Once the first report is published the grid is
frozen (`rules.GridFrozen`).
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Permission
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.agreements import rules
from domain.agreements.models import (
    Agreement,
    AgreementActivity,
    AgreementGoalArea,
    AgreementParty,
    AgreementTarget,
)
from domain.agreements.repository import AgreementRepository
from domain.statistics.disclosure import Release
from domain.statistics.periods import Period
from domain.statistics.spec import DEFAULT_K, StatisticsRequest


@dataclass(frozen=True)
class PartyInput:
    name: str
    agency_id: uuid.UUID | None = None


@dataclass(frozen=True)
class AgreementView:
    """One agreement with everything that belongs to it, for the pages and the JSON API."""

    agreement: Agreement
    parties: Sequence[AgreementParty]
    goal_areas: Sequence[AgreementGoalArea]
    activities: Sequence[AgreementActivity]
    targets: Mapping[uuid.UUID, Sequence[AgreementTarget]]  # by activity id
    periods: Sequence[Period]
    school_names: Mapping[uuid.UUID, str] = field(default_factory=dict)

    def school_name(self, agency_id: str | uuid.UUID) -> str:
        return self.school_names.get(uuid.UUID(str(agency_id)), str(agency_id))

    def goal_area(self, goal_area_id: uuid.UUID) -> AgreementGoalArea | None:
        return next((g for g in self.goal_areas if g.id == goal_area_id), None)


def _audit(
    session: Session,
    actor: Actor,
    action: str,
    resource_type: str,
    resource_id: uuid.UUID,
    agreement_id: uuid.UUID,
) -> None:
    audit.record(
        session,
        actor,
        action=action,
        resource_type=resource_type,
        resource_id=resource_id,
        basis={"kind": "configuration", "agreement_id": str(agreement_id)},
    )


def _load(repository: AgreementRepository, agreement_id: uuid.UUID) -> Agreement:
    agreement = repository.get(agreement_id)
    if agreement is None:
        raise NotFound()
    return agreement


def _school_names(session: Session, ids: Sequence[str]) -> dict[uuid.UUID, str]:
    agencies = AgencyRepository(session)
    found: dict[uuid.UUID, str] = {}
    for text_id in ids:
        agency = agencies.get(uuid.UUID(text_id))
        if agency is not None:
            found[agency.id] = agency.name
    return found


def _check_schools(session: Session, ids: Sequence[str], errors: list[FieldError]) -> None:
    agencies = AgencyRepository(session)
    for text_id in ids:
        agency = agencies.get(uuid.UUID(text_id))
        if agency is None or agency.kind != AgencyKind.SCHOOL.value:
            errors.append(
                FieldError(
                    "school_agency_ids",
                    "Välj skolor bland organisationerna av typen skola.",
                    "Each school must be an agency of kind school.",
                )
            )
            return


def _parties(
    session: Session, parties: Sequence[PartyInput], errors: list[FieldError]
) -> list[PartyInput]:
    agencies = AgencyRepository(session)
    found: list[PartyInput] = []
    for party in parties:
        name = rules.text(party.name, "parties", errors, required=False)
        if not name:
            continue
        if party.agency_id is not None and agencies.get(party.agency_id) is None:
            errors.append(FieldError("parties", "Okänd organisation.", "Unknown agency."))
            continue
        found.append(PartyInput(name, party.agency_id))
    return found


# --- reading -------------------------------------------------------------------------------


def list_agreements(session: Session, actor: Actor) -> Sequence[Agreement]:
    actor.require(Permission.READ_FOLLOW_UP)
    return AgreementRepository(session).list()


def get_agreement(session: Session, actor: Actor, agreement_id: uuid.UUID) -> AgreementView:
    actor.require(Permission.READ_FOLLOW_UP)
    return _view(session, agreement_id)


def _view(session: Session, agreement_id: uuid.UUID) -> AgreementView:
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    activities = repository.activities(agreement_id)
    targets: dict[uuid.UUID, list[AgreementTarget]] = {a.id: [] for a in activities}
    for target in repository.targets(agreement_id):
        targets[target.activity_id].append(target)
    school_ids = list(agreement.school_agency_ids)
    for activity in activities:
        school_ids.extend(s for s in activity.school_agency_ids if s not in school_ids)
    return AgreementView(
        agreement=agreement,
        parties=repository.parties(agreement_id),
        goal_areas=repository.goal_areas(agreement_id),
        activities=activities,
        targets=targets,
        periods=rules.agreement_periods(agreement),
        school_names=_school_names(session, school_ids),
    )


def school_choices(session: Session, actor: Actor) -> Sequence[Agency]:
    """The schools an agreement's grid may list (the coordinator's form)."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    return AgencyRepository(session).list(kind=AgencyKind.SCHOOL.value)


def period_of(session: Session, actor: Actor, agreement_id: uuid.UUID, code: str) -> Period:
    """The agreement's period named `code`; 422 naming `period` for any other."""
    actor.require(Permission.READ_FOLLOW_UP)
    return rules.period_of(_load(AgreementRepository(session), agreement_id), code)


def statistics_request_for(
    session: Session,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
    earlier: Sequence[Release] = (),
) -> StatisticsRequest:
    """What the statistics service is asked for one activity's report in one period, with the
    schools' names filled in. The caller has checked the actor's permission."""
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    activity = repository.activity(agreement_id, activity_id)
    if activity is None:
        raise NotFound()
    period = rules.period_of(agreement, period_code)
    return rules.statistics_request(
        agreement,
        activity,
        period,
        earlier=earlier,
        school_names=_school_names(session, agreement.school_agency_ids),
    )


def freeze_grid(session: Session, agreement_id: uuid.UUID) -> Agreement:
    """Fix the grid for good, at the first publication (idempotent: later publications leave
    the first moment). Called by the report's publication in its own transaction."""
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    if agreement.grid_frozen_at is None:
        repository.freeze_grid(agreement_id, utcnow())
        session.refresh(agreement)
    return agreement


# --- the agreement -------------------------------------------------------------------------


def create_agreement(
    session: Session,
    actor: Actor,
    *,
    name: str,
    starts_on: date | str,
    ends_on: date | str,
    period_kind: str,
    k: int | str = DEFAULT_K,
    breakdowns: Sequence[str] = (),
    areas: Sequence[str] = (),
    school_agency_ids: Sequence[str | uuid.UUID] = (),
    follow_up_by: str = "",
    parties: Sequence[PartyInput] = (),
) -> Agreement:
    actor.require(Permission.MANAGE_AGREEMENTS)
    errors: list[FieldError] = []
    clean_name = rules.text(name, "name", errors)
    start = rules.day(starts_on, "starts_on", errors)
    end = rules.day(ends_on, "ends_on", errors)
    kind = rules.period_kind(period_kind, errors)
    k_value = rules.k_value(k, errors)
    rules.check_dates(start, end, kind, errors)
    clean_breakdowns = rules.breakdowns(breakdowns, errors)
    clean_areas = rules.names(areas, "areas", errors)
    schools = rules.ids(school_agency_ids, "school_agency_ids", errors)
    _check_schools(session, schools, errors)
    who = rules.text(follow_up_by, "follow_up_by", errors, required=False)
    clean_parties = _parties(session, parties, errors)
    if errors or start is None or end is None or kind is None or k_value is None:
        raise ValidationFailed(errors)
    agreement = Agreement(
        name=clean_name,
        starts_on=start,
        ends_on=end,
        period_kind=kind.value,
        k=k_value,
        breakdowns=clean_breakdowns,
        areas=clean_areas,
        school_agency_ids=schools,
        follow_up_by=who,
        created_by=actor.user_id,
    )
    repository = AgreementRepository(session)
    repository.add(agreement)
    for position, party in enumerate(clean_parties):
        repository.add(
            AgreementParty(
                agreement_id=agreement.id,
                name=party.name,
                agency_id=party.agency_id,
                position=position,
            )
        )
    _audit(session, actor, "agreement.create", "agreement", agreement.id, agreement.id)
    return agreement


def update_agreement(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    *,
    version: int,
    name: str | None = None,
    starts_on: date | str | None = None,
    ends_on: date | str | None = None,
    period_kind: str | None = None,
    k: int | str | None = None,
    breakdowns: Sequence[str] | None = None,
    areas: Sequence[str] | None = None,
    school_agency_ids: Sequence[str | uuid.UUID] | None = None,
    follow_up_by: str | None = None,
) -> Agreement:
    """Change what is given (None: unchanged). The grid, k, period kind and dates cannot
    change once frozen (409)."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    errors: list[FieldError] = []
    values: dict[str, object] = {}
    if name is not None:
        values["name"] = rules.text(name, "name", errors)
    start = agreement.starts_on if starts_on is None else rules.day(starts_on, "starts_on", errors)
    end = agreement.ends_on if ends_on is None else rules.day(ends_on, "ends_on", errors)
    kind = (
        rules.period_kind(agreement.period_kind, errors)
        if period_kind is None
        else rules.period_kind(period_kind, errors)
    )
    rules.check_dates(start, end, kind, errors)
    values.update(starts_on=start, ends_on=end, period_kind=kind.value if kind else None)
    if k is not None:
        values["k"] = rules.k_value(k, errors)
    if breakdowns is not None:
        values["breakdowns"] = rules.breakdowns(breakdowns, errors)
    if areas is not None:
        values["areas"] = rules.names(areas, "areas", errors)
    if school_agency_ids is not None:
        schools = rules.ids(school_agency_ids, "school_agency_ids", errors)
        _check_schools(session, schools, errors)
        values["school_agency_ids"] = schools
    if follow_up_by is not None:
        values["follow_up_by"] = rules.text(follow_up_by, "follow_up_by", errors, required=False)
    if errors:
        raise ValidationFailed(errors)
    if version != agreement.version:
        raise StaleVersion(current_version=agreement.version)
    rules.check_grid_change(
        agreement,
        rules.GridChange(
            period_kind=values["period_kind"],  # type: ignore[arg-type]
            k=values.get("k"),  # type: ignore[arg-type]
            breakdowns=values.get("breakdowns"),  # type: ignore[arg-type]
            areas=values.get("areas"),  # type: ignore[arg-type]
            school_agency_ids=values.get("school_agency_ids"),  # type: ignore[arg-type]
            starts_on=start,
            ends_on=end,
        ),
    )
    _check_activities_within(repository, agreement, values, errors)
    if errors:
        raise ValidationFailed(errors)
    if not repository.update_if_version(agreement, version, **values, updated_at=utcnow()):
        raise StaleVersion(current_version=None)
    _audit(session, actor, "agreement.update", "agreement", agreement.id, agreement.id)
    return agreement


def _check_activities_within(
    repository: AgreementRepository,
    agreement: Agreement,
    values: Mapping[str, object],
    errors: list[FieldError],
) -> None:
    """A narrower grid may not leave an activity covering a school or area outside it."""
    schools = values.get("school_agency_ids", agreement.school_agency_ids)
    areas = values.get("areas", agreement.areas)
    assert isinstance(schools, list)  # noqa: S101
    assert isinstance(areas, list)  # noqa: S101
    for activity in repository.activities(agreement.id):
        if any(s not in schools for s in activity.school_agency_ids):
            errors.append(
                FieldError(
                    "school_agency_ids",
                    f"Aktiviteten {activity.name} omfattar en skola som då inte är med.",
                    f"The activity {activity.name} covers a school that would be removed.",
                )
            )
        if any(a not in areas for a in activity.areas):
            errors.append(
                FieldError(
                    "areas",
                    f"Aktiviteten {activity.name} omfattar ett område som då inte är med.",
                    f"The activity {activity.name} covers an area that would be removed.",
                )
            )


# --- parties -------------------------------------------------------------------------------


def add_party(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    *,
    name: str,
    agency_id: uuid.UUID | None = None,
) -> AgreementParty:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    errors: list[FieldError] = []
    clean = rules.text(name, "name", errors)
    if agency_id is not None and AgencyRepository(session).get(agency_id) is None:
        errors.append(FieldError("agency_id", "Okänd organisation.", "Unknown agency."))
    if errors:
        raise ValidationFailed(errors)
    party = AgreementParty(
        agreement_id=agreement.id,
        name=clean,
        agency_id=agency_id,
        position=repository.next_party_position(agreement.id),
    )
    repository.add(party)
    _audit(session, actor, "agreement.party.create", "agreement_party", party.id, agreement.id)
    return party


def remove_party(
    session: Session, actor: Actor, agreement_id: uuid.UUID, party_id: uuid.UUID
) -> None:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    party = repository.party(agreement_id, party_id)
    if party is None:
        raise NotFound()
    repository.delete(party)
    _audit(session, actor, "agreement.party.delete", "agreement_party", party_id, agreement_id)


# --- goal areas ----------------------------------------------------------------------------


def add_goal_area(
    session: Session, actor: Actor, agreement_id: uuid.UUID, *, letter: str, title: str
) -> AgreementGoalArea:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    errors: list[FieldError] = []
    clean_letter = rules.letter(letter, errors)
    clean_title = rules.text(title, "title", errors, limit=rules.TITLE_MAX)
    if not errors and repository.goal_area_by_letter(agreement.id, clean_letter) is not None:
        errors.append(
            FieldError(
                "letter",
                f"Målområde {clean_letter} finns redan.",
                f"Goal area {clean_letter} exists already.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    goal_area = AgreementGoalArea(agreement_id=agreement.id, letter=clean_letter, title=clean_title)
    repository.add(goal_area)
    _audit(
        session,
        actor,
        "agreement.goal_area.create",
        "agreement_goal_area",
        goal_area.id,
        agreement.id,
    )
    return goal_area


def update_goal_area(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    goal_area_id: uuid.UUID,
    *,
    version: int,
    title: str,
) -> AgreementGoalArea:
    """The title changes; the letter is the goal area's name in the agreement and stays."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    goal_area = repository.goal_area(agreement_id, goal_area_id)
    if goal_area is None:
        raise NotFound()
    errors: list[FieldError] = []
    clean_title = rules.text(title, "title", errors, limit=rules.TITLE_MAX)
    if errors:
        raise ValidationFailed(errors)
    if version != goal_area.version or not repository.update_if_version(
        goal_area, version, title=clean_title
    ):
        raise StaleVersion(current_version=goal_area.version)
    _audit(
        session,
        actor,
        "agreement.goal_area.update",
        "agreement_goal_area",
        goal_area.id,
        agreement_id,
    )
    return goal_area


def delete_goal_area(
    session: Session, actor: Actor, agreement_id: uuid.UUID, goal_area_id: uuid.UUID
) -> None:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    goal_area = repository.goal_area(agreement_id, goal_area_id)
    if goal_area is None:
        raise NotFound()
    if repository.count_activities_in(goal_area.id):
        raise Conflict(
            "Målområdet har aktiviteter. Flytta eller ta bort dem först.",
            english="The goal area has activities: move or delete them first.",
        )
    repository.delete(goal_area)
    _audit(
        session,
        actor,
        "agreement.goal_area.delete",
        "agreement_goal_area",
        goal_area_id,
        agreement_id,
    )


# --- activities ----------------------------------------------------------------------------


@dataclass(frozen=True)
class _ActivityValues:
    goal_area_id: uuid.UUID
    name: str
    programmes: list[str]
    school_agency_ids: list[str]
    areas: list[str]
    responsible: str


def _activity_values(
    repository: AgreementRepository,
    agreement: Agreement,
    *,
    goal_area_id: uuid.UUID | str | None,
    name: str,
    programmes: Sequence[str],
    school_agency_ids: Sequence[str | uuid.UUID],
    areas: Sequence[str],
    responsible: str,
) -> _ActivityValues:
    errors: list[FieldError] = []
    goal_area: AgreementGoalArea | None = None
    try:
        goal_area = repository.goal_area(agreement.id, uuid.UUID(str(goal_area_id)))
    except ValueError:
        goal_area = None
    if goal_area is None:
        errors.append(
            FieldError(
                "goal_area_id",
                "Välj ett av överenskommelsens målområden.",
                "Not one of the agreement's goal areas.",
            )
        )
    clean_name = rules.text(name, "name", errors)
    clean_programmes = rules.programmes(programmes, errors)
    schools = rules.ids(school_agency_ids, "school_agency_ids", errors)
    clean_areas = rules.names(areas, "areas", errors)
    rules.check_coverage(agreement, school_agency_ids=schools, areas=clean_areas, errors=errors)
    who = rules.text(responsible, "responsible", errors, limit=rules.TITLE_MAX, required=False)
    if errors or goal_area is None:
        raise ValidationFailed(errors)
    return _ActivityValues(goal_area.id, clean_name, clean_programmes, schools, clean_areas, who)


def add_activity(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    *,
    goal_area_id: uuid.UUID | str | None,
    name: str,
    programmes: Sequence[str] = (),
    school_agency_ids: Sequence[str | uuid.UUID] = (),
    areas: Sequence[str] = (),
    responsible: str = "",
) -> AgreementActivity:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    values = _activity_values(
        repository,
        agreement,
        goal_area_id=goal_area_id,
        name=name,
        programmes=programmes,
        school_agency_ids=school_agency_ids,
        areas=areas,
        responsible=responsible,
    )
    activity = AgreementActivity(agreement_id=agreement.id, **values.__dict__)
    repository.add(activity)
    _audit(
        session,
        actor,
        "agreement.activity.create",
        "agreement_activity",
        activity.id,
        agreement.id,
    )
    return activity


def update_activity(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    *,
    version: int,
    goal_area_id: uuid.UUID | str | None,
    name: str,
    programmes: Sequence[str] = (),
    school_agency_ids: Sequence[str | uuid.UUID] = (),
    areas: Sequence[str] = (),
    responsible: str = "",
) -> AgreementActivity:
    """Replace the activity's fields (a whole form, or a PATCH merged over the current)."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    activity = repository.activity(agreement_id, activity_id)
    if activity is None:
        raise NotFound()
    values = _activity_values(
        repository,
        agreement,
        goal_area_id=goal_area_id,
        name=name,
        programmes=programmes,
        school_agency_ids=school_agency_ids,
        areas=areas,
        responsible=responsible,
    )
    if version != activity.version or not repository.update_if_version(
        activity, version, **values.__dict__
    ):
        raise StaleVersion(current_version=activity.version)
    _audit(
        session,
        actor,
        "agreement.activity.update",
        "agreement_activity",
        activity.id,
        agreement.id,
    )
    return activity


def delete_activity(
    session: Session, actor: Actor, agreement_id: uuid.UUID, activity_id: uuid.UUID
) -> None:
    """Only before the first publication: a published report names its activity."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    agreement = _load(repository, agreement_id)
    activity = repository.activity(agreement_id, activity_id)
    if activity is None:
        raise NotFound()
    if agreement.grid_frozen_at is not None:
        raise rules.GridFrozen()
    for target in repository.targets_of(activity.id):
        repository.delete(target)
    repository.delete(activity)
    _audit(
        session,
        actor,
        "agreement.activity.delete",
        "agreement_activity",
        activity_id,
        agreement_id,
    )


# --- targets -------------------------------------------------------------------------------


def add_target(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    *,
    indicator: str | None,
    row_code: str | None,
    kind: str | None,
    comparison: str | None,
    value: float | int | str | None,
    label: str | None,
) -> AgreementTarget:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    activity = repository.activity(agreement_id, activity_id)
    if activity is None:
        raise NotFound()
    given = rules.target(
        indicator=indicator,
        row_code=row_code,
        kind=kind,
        comparison=comparison,
        value=value,
        label=label,
    )
    target = AgreementTarget(
        activity_id=activity.id,
        indicator=given.indicator,
        row_code=given.row_code,
        kind=given.kind.value,
        comparison=given.comparison.value,
        value=given.value,
        label=given.label,
    )
    repository.add(target)
    _audit(session, actor, "agreement.target.create", "agreement_target", target.id, agreement_id)
    return target


def update_target(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
    *,
    version: int,
    indicator: str | None,
    row_code: str | None,
    kind: str | None,
    comparison: str | None,
    value: float | int | str | None,
    label: str | None,
) -> AgreementTarget:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    if repository.activity(agreement_id, activity_id) is None:
        raise NotFound()
    target = repository.target(activity_id, target_id)
    if target is None:
        raise NotFound()
    given = rules.target(
        indicator=indicator,
        row_code=row_code,
        kind=kind,
        comparison=comparison,
        value=value,
        label=label,
    )
    if version != target.version or not repository.update_if_version(
        target,
        version,
        indicator=given.indicator,
        row_code=given.row_code,
        kind=given.kind.value,
        comparison=given.comparison.value,
        value=given.value,
        label=given.label,
    ):
        raise StaleVersion(current_version=target.version)
    _audit(session, actor, "agreement.target.update", "agreement_target", target.id, agreement_id)
    return target


def delete_target(
    session: Session,
    actor: Actor,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    target_id: uuid.UUID,
) -> None:
    actor.require(Permission.MANAGE_AGREEMENTS)
    repository = AgreementRepository(session)
    if repository.activity(agreement_id, activity_id) is None:
        raise NotFound()
    target = repository.target(activity_id, target_id)
    if target is None:
        raise NotFound()
    repository.delete(target)
    _audit(session, actor, "agreement.target.delete", "agreement_target", target_id, agreement_id)
