"""The case team: a member's access begins and ends with membership."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, NotFound, ValidationFailed
from common.roles import SOCIAL_SERVICES_ROLES, AgencyKind, Permission, Role
from consent.models import TeamMember, TeamRole
from domain.agencies.models import Agency
from domain.consents.service import managed_case
from domain.teams.repository import TeamRepository
from domain.users.models import User
from domain.users.repository import UserRepository


def candidates(session: Session, actor: Actor) -> Sequence[tuple[User, Agency]]:
    """Active staff who can join a team: partners' contact persons and social services staff."""
    actor.require(Permission.MANAGE_TEAM)
    return [
        (user, agency)
        for user, agency in UserRepository(session).list_all()
        if user.is_active
        and (
            Role.CONTACT_PERSON.value in user.roles
            or any(Role(r) in SOCIAL_SERVICES_ROLES for r in user.roles)
        )
    ]


def add_member(
    session: Session, actor: Actor, *, case_id: uuid.UUID, user_id: uuid.UUID
) -> TeamMember:
    case, scope = managed_case(session, actor, case_id, Permission.MANAGE_TEAM)
    if case.state == "closed":
        raise Conflict("Ärendet är avslutat: teamet kan inte ändras.")
    row = UserRepository(session).with_agency(user_id)
    if row is None or not row[0].is_active:
        raise ValidationFailed.one("user_id", "Välj en aktiv användare i listan.")
    user, agency = row
    if Role.CONTACT_PERSON.value in user.roles and agency.kind != AgencyKind.SOCIAL_SERVICES:
        role = TeamRole.CONTACT
    elif Role.COORDINATOR.value in user.roles:
        role = TeamRole.COORDINATOR
    elif Role.SOCIAL_WORKER.value in user.roles:
        role = TeamRole.CONTACT
    else:
        raise ValidationFailed.one("user_id", "Användaren har ingen roll som kan ingå i ett team.")
    teams = TeamRepository(session, scope)
    if teams.current(case.id, user.id) is not None:
        raise Conflict("Personen ingår redan i teamet.")
    member = TeamMember(
        case_id=case.id, user_id=user.id, role=role.value, added_by=actor.user_id, added_at=utcnow()
    )
    teams.add(member)
    audit.record(
        session,
        actor,
        action="team.add",
        resource_type="team_member",
        resource_id=member.id,
        case_id=case.id,
        basis={"user_id": str(user.id), "agency_id": str(agency.id)},
    )
    return member


def remove_member(
    session: Session, actor: Actor, *, case_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Access ends at once. The case owner cannot be removed."""
    case, scope = managed_case(session, actor, case_id, Permission.MANAGE_TEAM)
    teams = TeamRepository(session, scope)
    member = teams.current(case.id, user_id)
    if member is None:
        raise NotFound()
    if member.role == TeamRole.OWNER.value:
        raise Conflict("Ärendeägaren kan inte tas bort ur teamet.")
    teams.end(member, utcnow())
    audit.record(
        session,
        actor,
        action="team.remove",
        resource_type="team_member",
        resource_id=member.id,
        case_id=case.id,
        basis={"user_id": str(user_id)},
    )
