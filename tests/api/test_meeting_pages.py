"""The meeting and minutes pages and the print view through the app: a partner sees exactly
the items the consent allows (and nothing after a withdrawal), every form shows bad input
again with the Swedish error and the user's input and stores nothing, printing is audited as
an export."""

from __future__ import annotations

import html
import re
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, func, select

from audit.models import AuditEvent
from common.actor import Actor
from common.clock import STOCKHOLM, today
from common.db import new_session
from common.keys import KeySet
from common.roles import AgencyKind, Role
from consent.guard import unscoped
from consent.models import ConsentMethod
from consent.rules import Decision, SignerKind
from domain.access import case_scope
from domain.auth.service import actor_for
from domain.cases import service as cases
from domain.consents import service as consents
from domain.meetings import service as meetings
from domain.meetings.models import Meeting, MinuteItem
from domain.meetings.service import AttendeeInput, ItemInput, MeetingInput
from domain.people.repository import YoungPersonRepository
from domain.teams import service as teams
from tests.api.test_pages import csrf_from, log_in
from tests.builders import make_agency, make_case, make_user, make_young_person

SHOWN = ("Skolnärvaro hösten", "Närvaron har ökat till 80 procent.")
AMENDED = ("Skolnärvaro, rättad", "Närvaron har ökat till 85 procent.")
SOCIAL = ("Hemförhållanden", "Familjen har fått stöd av familjebehandlare.")
OWN = ("Intern bedömning", "Bara för socialtjänsten.")
SCHOOL_NAME = "Testskolan Möten"
SCHOOL_CONTACT = "Sigrid Skolkontakt"


@dataclass
class Scene:
    case_id: uuid.UUID
    meeting_id: uuid.UUID
    draft_id: uuid.UUID  # a second meeting whose minutes are still a draft
    shown_item: uuid.UUID
    consent_ids: list[uuid.UUID]
    owner: Actor
    school: Actor

    @property
    def meeting_url(self) -> str:
        return f"/arenden/{self.case_id}/moten/{self.meeting_id}"

    @property
    def draft_url(self) -> str:
        return f"/arenden/{self.case_id}/moten/{self.draft_id}"


def _at(days: int, hour: int) -> datetime:
    day = today() + timedelta(days=days)
    return datetime(day.year, day.month, day.day, hour, tzinfo=STOCKHOLM).astimezone(UTC)


def _item(
    session: Session, actor: Actor, scene_ids: tuple[uuid.UUID, uuid.UUID], **kw: object
) -> uuid.UUID:
    case_id, meeting_id = scene_ids
    return meetings.add_item(
        session,
        actor,
        case_id=case_id,
        meeting_id=meeting_id,
        data=ItemInput(**kw),  # type: ignore[arg-type]
    ).id


@pytest.fixture
def scene(engine: Engine, keys: KeySet) -> Scene:
    """An active case; the consent covers the school for `basic`, `school` and `plan`.
    Final minutes with a school item (amended), a social item and an own-agency item."""
    with new_session(engine) as session:
        unit = make_agency(session, name="Socialtjänsten Möten")
        school_agency = make_agency(session, AgencyKind.SCHOOL, name=SCHOOL_NAME)
        owner = actor_for(session, make_user(session, unit, username="mp-owner"))
        school_user = make_user(session, school_agency, Role.CONTACT_PERSON, username="mp-school")
        school_user.display_name = SCHOOL_CONTACT
        session.add(school_user)
        school = actor_for(session, school_user)
        make_user(session, unit, Role.SOCIAL_WORKER, username="mp-other-worker")
        person = make_young_person(session, owner, keys, guardians=1)
        case = make_case(session, owner, keys, young_person=person)
        teams.add_member(session, owner, case_id=case.id, user_id=school.user_id)
        case = cases.change_state(
            session, owner, case_id=case.id, target="consent_pending", expected_version=case.version
        )
        people = YoungPersonRepository(session, case_scope(session, owner))
        signers = [str(g.id) for g in people.guardians_of(person)]
        if (today() - person.birth_date).days >= 15 * 365 + 4:
            signers.append(SignerKind.YOUNG_PERSON.value)
        consent_ids = [
            consents.record_consent(
                session,
                owner,
                case_id=case.id,
                data=consents.ConsentInput(
                    signer=signer,
                    decision=Decision.GIVEN.value,
                    signed_on=today(),
                    valid_from=None,
                    valid_until=None,
                    agencies=[str(school.agency_id)],
                    categories=["basic", "school", "plan"],
                    method=ConsentMethod.PAPER_FORM.value,
                ),
            ).id
            for signer in signers
        ]
        made: list[Meeting] = []
        for days in (-1, 2):
            made.append(
                meetings.schedule_meeting(
                    session,
                    owner,
                    case_id=case.id,
                    data=MeetingInput(
                        kind="network",
                        starts_at=_at(days, 10),
                        ends_at=_at(days, 11),
                        place="Rum Påhittat 3",
                        attendees=[
                            AttendeeInput(kind="user", user_id=school.user_id, status="came"),
                            AttendeeInput(kind="young_person", status="came"),
                        ],
                    ),
                )
            )
        meeting_id, draft_id = made[0].id, made[1].id
        where = (case.id, meeting_id)
        shown = _item(session, owner, where, heading=SHOWN[0], text=SHOWN[1], category="school")
        _item(session, owner, where, heading=SOCIAL[0], text=SOCIAL[1], category="social")
        _item(
            session,
            owner,
            where,
            heading=OWN[0],
            text=OWN[1],
            category="school",
            visibility="own_agency",
        )
        meetings.finalise(
            session, owner, case_id=case.id, meeting_id=meeting_id, expected_version=made[0].version
        )
        meetings.amend_item(
            session,
            owner,
            case_id=case.id,
            meeting_id=meeting_id,
            item_id=shown,
            data=ItemInput(heading=AMENDED[0], text=AMENDED[1], category="school"),
        )
        session.commit()
        return Scene(case.id, meeting_id, draft_id, shown, consent_ids, owner, school)


def _text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", " ", page))


def _count(engine: Engine, model: type[Meeting] | type[MinuteItem]) -> int:
    with new_session(engine) as session:
        query = unscoped(select(func.count()).select_from(model), "the test counts rows")
        return session.exec(query).one()


class TestWhatAPartnerSees:
    @pytest.mark.parametrize("suffix", ["", "/utskrift"])
    def test_the_school_sees_exactly_the_consented_items(
        self, client: TestClient, scene: Scene, suffix: str
    ) -> None:
        log_in(client, "mp-school")
        page = client.get(scene.meeting_url + suffix)
        assert page.status_code == 200
        text = _text(page.text)
        for shown in (*SHOWN, *AMENDED, "Rättelse"):
            assert shown in text
        for hidden in (*SOCIAL, *OWN):
            assert hidden not in text
        assert "dold" not in text.lower()  # no trace of the hidden items

    def test_the_owner_sees_every_item_and_the_amendment_beside_its_item(
        self, client: TestClient, scene: Scene
    ) -> None:
        log_in(client, "mp-owner")
        text = _text(client.get(scene.meeting_url).text)
        for shown in (*SHOWN, *SOCIAL, *OWN):
            assert shown in text
        assert text.index(SHOWN[1]) < text.index("Rättelse") < text.index(SOCIAL[0])

    def test_after_a_withdrawal_the_school_gets_the_missing_page(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-school")
        assert client.get(scene.meeting_url).status_code == 200
        with new_session(engine) as session:
            consents.withdraw_consent(session, scene.owner, consent_id=scene.consent_ids[0])
            session.commit()
        random = f"/arenden/{scene.case_id}/moten/{uuid.uuid4()}"
        missing = client.get(random)
        assert missing.status_code == 404
        for suffix in ("", "/utskrift", "/kalender.ics"):
            page = client.get(scene.meeting_url + suffix)
            assert page.status_code == 404
            assert page.text == missing.text
        assert client.get(f"/arenden/{scene.case_id}/moten").text == missing.text

    def test_a_partner_cannot_schedule(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-school")
        page = client.get(f"/arenden/{scene.case_id}/moten")
        assert "Planera ett möte" not in page.text
        before = _count(engine, Meeting)
        response = client.post(
            f"/arenden/{scene.case_id}/moten",
            data={"csrf_token": csrf_from(page.text), "kind": "network", "day": "bad"},
        )
        assert response.status_code == 403  # a contact person's role does not run meetings
        assert _count(engine, Meeting) == before

    def test_only_the_owner_calls_an_emergency_meeting(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-other-worker")  # same unit, not the case's owner
        url = f"/arenden/{scene.case_id}/moten"
        page = client.get(url)
        assert "Planera ett möte" in page.text
        assert "Kalla till nödstoppsmöte" not in page.text
        before = _count(engine, Meeting)
        response = client.post(
            url + "/nodstopp", data={"csrf_token": csrf_from(page.text), "when": ""}
        )
        assert response.status_code == 403
        assert _count(engine, Meeting) == before


class TestPrintView:
    def test_the_footer_names_the_reader_agency_and_time(
        self, client: TestClient, scene: Scene
    ) -> None:
        log_in(client, "mp-school")
        page = client.get(scene.meeting_url + "/utskrift")
        footer = re.search(r'<p class="print-footer">(.*?)</p>', page.text, re.S)
        assert footer
        assert SCHOOL_CONTACT in footer.group(1)
        assert SCHOOL_NAME in footer.group(1)
        assert re.search(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", footer.group(1))

    def test_printing_is_audited_as_an_export_of_the_items_shown(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-school")
        client.get(scene.meeting_url + "/utskrift")
        with new_session(engine) as session:
            rows = session.exec(
                select(AuditEvent)
                .where(AuditEvent.user_id == scene.school.user_id)
                .where(AuditEvent.action == "minutes.print")
                .order_by(col(AuditEvent.occurred_at))
            ).all()
        assert len(rows) == 1
        basis = rows[0].basis
        assert basis["export"] == "print"
        assert basis["kind"] == "consent"
        assert str(scene.shown_item) in basis["minute_items"]
        assert len(basis["minute_items"]) == 2  # the item and its amendment

    def test_the_stylesheet_prints_on_a4_without_navigation(self, client: TestClient) -> None:
        css = client.get("/static/samsyn.css").text
        assert "size: A4" in css
        printing = css[css.index("@media print") :]
        assert ".site-header" in printing
        assert "display: none" in printing


class TestCalendarFile:
    def test_the_browser_session_gets_the_ics_without_names(
        self, client: TestClient, scene: Scene
    ) -> None:
        log_in(client, "mp-school")
        response = client.get(scene.draft_url + "/kalender.ics")
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/calendar")
        assert "BEGIN:VEVENT" in response.text
        assert SCHOOL_CONTACT not in response.text
        assert "Påhittadsson" not in response.text


def _page(client: TestClient, url: str) -> str:
    page = client.get(url)
    assert page.status_code == 200, page.text
    return csrf_from(page.text)


class TestBadInput:
    def test_schedule_with_the_end_before_the_start(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        before = _count(engine, Meeting)
        response = client.post(
            url,
            data={
                "csrf_token": _page(client, url),
                "kind": "team",
                "day": (today() + timedelta(days=5)).isoformat(),
                "starts": "14:00",
                "ends": "13:00",
                "place": "Konferensrum Ekollon",
            },
        )
        assert response.status_code == 422
        assert "Mötet måste sluta efter att det har börjat." in response.text
        assert 'href="#schedule-ends_at"' in response.text
        assert 'value="Konferensrum Ekollon"' in response.text
        assert _count(engine, Meeting) == before

    def test_schedule_with_an_unreadable_date_and_no_place(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        before = _count(engine, Meeting)
        response = client.post(
            url,
            data={"csrf_token": _page(client, url), "kind": "team", "day": "imorgon"},
        )
        assert response.status_code == 422
        assert "Ange datum som ÅÅÅÅ-MM-DD." in response.text
        assert 'value="imorgon"' in response.text
        assert _count(engine, Meeting) == before

    def test_schedule_with_a_chair_off_the_team(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        before = _count(engine, Meeting)
        response = client.post(
            url,
            data={
                "csrf_token": _page(client, url),
                "kind": "team",
                "day": (today() + timedelta(days=5)).isoformat(),
                "starts": "13:00",
                "ends": "14:00",
                "place": "Rum 1",
                "chair": str(uuid.uuid4()),
            },
        )
        assert response.status_code == 422
        assert "Ordföranden måste ingå i ärendets team." in response.text
        assert _count(engine, Meeting) == before

    def test_schedule_stores_a_good_meeting(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        response = client.post(
            url,
            data={
                "csrf_token": _page(client, url),
                "kind": "team",
                "day": (today() + timedelta(days=5)).isoformat(),
                "starts": "13:00",
                "ends": "14:00",
                "place": "Rum Lönnen",
                "invited": [str(scene.school.user_id)],
                "young_person": "on",
            },
        )
        assert response.status_code == 200
        assert "Mötet är inlagt." in response.text
        assert "Rum Lönnen" in response.text
        assert SCHOOL_CONTACT in response.text

    def test_emergency_without_a_day(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        before = _count(engine, Meeting)
        response = client.post(
            url + "/nodstopp",
            data={
                "csrf_token": _page(client, url),
                "starts": "23:00",
                "ends": "23:30",
                "place": "Akutrummet",
            },
        )
        assert response.status_code == 422
        assert "Välj i dag eller i morgon." in response.text
        assert 'value="Akutrummet"' in response.text
        assert _count(engine, Meeting) == before

    def test_emergency_tomorrow_is_called(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        url = f"/arenden/{scene.case_id}/moten"
        response = client.post(
            url + "/nodstopp",
            data={
                "csrf_token": _page(client, url),
                "when": "tomorrow",
                "starts": "09:00",
                "ends": "10:00",
                "place": "Akutrummet",
            },
        )
        assert response.status_code == 200
        assert "Nödstoppsmöte" in response.text

    def test_attendance_of_another_without_a_name(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        token = _page(client, scene.draft_url)
        response = client.post(
            scene.draft_url + "/narvaro",
            data={
                "csrf_token": token,
                "version": "1",
                "row_kind": ["young_person", "other"],
                "row_ref": ["", ""],
                "row_name": ["", ""],
                "row_role": ["", "Morbror"],
                "row_status": ["came", "came"],
            },
        )
        assert response.status_code == 422
        assert "Ange namn." in response.text
        assert 'href="#row-1-name"' in response.text
        assert 'value="Morbror"' in response.text
        page = client.get(scene.draft_url)
        assert "Morbror" not in page.text  # nothing stored

    def test_attendance_is_recorded(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        token = _page(client, scene.draft_url)
        meeting = client.get(scene.draft_url).text
        version = re.search(r'name="version" value="(\d+)"', meeting)
        assert version
        response = client.post(
            scene.draft_url + "/narvaro",
            data={
                "csrf_token": token,
                "version": version.group(1),
                "row_kind": ["young_person", "other"],
                "row_ref": ["", ""],
                "row_name": ["", "Olle Morbror"],
                "row_role": ["", "Morbror"],
                "row_status": ["absent", "came"],
            },
        )
        assert response.status_code == 200
        assert "Närvaron är sparad." in response.text
        assert 'value="Olle Morbror"' in response.text

    def test_item_without_a_heading_keeps_the_text(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-school")
        before = _count(engine, MinuteItem)
        response = client.post(
            scene.draft_url + "/punkter",
            data={
                "csrf_token": _page(client, scene.draft_url),
                "heading": "",
                "text": "Mentorn ringer hem varje fredag.",
                "category": "school",
                "visibility": "team",
            },
        )
        assert response.status_code == 422
        assert "Ange rubrik." in response.text
        assert 'href="#item-heading"' in response.text
        assert "Mentorn ringer hem varje fredag." in response.text
        assert _count(engine, MinuteItem) == before

    def test_item_in_a_category_the_consent_does_not_cover(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-school")
        page = client.get(scene.draft_url)
        assert 'value="social"' not in page.text  # not offered
        before = _count(engine, MinuteItem)
        response = client.post(
            scene.draft_url + "/punkter",
            data={
                "csrf_token": csrf_from(page.text),
                "heading": "Hemmet",
                "text": "Text",
                "category": "social",
                "visibility": "team",
            },
        )
        assert response.status_code == 422
        assert "Samtycket omfattar inte den kategorin för din organisation." in response.text
        assert _count(engine, MinuteItem) == before

    def test_a_stale_edit_shows_the_conflict_and_keeps_the_text(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        with new_session(engine) as session:
            item_id = _item(
                session,
                scene.school,
                (scene.case_id, scene.draft_id),
                heading="Läxhjälp",
                text="Två dagar i veckan.",
                category="school",
            )
            session.commit()
        log_in(client, "mp-school")
        token = _page(client, scene.draft_url)
        form = {
            "csrf_token": token,
            "version": "1",
            "heading": "Läxhjälp",
            "category": "school",
            "visibility": "team",
        }
        first = client.post(
            f"{scene.draft_url}/punkter/{item_id}", data={**form, "text": "Tre dagar i veckan."}
        )
        assert first.status_code == 200
        assert "Punkten är ändrad." in first.text
        stale = client.post(
            f"{scene.draft_url}/punkter/{item_id}", data={**form, "text": "Fyra dagar i veckan."}
        )
        assert stale.status_code == 409
        assert "Uppgifterna har ändrats av någon annan" in stale.text
        assert f'href="#edit-{item_id}-form"' in stale.text
        assert "Fyra dagar i veckan." in stale.text  # the user's text is kept in the form
        assert "Tre dagar i veckan." in stale.text  # and the stored one shown
        with new_session(engine) as session:
            view = meetings.get_meeting(
                session, scene.school, case_id=scene.case_id, meeting_id=scene.draft_id
            )
        assert [i.text for i in view.items if i.id == item_id] == ["Tre dagar i veckan."]

    def test_finalising_twice_shows_the_conflict(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        response = client.post(
            scene.meeting_url + "/justera",
            data={"csrf_token": _page(client, scene.meeting_url), "version": "99"},
        )
        assert response.status_code == 409
        assert "Protokollet är redan justerat." in response.text

    def test_the_chair_finalises_a_draft(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-owner")
        page = client.get(scene.draft_url).text
        assert "Justera och fastställ protokollet" in page
        version = re.search(
            r'/justera">\s*<input[^>]+>\s*<input type="hidden" name="version" value="(\d+)"',
            page,
        )
        assert version
        response = client.post(
            scene.draft_url + "/justera",
            data={"csrf_token": csrf_from(page), "version": version.group(1)},
        )
        assert response.status_code == 200
        assert "Protokollet är justerat och fastställt." in response.text
        assert "Justera och fastställ protokollet" not in response.text

    def test_an_empty_amendment_keeps_the_input(
        self, client: TestClient, scene: Scene, engine: Engine
    ) -> None:
        log_in(client, "mp-owner")
        before = _count(engine, MinuteItem)
        response = client.post(
            f"{scene.meeting_url}/punkter/{scene.shown_item}/rattelse",
            data={
                "csrf_token": _page(client, scene.meeting_url),
                "heading": "Rättad närvaro",
                "text": " ",
                "category": "school",
                "visibility": "team",
            },
        )
        assert response.status_code == 422
        assert "Ange text." in response.text
        assert f'href="#amend-{scene.shown_item}-text"' in response.text
        assert 'value="Rättad närvaro"' in response.text
        assert _count(engine, MinuteItem) == before


class TestCasePage:
    def test_the_case_links_to_its_meetings(self, client: TestClient, scene: Scene) -> None:
        log_in(client, "mp-school")
        page = client.get(f"/arenden/{scene.case_id}")
        assert f'href="/arenden/{scene.case_id}/moten"' in page.text
