"""Staff accounts: created and changed by the CLI, the demo seed and the administrator's pages,
which all call these functions. Every change is audited as a configuration change."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import SOCIAL_SERVICES_ROLES, AgencyKind, Permission, Role
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.auth import service as auth
from domain.auth.lockout import refused_until
from domain.auth.passwords import hash_password, password_problem
from domain.users.models import LoginAttempt, User
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
    errors.extend(_deactivated_agency(session, agency_id))
    coordinated = sorted(set(programmes))
    errors.extend(programme_problems(chosen, coordinated))
    if password is not None and (problem := password_problem(password)):
        errors.append(FieldError("password", problem))
    if errors:
        raise ValidationFailed(errors)
    users = UserRepository(session)
    if users.by_username(username) is not None:
        raise Conflict(
            f"Användarnamnet {username!r} är upptaget.",
            errors=[FieldError("username", f"Användarnamnet {username} är upptaget.")],
            english=f"The username {username!r} is taken.",
        )
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
        basis={
            "kind": "configuration",
            "roles": chosen,
            "programmes": coordinated,
            "agency_id": str(agency_id),
        },
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
        basis={"kind": "configuration", "old": old, "new": chosen},
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
        session,
        actor,
        action="config.user.set_password",
        resource_type="user",
        resource_id=user.id,
        basis={"kind": "configuration"},
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
    return _apply_active(session, users, user, active=active, actor=actor)


def _apply_active(
    session: Session, users: UserRepository, user: User, *, active: bool, actor: Actor | None
) -> User:
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
        basis={"kind": "configuration", "by": "administrator", "sessions": ended},
    )
    return user


# --- the administrator's pages (and the CLI) ------------------------------------------------


@dataclass(frozen=True)
class Account:
    """An account as the administrator sees it: no case data, only who and how they log in."""

    user: User
    agency: Agency
    last_login_at: datetime | None
    # Set while too many failed logins lock the name out (domain.auth.lockout).
    locked_until: datetime | None


def _require(actor: Actor | None) -> None:
    if actor is not None:
        actor.require(Permission.CONFIGURE)


def _deactivated_agency(session: Session, agency_id: uuid.UUID) -> list[FieldError]:
    agency = AgencyRepository(session).get(agency_id)
    if agency is not None and agency.deactivated_at is not None:
        return [
            FieldError(
                "agency",
                f"{agency.name} är avvecklad och får inga nya användare.",
                "The agency is deactivated and receives no new users.",
            )
        ]
    return []


def _accounts(session: Session, rows: Sequence[tuple[User, Agency]]) -> list[Account]:
    users = UserRepository(session)
    ids = {user.id for user, _ in rows}
    logins = users.last_logins(ids)
    now = utcnow()
    policy = auth.DEFAULT_LOCKOUT
    failures = users.failures_since_success(
        since=now - policy.window, usernames={user.username for user, _ in rows}
    )
    accounts = []
    for user, agency in rows:
        name_failures = failures.get(user.username, [])
        locked = (
            refused_until(
                account_failures=name_failures, address_failures=[], now=now, policy=policy
            )
            if len(name_failures) >= policy.account_failures
            else None
        )
        accounts.append(Account(user, agency, logins.get(user.id), locked))
    return accounts


def list_accounts(session: Session, actor: Actor | None = None) -> list[Account]:
    _require(actor)
    return _accounts(session, UserRepository(session).list_all())


def get_account(session: Session, actor: Actor | None, user_id: uuid.UUID) -> Account:
    _require(actor)
    row = UserRepository(session).with_agency(user_id)
    if row is None:
        raise NotFound()
    return _accounts(session, [row])[0]


def _claim(session: Session, actor: Actor | None, user_id: uuid.UUID, version: int) -> User:
    """The account, its version moved on, if `version` is still current (else 409)."""
    _require(actor)
    users = UserRepository(session)
    user = users.get(user_id)
    if user is None:
        raise NotFound()
    if user.version != version or not users.update_if_version(user, version):
        raise StaleVersion(current_version=user.version)
    return user


def update_account(
    session: Session,
    actor: Actor | None,
    *,
    user_id: uuid.UUID,
    version: int,
    agency_id: uuid.UUID,
    roles: Iterable[str],
    programmes: Iterable[str],
) -> User:
    """Move an account to another agency, or change its roles and programmes. Takes effect at
    its next request. An account from an OpenID provider gets its agency and roles from the
    provider at every login, so only its programmes are changed here."""
    _require(actor)
    users = UserRepository(session)
    user = users.get(user_id)
    if user is None:
        raise NotFound()
    chosen = sorted(set(roles))
    coordinated = sorted(set(programmes))
    errors = role_problems(session, agency_id, chosen)
    errors.extend(programme_problems(chosen, coordinated))
    if agency_id != user.agency_id:
        errors.extend(_deactivated_agency(session, agency_id))
    if user.is_federated and (agency_id != user.agency_id or chosen != sorted(user.roles)):
        errors.append(
            FieldError(
                "roles",
                "Kontot loggar in via sin organisations inloggning, som bestämmer organisation "
                "och roller vid varje inloggning.",
                "A federated account's agency and roles come from its OpenID provider.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    old = {
        "agency_id": str(user.agency_id),
        "roles": list(user.roles),
        "programmes": list(user.programmes),
    }
    new = {"agency_id": str(agency_id), "roles": chosen, "programmes": coordinated}
    if user.version != version or not users.update_if_version(
        user, version, agency_id=agency_id, roles=chosen, programmes=coordinated
    ):
        raise StaleVersion(current_version=user.version)
    changed = sorted(key for key in new if new[key] != old[key])
    audit.record(
        session,
        actor,
        action="config.user.update",
        resource_type="user",
        resource_id=user.id,
        basis={
            "kind": "configuration",
            "changed": changed,
            "old": {key: old[key] for key in changed},
            "new": {key: new[key] for key in changed},
        },
    )
    return user


def set_account_active(
    session: Session, actor: Actor | None, *, user_id: uuid.UUID, version: int, active: bool
) -> User:
    """`set_active` for the pages: by id, and only from the version the administrator saw."""
    user = _claim(session, actor, user_id, version)
    return _apply_active(session, UserRepository(session), user, active=active, actor=actor)


def reset_account_second_factor(
    session: Session, actor: Actor | None, *, user_id: uuid.UUID, version: int
) -> User:
    """For a lost phone: the account enrols an authenticator again at its next login."""
    user = _claim(session, actor, user_id, version)
    if user.is_federated:
        raise ValidationFailed.one(
            "totp",
            "Kontot loggar in via sin organisations inloggning, som sköter tvåstegsverifieringen.",
            "A federated account has no second factor here.",
        )
    return auth.reset_second_factor(session, username=user.username, actor=actor)


UNLOCK_ADDRESS = "administrator"


def unlock_account(
    session: Session, actor: Actor | None, *, user_id: uuid.UUID, version: int
) -> User:
    """Lift a lockout after failed logins. The lockout counts the name's failures since its last
    success, so the unlock is recorded as a successful attempt from `UNLOCK_ADDRESS`: the
    failures stay as evidence and no longer count. A lock on a client address is not lifted."""
    user = _claim(session, actor, user_id, version)
    UserRepository(session).add_attempt(
        LoginAttempt(
            username=user.username,
            client_address=UNLOCK_ADDRESS,
            succeeded=True,
            attempted_at=utcnow(),
        )
    )
    audit.record(
        session,
        actor,
        action="config.user.unlock",
        resource_type="user",
        resource_id=user.id,
        basis={"kind": "configuration"},
    )
    return user
