"""Referrals (aktualiseringar): raise one, follow one's own, triage the inbox, the waiting
list, and the administrator's configuration of grounds, eligibility and capacity."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query, Request

from api.deps import CurrentActor, DbSession, requires
from api.errors import error_responses
from api.schemas.referrals import (
    CapacityIn,
    DecisionIn,
    DecisionOut,
    EligibilityIn,
    GroundListOut,
    GroundOut,
    GroundsIn,
    HandOverIn,
    HandOverOut,
    InboxGroupOut,
    InboxOut,
    ReferralDetailOut,
    ReferralIn,
    SenderReferralListOut,
    SenderReferralOut,
    SettingsOut,
    WaitingListOut,
    WaitingOut,
)
from common.roles import Permission
from domain.referrals import service as referrals
from domain.referrals import settings as config
from domain.referrals.service import DecisionInput, ReferralInput

router = APIRouter(tags=["referrals"])
_ERRORS = error_responses(401, 403, 404, 409, 422)


@router.get(
    "/referral-grounds",
    response_model=GroundListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RAISE_REFERRAL)],
)
def grounds(session: DbSession, actor: CurrentActor) -> GroundListOut:
    """The grounds a referral may give now."""
    return GroundListOut(items=[GroundOut.of(g) for g in referrals.active_grounds(session, actor)])


@router.post(
    "/referrals",
    status_code=201,
    response_model=SenderReferralOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RAISE_REFERRAL)],
)
def raise_referral(
    request: Request, session: DbSession, actor: CurrentActor, body: ReferralIn
) -> SenderReferralOut:
    """Raise a concern. It lands in the inbox of the young person's unit (when registered) or
    the chosen social-services unit. The answer is the sender's view of it."""
    referral = referrals.raise_referral(
        session,
        actor,
        index=request.app.state.keys.blind_index,
        data=ReferralInput(
            programme=body.programme,
            ground_ids=body.grounds,
            personnummer=body.personnummer,
            name=body.name,
            birth_year=body.birth_year,
            note=body.note,
            text=body.text,
            receiving_agency_id=body.receiving_agency_id,
        ),
    )
    mine = referrals.my_referrals(session, actor)
    return SenderReferralOut.of(next(item for item in mine if item.id == referral.id))


@router.get(
    "/referrals/mine",
    response_model=SenderReferralListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.RAISE_REFERRAL)],
)
def mine(session: DbSession, actor: CurrentActor) -> SenderReferralListOut:
    """Your own referrals, with a status only."""
    return SenderReferralListOut(
        items=[SenderReferralOut.of(item) for item in referrals.my_referrals(session, actor)]
    )


@router.get(
    "/referrals",
    response_model=InboxOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.TRIAGE_REFERRALS)],
)
def inbox(
    session: DbSession,
    actor: CurrentActor,
    status: Annotated[list[str] | None, Query(max_length=10)] = None,
) -> InboxOut:
    """Your unit's (or your programmes') referrals; those about one young person together."""
    groups = referrals.inbox(session, actor, statuses=status)
    return InboxOut(groups=[InboxGroupOut.of(group) for group in groups])


@router.get(
    "/referrals/{referral_id}",
    response_model=ReferralDetailOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.TRIAGE_REFERRALS)],
)
def read(session: DbSession, actor: CurrentActor, referral_id: uuid.UUID) -> ReferralDetailOut:
    return ReferralDetailOut.of_view(
        referrals.get_referral(session, actor, referral_id=referral_id)
    )


@router.post(
    "/referrals/{referral_id}/decision",
    response_model=DecisionOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.TRIAGE_REFERRALS)],
)
def decide(
    request: Request,
    session: DbSession,
    actor: CurrentActor,
    referral_id: uuid.UUID,
    body: DecisionIn,
) -> DecisionOut:
    """Open a case (or attach to the young person's open case), put on the waiting list, or
    decline with a reason. A decided referral takes no second decision (409). Opening past
    capacity is allowed and answered with `warnings`."""
    result = referrals.decide(
        session,
        actor,
        index=request.app.state.keys.blind_index,
        referral_id=referral_id,
        data=DecisionInput(
            decision=body.decision,
            version=body.version,
            programme=body.programme,
            reason=body.reason,
            crime_criteria_met=body.crime_criteria_met,
            personnummer=body.personnummer,
            first_name=body.first_name,
            last_name=body.last_name,
            gender=body.gender,
        ),
    )
    view = referrals.get_referral(session, actor, referral_id=referral_id)
    return DecisionOut.of(result, view.item)


@router.post(
    "/referrals/{referral_id}/hand-over",
    response_model=HandOverOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.TRIAGE_REFERRALS)],
)
def hand_over(
    session: DbSession, actor: CurrentActor, referral_id: uuid.UUID, body: HandOverIn
) -> HandOverOut:
    """Send an undecided referral to another social-services unit (the young person's area,
    or the unit that registered them). The sender sees no change."""
    referral = referrals.hand_over(
        session,
        actor,
        referral_id=referral_id,
        receiving_agency_id=body.receiving_agency_id,
        version=body.version,
    )
    return HandOverOut(
        id=referral.id,
        receiving_agency_id=referral.receiving_agency_id,
        version=referral.version,
    )


@router.get(
    "/waiting-list",
    response_model=WaitingListOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.TRIAGE_REFERRALS)],
)
def waiting_list(
    session: DbSession,
    actor: CurrentActor,
    programme: Annotated[str | None, Query(max_length=8)] = None,
) -> WaitingListOut:
    """Who waits, per programme, longest first."""
    entries = referrals.waiting_list(session, actor, programme=programme)
    return WaitingListOut(items=[WaitingOut.of(e) for e in entries])


@router.get(
    "/referral-settings",
    response_model=SettingsOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def read_settings(session: DbSession, actor: CurrentActor) -> SettingsOut:
    return SettingsOut.of(config.read_settings(session, actor))


@router.put(
    "/referral-settings/grounds",
    response_model=SettingsOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def put_grounds(session: DbSession, actor: CurrentActor, body: GroundsIn) -> SettingsOut:
    """The catalogue in order. Keep a ground by its id; a changed label makes a new ground
    (referrals keep the old one); an unlisted ground is retired."""
    items = [config.GroundIn(label=g.label, id=g.id) for g in body.items]
    return SettingsOut.of(
        config.replace_grounds(session, actor, version=body.version, grounds=items)
    )


@router.put(
    "/referral-settings/eligibility",
    response_model=SettingsOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def put_eligibility(session: DbSession, actor: CurrentActor, body: EligibilityIn) -> SettingsOut:
    bands = [config.BandIn(**b.model_dump()) for b in body.items]
    return SettingsOut.of(
        config.replace_eligibility(session, actor, version=body.version, bands=bands)
    )


@router.put(
    "/referral-settings/capacity",
    response_model=SettingsOut,
    responses=_ERRORS,
    dependencies=[requires(Permission.CONFIGURE)],
)
def put_capacity(session: DbSession, actor: CurrentActor, body: CapacityIn) -> SettingsOut:
    rules = [config.CapacityIn(**c.model_dump()) for c in body.items]
    return SettingsOut.of(
        config.replace_capacity(session, actor, version=body.version, rules=rules)
    )
