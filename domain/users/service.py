"""Staff accounts: created by the CLI and the demo seed (administrator pages come later)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, NotFound, ValidationFailed
from common.roles import SOCIAL_SERVICES_ROLES, AgencyKind, Role
from domain.agencies.repository import AgencyRepository
from domain.auth.passwords import hash_password, password_problem
from domain.users.models import User
from domain.users.repository import UserRepository

_USERNAME = re.compile(r"^[a-z0-9][a-z0-9._-]{1,99}$")


def role_problems(session: Session, agency_id: uuid.UUID, roles: list[str]) -> list[FieldError]:
    """What is wrong with giving `roles` to a user of this agency: unknown roles, or roles
    only social services may hold (DESIGN §1)."""
    errors: list[FieldError] = []
    known = {role.value for role in Role}
    if not roles or any(role not in known for role in roles):
        errors.append(
            FieldError("roles", f"Ange en eller flera roller bland: {', '.join(sorted(known))}.")
        )
    agency = AgencyRepository(session).get(agency_id)
    if agency is None:
        errors.append(FieldError("agency", "Organisationen finns inte."))
    elif agency.kind != AgencyKind.SOCIAL_SERVICES and any(
        Role(r) in SOCIAL_SERVICES_ROLES for r in roles if r in known
    ):
        errors.append(
            FieldError("roles", "Handläggare och samordnare måste tillhöra socialtjänsten.")
        )
    return errors


PROGRAMMES = ("SSPF", "SIG")


def programme_problems(roles: list[str], programmes: list[str]) -> list[FieldError]:
    """Programmes belong to coordinators, and only SSPF and SIG exist."""
    if any(p not in PROGRAMMES for p in programmes):
        return [FieldError("programmes", "Välj program bland: SSPF, SIG.")]
    if programmes and Role.COORDINATOR.value not in roles:
        return [FieldError("programmes", "Bara en samordnare samordnar program.")]
    return []


def create_user(
    session: Session,
    *,
    agency_id: uuid.UUID,
    username: str,
    display_name: str,
    roles: Iterable[str],
    password: str | None = None,
    programmes: Iterable[str] = (),
    actor: Actor | None = None,
) -> User:
    """`programmes`: for a coordinator, the programmes whose cases they see (DESIGN §1)."""
    errors: list[FieldError] = []
    username = username.strip().lower()
    if not _USERNAME.match(username):
        errors.append(
            FieldError("username", "Användarnamnet får innehålla a–z, 0–9, punkt, - och _.")
        )
    if not display_name.strip():
        errors.append(FieldError("display_name", "Ange namn."))
    chosen = sorted(set(roles))
    errors.extend(role_problems(session, agency_id, chosen))
    coordinated = sorted(set(programmes))
    errors.extend(programme_problems(chosen, coordinated))
    if password is not None and (problem := password_problem(password)):
        errors.append(FieldError("password", problem))
    if errors:
        raise ValidationFailed(errors)
    users = UserRepository(session)
    if users.by_username(username) is not None:
        raise Conflict(f"Användarnamnet {username!r} är upptaget.")
    user = User(
        agency_id=agency_id,
        username=username,
        display_name=display_name.strip(),
        roles=chosen,
        programmes=coordinated,
        password_hash=hash_password(password) if password is not None else None,
    )
    users.add(user)
    audit.record(
        session,
        actor,
        action="config.user.create",
        resource_type="user",
        resource_id=user.id,
        basis={"roles": chosen, "programmes": coordinated, "agency_id": str(agency_id)},
    )
    return user


def set_programmes(
    session: Session, *, username: str, programmes: Iterable[str], actor: Actor | None = None
) -> User:
    """Which programmes' cases a coordinator sees; takes effect at their next request."""
    users = UserRepository(session)
    user = users.by_username(username.strip().lower())
    if user is None:
        raise NotFound()
    chosen = sorted(set(programmes))
    if errors := programme_problems(list(user.roles), chosen):
        raise ValidationFailed(errors)
    old = list(user.programmes)
    user.programmes = chosen
    users.add(user)
    audit.record(
        session,
        actor,
        action="config.user.programmes",
        resource_type="user",
        resource_id=user.id,
        basis={"old": old, "new": chosen},
    )
    return user


def set_password(
    session: Session, *, username: str, password: str, actor: Actor | None = None
) -> User:
    user = UserRepository(session).by_username(username.strip().lower())
    if user is None:
        raise NotFound()
    if problem := password_problem(password):
        raise ValidationFailed.one("password", problem)
    user.password_hash = hash_password(password)
    session.add(user)
    session.flush()
    audit.record(
        session, actor, action="config.user.set_password", resource_type="user", resource_id=user.id
    )
    return user


def create_federated_user(
    session: Session,
    *,
    agency_id: uuid.UUID,
    issuer: str,
    subject: str,
    username: str,
    display_name: str,
    roles: list[str],
    basis: dict[str, str],
) -> User:
    """An account for an identity at an OpenID provider: no password and no TOTP here."""
    chosen = sorted(set(roles))
    if errors := role_problems(session, agency_id, chosen):
        raise ValidationFailed(errors)
    user = User(
        agency_id=agency_id,
        username=username,
        display_name=display_name,
        roles=chosen,
        oidc_issuer=issuer,
        oidc_subject=subject,
    )
    UserRepository(session).add(user)
    audit.record(
        session,
        None,
        action="config.user.create",
        resource_type="user",
        resource_id=user.id,
        user_id=user.id,
        basis={**basis, "roles": chosen, "agency_id": str(agency_id)},
    )
    return user


def set_active(
    session: Session, *, username: str, active: bool, actor: Actor | None = None
) -> User:
    """An administrator disables or enables an account. Disabling ends its sessions; either way
    the account is no longer the federation's to re-enable."""
    users = UserRepository(session)
    user = users.by_username(username.strip())
    if user is None:
        raise NotFound()
    user.is_active = active
    user.disabled_by_federation = False
    session.add(user)
    session.flush()
    ended = 0 if active else users.end_all_sessions(user.id, utcnow())
    audit.record(
        session,
        actor,
        action="config.user.enable" if active else "config.user.disable",
        resource_type="user",
        resource_id=user.id,
        basis={"by": "administrator", "sessions": ended},
    )
    return user
