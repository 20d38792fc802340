"""Nödåtkomst: social-services staff may open a case of the municipality they are not on,
with a written reason, for a limited time. Every use is flagged for the auditor."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlmodel import Session

from audit import log as audit
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, FieldError, NotFound, ValidationFailed
from common.roles import AgencyKind, Permission
from consent.models import BreakGlassGrant, ReviewOutcome
from domain.access import case_scope
from domain.breakglass.repository import BreakGlassRepository
from domain.cases.repository import CaseRepository
from domain.cases.rules import CaseState
from domain.consents.repository import ConsentRepository
from domain.users.repository import UserRepository

DURATION = timedelta(hours=2)
MIN_REASON_LENGTH = 20
# Renewals: at most this many grants for one user and one case within the window. A need
# that lasts longer is no emergency: the case's owner puts the person on the team.
MAX_GRANTS_IN_WINDOW = 2
RENEWAL_WINDOW = timedelta(hours=24)
MAX_NOTE_LENGTH = 2000


class BreakGlassRefused(Conflict):
    """409: `detail` in English for the API, `message` in Swedish for the page's form."""

    def __init__(self, detail: str, *, message: str) -> None:
        super().__init__(detail)
        self.message = message


def request_access(
    session: Session, actor: Actor, *, reference: str, reason: str
) -> BreakGlassGrant:
    """Refused (409, nothing stored) for a closed case, a case the actor already reads, and
    past `MAX_GRANTS_IN_WINDOW` grants for the same case within `RENEWAL_WINDOW`."""
    actor.require(Permission.BREAK_GLASS)
    if actor.agency_kind is not AgencyKind.SOCIAL_SERVICES:
        raise ValidationFailed.one("reference", "Nödåtkomst är till för socialtjänstens personal.")
    errors: list[FieldError] = []
    repository = BreakGlassRepository(session)
    found = repository.case_by_reference(reference)
    case_id, state = found if found is not None else (None, None)
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
    if state == CaseState.CLOSED:
        raise BreakGlassRefused(
            "The case is closed: no break-glass access is granted to a closed case.",
            message="Ärendet är avslutat. Nödåtkomst ges inte till avslutade ärenden.",
        )
    if CaseRepository(session, case_scope(session, actor)).get(case_id) is not None:
        raise Conflict("Du har redan åtkomst till ärendet; nödåtkomst behövs inte.")
    now = utcnow()
    if (
        repository.grants_since(user_id=actor.user_id, case_id=case_id, since=now - RENEWAL_WINDOW)
        >= MAX_GRANTS_IN_WINDOW
    ):
        hours = int(RENEWAL_WINDOW.total_seconds() // 3600)
        raise BreakGlassRefused(
            f"Renewal limit reached: at most {MAX_GRANTS_IN_WINDOW} break-glass grants for the "
            f"same case within {hours} hours. Ask the case's owner to add you to its team.",
            message=(
                f"Du har redan fått nödåtkomst till ärendet {MAX_GRANTS_IN_WINDOW} gånger det "
                f"senaste dygnet. Be ärendets ägare att lägga till dig i teamet om du behöver "
                f"fortsätta arbeta med ärendet."
            ),
        )
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


def review_grant(
    session: Session, actor: Actor, *, grant_id: uuid.UUID, outcome: str, note: str = ""
) -> GrantRow:
    """The auditor's judgement of one grant, recorded once (a second review is 409)."""
    actor.require(Permission.REVIEW_BREAK_GLASS)
    repository = BreakGlassRepository(session)
    grant = repository.grant(grant_id)
    if grant is None:
        raise NotFound()
    errors: list[FieldError] = []
    chosen = next((o for o in ReviewOutcome if o.value == outcome), None)
    if chosen is None:
        errors.append(FieldError("outcome", "Välj om nödåtkomsten var befogad eller inte."))
    written = note.strip()
    if len(written) > MAX_NOTE_LENGTH:
        errors.append(FieldError("note", f"Kommentaren får vara högst {MAX_NOTE_LENGTH} tecken."))
    if errors or chosen is None:
        raise ValidationFailed(errors)
    already = BreakGlassRefused(
        "This break-glass grant has already been reviewed; a review is recorded once.",
        message="Nödåtkomsten är redan granskad. En granskning registreras en gång.",
    )
    if grant.reviewed_at is not None:
        raise already
    if not repository.record_review(
        grant,
        reviewed_by=actor.user_id,
        reviewed_at=utcnow(),
        outcome=chosen,
        note=written or None,
    ):
        raise already  # another auditor was first
    audit.record(
        session,
        actor,
        action="audit.break_glass.review",
        resource_type="break_glass_grant",
        resource_id=grant.id,
        basis={"outcome": chosen.value, "note": bool(written)},
    )
    return _rows(session, [grant])[0]


@dataclass(frozen=True)
class GrantRow:
    grant: BreakGlassGrant
    user_name: str | None
    agency_name: str | None
    case_reference: str | None
    reviewer_name: str | None


def grants_for_review(
    session: Session, actor: Actor, *, page: int, page_size: int
) -> tuple[Sequence[GrantRow], int]:
    """The auditor's break-glass review list, with the written reasons."""
    actor.require(Permission.READ_AUDIT_LOG)
    grants, total = ConsentRepository(session).break_glass_grants(
        offset=(page - 1) * page_size, limit=page_size
    )
    audit.record(
        session,
        actor,
        action="audit.break_glass_review",
        resource_type="audit_log",
        basis={"page": page},
    )
    return _rows(session, grants), total


def _rows(session: Session, grants: Sequence[BreakGlassGrant]) -> list[GrantRow]:
    names = UserRepository(session).names(
        {g.user_id for g in grants} | {g.reviewed_by for g in grants if g.reviewed_by}
    )
    references = CaseRepository.references(session, {g.case_id for g in grants})
    return [
        GrantRow(
            grant=g,
            user_name=names.get(g.user_id, (None, None))[0],
            agency_name=names.get(g.user_id, (None, None))[1],
            case_reference=references.get(g.case_id),
            reviewer_name=names[g.reviewed_by][0]
            if g.reviewed_by and g.reviewed_by in names
            else None,
        )
        for g in grants
    ]
