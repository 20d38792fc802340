"""Nödåtkomst: social-services staff may open a case of the municipality they are not on,
with a written reason, for a limited time. Every use is flagged for the auditor."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, ValidationFailed
from common.roles import AgencyKind, Permission
from consent.models import BreakGlassGrant
from domain.access import case_scope
from domain.cases.repository import CaseRepository, case_id_by_reference
from domain.consents.repository import ConsentRepository
from domain.users.repository import UserRepository

DURATION = timedelta(hours=2)
MIN_REASON_LENGTH = 20


def request_access(
    session: Session, actor: Actor, *, reference: str, reason: str
) -> BreakGlassGrant:
    actor.require(Permission.BREAK_GLASS)
    if actor.agency_kind is not AgencyKind.SOCIAL_SERVICES:
        raise ValidationFailed.one("reference", "Nödåtkomst är till för socialtjänstens personal.")
    errors: list[FieldError] = []
    case_id = case_id_by_reference(session, reference)
    if case_id is None:
        errors.append(FieldError("reference", "Det finns inget ärende med den referensen."))
    written = reason.strip()
    if len(written) < MIN_REASON_LENGTH:
        errors.append(
            FieldError("reason", f"Skriv en motivering på minst {MIN_REASON_LENGTH} tecken.")
        )
    elif len(written) > 2000:
        errors.append(FieldError("reason", "Motiveringen får vara högst 2000 tecken."))
    if errors or case_id is None:
        raise ValidationFailed(errors)
    if CaseRepository(session, case_scope(session, actor)).get(case_id) is not None:
        raise Conflict("Du har redan åtkomst till ärendet; nödåtkomst behövs inte.")
    now = utcnow()
    grant = BreakGlassGrant(
        case_id=case_id,
        user_id=actor.user_id,
        reason=written,
        granted_at=now,
        expires_at=now + DURATION,
    )
    ConsentRepository(session).add(grant)
    audit.record(
        session,
        actor,
        action="case.break_glass",
        resource_type="break_glass_grant",
        resource_id=grant.id,
        case_id=case_id,
        basis={
            "kind": "break_glass",
            "grant_id": str(grant.id),
            "expires_at": grant.expires_at.isoformat(),
        },
    )
    return grant


@dataclass(frozen=True)
class GrantRow:
    grant: BreakGlassGrant
    user_name: str | None
    agency_name: str | None
    case_reference: str | None


def grants_for_review(
    session: Session, actor: Actor, *, page: int, page_size: int
) -> tuple[Sequence[GrantRow], int]:
    """The auditor's break-glass review list, with the written reasons."""
    actor.require(Permission.READ_AUDIT_LOG)
    grants, total = ConsentRepository(session).break_glass_grants(
        offset=(page - 1) * page_size, limit=page_size
    )
    names = UserRepository(session).names({g.user_id for g in grants})
    references = CaseRepository.references(session, {g.case_id for g in grants})
    audit.record(
        session,
        actor,
        action="audit.break_glass_review",
        resource_type="audit_log",
        basis={"page": page},
    )
    return [
        GrantRow(
            grant=g,
            user_name=names.get(g.user_id, (None, None))[0],
            agency_name=names.get(g.user_id, (None, None))[1],
            case_reference=references.get(g.case_id),
        )
        for g in grants
    ], total
