"""The start page, "Min dag" (issue 12 item 5): today's and upcoming meetings with the
emergency-stop meetings first, drafts the reader chairs, their own and their agency's open
and overdue commitments, consents about to end; every entry links to its case, and nothing
comes from a case the reader may not see."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient

from common.clock import today
from domain.consents.tracker import HORIZON_DAYS
from tests.api.conftest import World, token_for
from tests.api.test_consent_sharing import Case
from tests.api.test_pages import log_in


def _times(start: datetime) -> dict[str, str]:
    return {"starts_at": start.isoformat(), "ends_at": (start + timedelta(hours=1)).isoformat()}


def _emergency(client: TestClient, case: Case, place: str) -> dict[str, Any]:
    response = client.post(
        f"/api/v1/cases/{case.id}/emergency-meetings",
        headers=case.owner,
        json={**_times(datetime.now(UTC) + timedelta(minutes=30)), "place": place},
    )
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


def _network(client: TestClient, case: Case, place: str, *, invite_school: bool) -> str:
    attendees = [{"kind": "user", "user_id": case.school_user}] if invite_school else []
    response = client.post(
        f"/api/v1/cases/{case.id}/meetings",
        headers=case.owner,
        json={
            "kind": "network",
            **_times(datetime.now(UTC) + timedelta(days=3)),
            "place": place,
            "attendees": attendees,
        },
    )
    assert response.status_code == 201, response.text
    meeting_id: str = response.json()["id"]
    return meeting_id


def _commitment(client: TestClient, case: Case, what: str, *, days: int) -> None:
    response = client.post(
        f"/api/v1/cases/{case.id}/commitments",
        headers=case.owner,
        json={"what": what, "agency_id": case.school_id, "due_on": str(today() + timedelta(days))},
    )
    assert response.status_code == 201, response.text


def _section(page: str, heading: str) -> str:
    """The HTML of the section under the h2 `heading` (empty when the page has none)."""
    found = re.search(rf"<h2 id=\"[^\"]+\">{heading}</h2>(.*?)</section>", page, re.S)
    return found.group(1) if found else ""


def _start(client: TestClient, username: str) -> str:
    client.cookies.clear()
    log_in(client, username)
    response = client.get("/start")
    assert response.status_code == 200
    return response.text


def _living_case(client: TestClient, world: World) -> Case:
    case = Case(client, world)
    _network(client, case, "Konferensrummet", invite_school=True)
    _emergency(client, case, "Rektorsexpeditionen")
    _commitment(client, case, "Närvaroplan", days=-2)
    _commitment(client, case, "Ringa hem", days=10)
    case.all_sign(categories=["basic", "school", "plan"], valid_until=today() + timedelta(days=12))
    return case


def test_the_team_sees_emergencies_first_meetings_and_commitments(
    client: TestClient, world: World
) -> None:
    case = _living_case(client, world)
    reference = client.get(f"/api/v1/cases/{case.id}", headers=case.owner).json()["reference"]

    for username in ("social-worker", "school-contact"):
        page = _start(client, username)
        assert "<h1>Min dag</h1>" in page
        emergency = _section(page, "Nödstoppsmöten")
        assert f"Nödstoppsmöte i ärende {reference}" in emergency
        assert page.index("Nödstoppsmöten") < page.index("Möten i dag och framåt")
        meetings = _section(page, "Möten i dag och framåt")
        assert "Nätverksmöte" in meetings
        assert "Konferensrummet" in meetings
        assert "Nödstoppsmöte" not in meetings  # listed once, at the top
        ending = _section(page, "Samtycken som snart upphör")
        assert reference in ending
        assert str(today() + timedelta(days=12)) in ending

    school = _start(client, "school-contact")
    commitments = _section(school, "Mina och min organisations åtaganden")
    assert "Närvaroplan" in commitments
    assert "Ringa hem" in commitments
    assert commitments.index("Närvaroplan") < commitments.index("Ringa hem")  # overdue first
    assert commitments.count("Försenat") == 1
    assert f'href="/arenden/{case.id}/plan"' in commitments


def test_the_coordinator_sees_every_overdue_commitment_of_the_programme(
    client: TestClient, world: World
) -> None:
    case = _living_case(client, world)
    page = _start(client, "coordinator")
    overdue = _section(page, "Försenade åtaganden i dina program")
    assert "Närvaroplan" in overdue
    assert "Ringa hem" not in overdue
    assert "Nödstoppsmöte i ärende" in _section(page, "Nödstoppsmöten")
    assert case.id in page


def test_the_chair_sees_minutes_to_finalise(client: TestClient, world: World) -> None:
    case = _living_case(client, world)
    page = _start(client, "social-worker")
    drafts = _section(page, "Protokoll att fastställa")
    assert f'href="/arenden/{case.id}/moten/' in drafts
    assert _section(_start(client, "school-contact"), "Protokoll att fastställa") == ""


def test_nothing_from_a_case_the_reader_may_not_see(client: TestClient, world: World) -> None:
    case = _living_case(client, world)
    shared = _start(client, "school-contact")
    assert case.id in shared

    records = client.get(f"/api/v1/cases/{case.id}/consents", headers=case.owner).json()
    first = records["records"][0]["id"] if "records" in records else records[0]["id"]
    withdrawn = client.post(f"/api/v1/consents/{first}/withdrawal", headers=case.owner)
    assert withdrawn.status_code == 204, withdrawn.text

    after = _start(client, "school-contact")
    assert case.id not in after
    assert "Rektorsexpeditionen" not in after
    assert "Närvaroplan" not in after
    # The owner still has the case on their day (the emergency was not cancelled).
    assert case.id in _start(client, "social-worker")
    # A social worker of another unit never had it.
    assert case.id not in _start(client, "other-social-worker")


def test_a_team_member_only_sees_their_own_cases(client: TestClient, world: World) -> None:
    """The school contact is on the first case's team, not on the second's (whose consent
    does not cover the school either): only the first is on their day."""
    mine = _living_case(client, world)
    other = Case(client, world)
    _emergency(client, other, "Annat rum")
    other.all_sign(agencies=[str(world.other_unit.id)])
    page = _start(client, "school-contact")
    assert mine.id in page
    assert other.id not in page
    assert "Annat rum" not in page


def test_roles_without_case_work_get_their_account_page(client: TestClient, world: World) -> None:
    _living_case(client, world)
    for username in ("auditor", "steering", "administrator"):
        page = _start(client, username)
        assert "Min dag" not in page
        assert "Nödstopp" not in page
        assert "Tvåstegsverifiering" in page


def test_the_start_page_read_is_audited(client: TestClient, world: World) -> None:
    case = _living_case(client, world)
    _start(client, "school-contact")
    auditor = token_for(client, world.usernames["auditor"])
    events = client.get(
        "/api/v1/audit/events", params={"case_id": case.id}, headers=auditor
    ).json()["items"]
    actions = {e["action"] for e in events}
    assert {"meeting.list", "commitments.mine", "consent.ending"} <= actions


def test_a_consent_is_ending_by_the_record_in_force_to_the_horizon_day(
    client: TestClient, world: World
) -> None:
    """Listed: the consent in force ends on the horizon's last day. Not listed: it ends the
    day after, or an earlier record ends within the horizon but a later one supersedes it."""
    horizon = today() + timedelta(days=HORIZON_DAYS)
    on_the_day, day_after, renewed = Case(client, world), Case(client, world), Case(client, world)
    on_the_day.all_sign(valid_until=horizon)
    day_after.all_sign(valid_until=horizon + timedelta(days=1))
    renewed.all_sign(valid_until=today() + timedelta(days=5))
    renewed.all_sign(valid_until=today() + timedelta(days=90))
    references = {
        case.id: client.get(f"/api/v1/cases/{case.id}", headers=case.owner).json()["reference"]
        for case in (on_the_day, day_after, renewed)
    }

    ending = _section(_start(client, "social-worker"), "Samtycken som snart upphör")
    assert references[on_the_day.id] in ending
    assert str(horizon) in ending
    assert references[day_after.id] not in ending
    assert references[renewed.id] not in ending
