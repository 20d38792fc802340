"""Agencies (organisation units): created by the CLI, the demo seed and the administrator's
pages, which all call these functions. Every change is audited as a configuration change.

`actor` is None for the CLI (the operator at the server); an actor must hold CONFIGURE.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, NotFound, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Permission
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository
from domain.users.repository import UserRepository

NAME_LENGTH = 200
AREA_LENGTH = 100


def _require(actor: Actor | None) -> None:
    if actor is not None:
        actor.require(Permission.CONFIGURE)


def _problems(name: str, kind: str, area: str | None) -> list[FieldError]:
    errors = []
    if not name:
        errors.append(FieldError("name", "Ange organisationens namn.", "Give the agency's name."))
    elif len(name) > NAME_LENGTH:
        errors.append(
            FieldError(
                "name",
                f"Namnet får vara högst {NAME_LENGTH} tecken.",
                f"name must be at most {NAME_LENGTH} characters.",
            )
        )
    if kind not in {k.value for k in AgencyKind}:
        errors.append(
            FieldError(
                "kind",
                f"Okänd typ av organisation: {kind}." if kind else "Välj typ av organisation.",
                f"kind must be one of: {', '.join(k.value for k in AgencyKind)}.",
            )
        )
    if area is not None and len(area) > AREA_LENGTH:
        errors.append(
            FieldError(
                "area",
                f"Området får vara högst {AREA_LENGTH} tecken.",
                f"area must be at most {AREA_LENGTH} characters.",
            )
        )
    return errors


def _audit(
    session: Session, actor: Actor | None, action: str, agency: Agency, **details: object
) -> None:
    audit.record(
        session,
        actor,
        action=action,
        resource_type="agency",
        resource_id=agency.id,
        basis={"kind": "configuration", **details},
    )


def list_agencies(session: Session, actor: Actor | None = None) -> Sequence[Agency]:
    _require(actor)
    return AgencyRepository(session).list()


def get_agency(session: Session, actor: Actor | None, agency_id: uuid.UUID) -> Agency:
    _require(actor)
    agency = AgencyRepository(session).get(agency_id)
    if agency is None:
        raise NotFound()
    return agency


def create_agency(
    session: Session,
    *,
    name: str,
    kind: str,
    area: str | None = None,
    actor: Actor | None = None,
) -> Agency:
    """A new unit. Its name is unique: a second one of the same name is refused (409)."""
    _require(actor)
    name = name.strip()
    area = (area or "").strip() or None
    if errors := _problems(name, kind, area):
        raise ValidationFailed(errors)
    repository = AgencyRepository(session)
    if repository.by_name(name) is not None:
        raise Conflict(
            f"Organisationen {name!r} finns redan.",
            errors=[FieldError("name", f"Det finns redan en organisation som heter {name}.")],
            english=f"An agency named {name!r} exists already.",
        )
    agency = Agency(name=name, kind=kind, area=area)
    repository.add(agency)
    _audit(session, actor, "config.agency.create", agency, agency_kind=kind, area=area)
    return agency


def update_agency(
    session: Session,
    actor: Actor | None,
    *,
    agency_id: uuid.UUID,
    version: int,
    name: str,
    kind: str,
    area: str | None,
    issuer_agencies: Collection[str] = (),
) -> Agency:
    """Rename a unit, or change its kind or area. Users keep their agency; a kind that no
    longer allows their roles (a social worker outside social services) is refused.

    `issuer_agencies`: the agency names the configured OpenID issuers map to. Such a unit keeps
    its name and kind: the issuer finds it by name, and its role map was checked against the
    kind at start-up (`domain.auth.federation.check_issuers`)."""
    agency = get_agency(session, actor, agency_id)
    name = name.strip()
    area = (area or "").strip() or None
    errors = _problems(name, kind, area)
    if agency.name in issuer_agencies and (name, kind) != (agency.name, agency.kind):
        errors.append(
            FieldError(
                "name" if name != agency.name else "kind",
                "En inloggning via organisation (OpenID) är kopplad till organisationen med "
                "dess namn och typ. Ändra först serverns inställning SAMSYN_OIDC_ISSUERS.",
                "An OpenID issuer maps to this agency by name: its name and kind are fixed.",
            )
        )
    repository = AgencyRepository(session)
    same_name = repository.by_name(name) if name else None
    if same_name is not None and same_name.id != agency.id:
        errors.append(
            FieldError(
                "name",
                f"Det finns redan en organisation som heter {name}.",
                f"An agency named {name!r} exists already.",
            )
        )
    if (
        not errors
        and kind not in (agency.kind, AgencyKind.SOCIAL_SERVICES)
        and UserRepository(session).holds_social_services_roles(agency.id)
    ):
        errors.append(
            FieldError(
                "kind",
                "Organisationen har handläggare eller samordnare, som bara socialtjänsten "
                "får ha. Ändra deras roller först.",
                "Social workers and coordinators belong to social services only.",
            )
        )
    if errors:
        raise ValidationFailed(errors)
    if agency.version != version:
        raise StaleVersion(current_version=agency.version)
    old = {"name": agency.name, "kind": agency.kind, "area": agency.area}
    new = {"name": name, "kind": kind, "area": area}
    if not repository.update_if_version(agency, version, **new):
        raise StaleVersion(current_version=None)
    changed = sorted(key for key in new if new[key] != old[key])
    _audit(
        session,
        actor,
        "config.agency.update",
        agency,
        changed=changed,
        old={key: old[key] for key in changed},
        new={key: new[key] for key in changed},
    )
    return agency


def set_agency_active(
    session: Session, actor: Actor | None, *, agency_id: uuid.UUID, version: int, active: bool
) -> Agency:
    """Deactivate a unit (it receives no new users; its users and history stay) or reactivate it."""
    agency = get_agency(session, actor, agency_id)
    if agency.version != version:
        raise StaleVersion(current_version=agency.version)
    if (agency.deactivated_at is None) == active:
        return agency  # already so: nothing to record
    repository = AgencyRepository(session)
    if not repository.update_if_version(
        agency, version, deactivated_at=None if active else utcnow()
    ):
        raise StaleVersion(current_version=None)
    _audit(
        session,
        actor,
        "config.agency.reactivate" if active else "config.agency.deactivate",
        agency,
    )
    return agency
