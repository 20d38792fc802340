"""Pure rules of the scope: which entries of a case a reader sees (DESIGN §3)."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from common.actor import Actor
from common.roles import AgencyKind, Role
from consent.rules import Category, EffectiveConsent
from consent.scope import CaseScope, PartnerCase, decide

UNIT = uuid.uuid4()
SCHOOL = uuid.uuid4()
POLICE = uuid.uuid4()


@dataclass(frozen=True)
class Key:
    id: uuid.UUID
    owner_agency_id: uuid.UUID
    programme: str


CASE = Key(uuid.uuid4(), UNIT, "SSPF")


def _consent(*categories: Category) -> EffectiveConsent:
    return EffectiveConsent(
        complete=True,
        agencies=frozenset({SCHOOL, POLICE}),
        categories=frozenset(categories),
        basis=(uuid.uuid4(),),
        missing=frozenset(),
        refused=frozenset(),
        withdrawn=frozenset(),
    )


def _scope(agency: uuid.UUID, kind: AgencyKind, role: Role, *categories: Category) -> CaseScope:
    actor = Actor(uuid.uuid4(), agency, kind, frozenset({role}))
    partner = {CASE.id: PartnerCase(state="active", consent=_consent(*categories))}
    return decide(actor, partner_cases=partner if role is Role.CONTACT_PERSON else {})


@pytest.mark.parametrize(
    ("category", "visibility", "author", "seen"),
    [
        ("school", "team", UNIT, True),  # consented category, shared with the team
        ("police", "team", UNIT, False),  # a category outside the consent
        ("police", "own_agency", SCHOOL, True),  # the reader's own agency wrote it
        ("social", "own_agency", UNIT, False),  # social services' own notes stay there
        ("plan", "team", POLICE, True),
    ],
)
def test_a_partner_sees_team_entries_of_consented_categories_and_their_own(
    category: str, visibility: str, author: uuid.UUID, seen: bool
) -> None:
    school = _scope(
        SCHOOL,
        AgencyKind.SCHOOL,
        Role.CONTACT_PERSON,
        Category.BASIC,
        Category.SCHOOL,
        Category.PLAN,
    )
    assert (
        school.sees_entry(CASE, category=category, visibility=visibility, author_agency_id=author)
        is seen
    )


def test_social_services_sees_every_team_entry_but_not_another_agencys_own() -> None:
    owner = _scope(UNIT, AgencyKind.SOCIAL_SERVICES, Role.SOCIAL_WORKER)
    for category in Category:
        assert owner.sees_entry(CASE, category=category, visibility="team", author_agency_id=POLICE)
    assert not owner.sees_entry(
        CASE, category="police", visibility="own_agency", author_agency_id=POLICE
    )
    assert owner.sees_entry(CASE, category="social", visibility="own_agency", author_agency_id=UNIT)


def test_a_partner_without_a_grant_sees_only_their_own_agencys_entries() -> None:
    stranger = _scope(SCHOOL, AgencyKind.SCHOOL, Role.CONTACT_PERSON)  # no basic: no grant
    other_case = Key(uuid.uuid4(), UNIT, "SIG")
    assert not stranger.sees_entry(
        other_case, category="school", visibility="team", author_agency_id=UNIT
    )
