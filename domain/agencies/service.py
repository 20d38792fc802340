from __future__ import annotations

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.errors import Conflict, ValidationFailed
from common.roles import AgencyKind
from domain.agencies.models import Agency
from domain.agencies.repository import AgencyRepository


def create_agency(session: Session, *, name: str, kind: str, actor: Actor | None = None) -> Agency:
    """Administrative set-up (CLI, demo); the admin pages come with the administrator's tools."""
    name = name.strip()
    if not name:
        raise ValidationFailed.one("name", "Ange organisationens namn.")
    if kind not in {k.value for k in AgencyKind}:
        raise ValidationFailed.one("kind", f"Okänd typ av organisation: {kind}.")
    repository = AgencyRepository(session)
    if repository.by_name(name) is not None:
        raise Conflict(f"Organisationen {name!r} finns redan.")
    agency = Agency(name=name, kind=kind)
    repository.add(agency)
    audit.record(
        session,
        actor,
        action="config.agency.create",
        resource_type="agency",
        resource_id=agency.id,
        basis={"kind": kind},
    )
    return agency
