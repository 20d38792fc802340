"""The follow-up report and the release ledger (issue 14 item 5), with a stand-in for the
statistics service (tests/statistics_fake.py) that protects its tables with the real
disclosure control."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import date

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlmodel import Session, select

from audit.models import AuditEvent
from common.actor import Actor
from common.errors import Forbidden, NotFound, StaleVersion, ValidationFailed
from common.roles import AgencyKind, Role
from domain.agreements import service as agreements
from domain.agreements.models import Agreement
from domain.reports import rules, service
from domain.reports.models import StatisticsRelease
from domain.statistics import render
from domain.statistics.disclosure import ProofTooSlow, ReleaseRefused
from domain.statistics.spec import SUPPRESSED_MARK, StatisticsRequest, StatisticsResult
from tests.builders import make_actor, make_agency
from tests.statistics_fake import AREAS, FakeStatistics

PERIOD = "2026-T2"


@dataclass
class Setup:
    coordinator: Actor
    steering: Actor
    agreement: Agreement
    activity_id: uuid.UUID


@pytest.fixture
def setup(session: Session) -> Setup:
    social = make_agency(session, AgencyKind.SOCIAL_SERVICES)
    coordinator = make_actor(session, social, Role.COORDINATOR)
    steering = make_actor(session, make_agency(session, AgencyKind.OTHER), Role.STEERING_GROUP)
    agreement = agreements.create_agreement(
        session,
        coordinator,
        name="Samverkansöverenskommelse Testkommun 2026–2027",
        starts_on=date(2026, 1, 1),
        ends_on=date(2028, 1, 1),
        period_kind="tertial",
        breakdowns=["area"],
        areas=list(AREAS),
    )
    goal = agreements.add_goal_area(session, coordinator, agreement.id, letter="A", title="Unga")
    activity = agreements.add_activity(
        session,
        coordinator,
        agreement.id,
        goal_area_id=goal.id,
        name="SSPF på Testskolan",
        programmes=["SSPF"],
    )
    agreements.add_target(
        session,
        coordinator,
        agreement.id,
        activity.id,
        indicator="young_people_flow",
        row_code="inflow",
        kind="count",
        comparison="at_least",
        value=15,
        label="Minst 15 nya unga",
    )
    agreements.add_target(
        session,
        coordinator,
        agreement.id,
        activity.id,
        indicator="consent_share",
        row_code=None,
        kind="share",
        comparison="at_least",
        value=80,
        label="Minst 80 % samtycken",
    )
    agreements.add_target(
        session,
        coordinator,
        agreement.id,
        activity.id,
        indicator="days_referral_to_first_meeting",
        row_code=None,
        kind="median_days",
        comparison="at_most",
        value=14,
        label="Högst 14 dagar till första mötet",
    )
    session.flush()
    return Setup(coordinator, steering, agreement, activity.id)


def _publish(
    session: Session, s: Setup, version: int, stats: service.Statistics
) -> StatisticsRelease:
    return service.publish(
        session,
        s.coordinator,
        agreement_id=s.agreement.id,
        activity_id=s.activity_id,
        period_code=PERIOD,
        version=version,
        statistics=stats,
    )


def _save(session: Session, s: Setup, text_: str, version: int) -> service.Draft:
    return service.save_narrative(
        session,
        s.coordinator,
        agreement_id=s.agreement.id,
        activity_id=s.activity_id,
        period_code=PERIOD,
        narrative=text_,
        version=version,
    )


def _actions(session: Session) -> list[str]:
    return list(session.exec(select(AuditEvent.action)).all())


class TestPreview:
    def test_targets_are_judged_on_the_published_figures(
        self, session: Session, setup: Setup
    ) -> None:
        found = service.preview(
            session,
            setup.coordinator,
            agreement_id=setup.agreement.id,
            activity_id=setup.activity_id,
            period_code=PERIOD,
            statistics=FakeStatistics(),
        )
        targets = {t.label: t for t in found.document.targets}
        inflow = targets["Minst 15 nya unga"]
        assert (inflow.target, inflow.actual, inflow.met) == ("minst 15", "18", True)
        share = targets["Minst 80 % samtycken"]
        assert (share.target, share.actual, share.met) == ("minst 80 %", "71,4", False)
        withheld = targets["Högst 14 dagar till första mötet"]
        assert (withheld.actual, withheld.met) == (SUPPRESSED_MARK, None)
        assert found.draft.version == 0
        assert "follow_up.preview" in _actions(session)

    def test_a_period_outside_the_agreement_is_422_naming_period(
        self, session: Session, setup: Setup
    ) -> None:
        with pytest.raises(ValidationFailed) as error:
            service.preview(
                session,
                setup.coordinator,
                agreement_id=setup.agreement.id,
                activity_id=setup.activity_id,
                period_code="2030-T1",
                statistics=FakeStatistics(),
            )
        assert [e.field for e in error.value.errors] == ["period"]

    def test_the_steering_group_cannot_preview(self, session: Session, setup: Setup) -> None:
        with pytest.raises(Forbidden):
            service.preview(
                session,
                setup.steering,
                agreement_id=setup.agreement.id,
                activity_id=setup.activity_id,
                period_code=PERIOD,
                statistics=FakeStatistics(),
            )

    def test_an_unknown_activity_is_404(self, session: Session, setup: Setup) -> None:
        with pytest.raises(NotFound):
            service.preview(
                session,
                setup.coordinator,
                agreement_id=setup.agreement.id,
                activity_id=uuid.uuid4(),
                period_code=PERIOD,
                statistics=FakeStatistics(),
            )


class TestPublish:
    def test_publishing_freezes_files_hashes_and_the_grid(
        self, session: Session, setup: Setup
    ) -> None:
        draft = _save(session, setup, "Målet är nått. Vi har haft tre nätverksträffar.", 0)
        release = _publish(session, setup, draft.version, FakeStatistics())
        assert (release.number, release.corrects) == (1, None)
        assert release.json_sha256 == rules.sha256_hex(release.document_json)
        assert release.pdf_sha256 == rules.sha256_hex(release.document_pdf)
        assert release.document_pdf.startswith(b"%PDF-")
        document = render.from_json(release.document_json)
        assert document.narrative == "Målet är nått. Vi har haft tre nätverksträffar."
        assert document.release_number == 1
        assert render.to_csv(document) == release.document_csv  # re-rendering checks out
        assert release.release_sha256 == rules.release_digest(
            agreement_id=release.agreement_id,
            number=1,
            activity_id=release.activity_id,
            period_code=PERIOD,
            corrects=None,
            json_sha256=release.json_sha256,
            csv_sha256=release.csv_sha256,
            pdf_sha256=release.pdf_sha256,
            checkpoint_size=release.checkpoint_size,
            checkpoint_root=release.checkpoint_root,
            published_by=setup.coordinator.user_id,
            published_at=release.published_at,
        )
        session.refresh(setup.agreement)
        assert setup.agreement.grid_frozen_at is not None
        assert "follow_up.publish" in _actions(session)

    def test_the_ledger_never_stores_a_suppressed_value(
        self, session: Session, setup: Setup
    ) -> None:
        release = _publish(session, setup, 0, FakeStatistics())
        suppressed = {tuple(key) for key in release.disclosure["suppressed"]}
        assert suppressed
        for cell in release.disclosure["cells"]:
            assert (cell["value"] is None) == (tuple(cell["key"]) in suppressed)

    def test_publishing_the_same_draft_twice_is_409(self, session: Session, setup: Setup) -> None:
        _publish(session, setup, 0, FakeStatistics())
        with pytest.raises(service.AlreadyPublished) as error:
            _publish(session, setup, 1, FakeStatistics())
        assert error.value.status_code == 409
        assert len(service.releases(session, setup.steering)) == 1

    def test_editing_a_published_report_is_409(self, session: Session, setup: Setup) -> None:
        _publish(session, setup, 0, FakeStatistics())
        with pytest.raises(service.AlreadyPublished):
            _save(session, setup, "Ändrad i efterhand", 1)
        views = service.releases(session, setup.steering)
        assert views[0].document.narrative == ""

    def test_a_stale_version_is_409(self, session: Session, setup: Setup) -> None:
        _save(session, setup, "Första", 0)
        with pytest.raises(StaleVersion):
            _save(session, setup, "Andra, på gammal version", 0)
        with pytest.raises(StaleVersion):
            _publish(session, setup, 5, FakeStatistics())

    def test_a_correction_is_a_new_release_that_names_the_old(
        self, session: Session, setup: Setup
    ) -> None:
        first = _publish(session, setup, 0, FakeStatistics())
        reopened = service.correct(
            session,
            setup.coordinator,
            agreement_id=setup.agreement.id,
            activity_id=setup.activity_id,
            period_code=PERIOD,
            version=2,
        )
        saved = _save(session, setup, "Rättelse: inflödet var högre.", reopened.version)
        second = _publish(session, setup, saved.version, FakeStatistics())
        assert (second.number, second.corrects) == (2, 1)
        assert first.document_json != second.document_json
        views = service.releases(session, setup.steering)
        assert [(v.number, v.corrected_by) for v in views] == [(1, 2), (2, None)]
        assert [v.number for v in service.current_releases(session, setup.steering)] == [2]

    def test_earlier_releases_are_passed_on_without_suppressed_values(
        self, session: Session, setup: Setup
    ) -> None:
        stats = FakeStatistics()
        first = _publish(session, setup, 0, stats)
        service.correct(
            session,
            setup.coordinator,
            agreement_id=setup.agreement.id,
            activity_id=setup.activity_id,
            period_code=PERIOD,
            version=2,
        )
        _publish(session, setup, 3, stats)
        assert stats.requests[0].earlier == ()
        [earlier] = stats.requests[-1].earlier
        assert earlier.suppressed == {tuple(k) for k in first.disclosure["suppressed"]}
        shown = {c.key: c.value for c in earlier.published()}
        stored = {tuple(c["key"]): c["value"] for c in first.disclosure["cells"]}
        assert shown == {k: v for k, v in stored.items() if v is not None}
        assert all(c.value == 0 for c in earlier.cells if c.key in earlier.suppressed)

    def test_figures_that_cannot_be_published_safely_are_409_and_nothing_is_written(
        self, session: Session, setup: Setup
    ) -> None:
        def refuse(session: Session, request: StatisticsRequest) -> StatisticsResult:
            raise ReleaseRefused([])

        with pytest.raises(service.UnsafeRelease) as error:
            _publish(session, setup, 0, refuse)
        assert error.value.status_code == 409
        assert "kan inte publiceras säkert" in error.value.detail
        assert service.releases(session, setup.steering) == []

    def test_figures_whose_proof_runs_out_of_time_are_409_and_nothing_is_written(
        self, session: Session, setup: Setup
    ) -> None:
        def too_slow(session: Session, request: StatisticsRequest) -> StatisticsResult:
            raise ProofTooSlow()

        with pytest.raises(service.UnprovenRelease) as error:
            _publish(session, setup, 0, too_slow)
        assert error.value.status_code == 409
        assert "inom rimlig tid" in error.value.detail
        assert service.releases(session, setup.steering) == []


class TestLedger:
    @pytest.mark.parametrize(
        "statement",
        [
            "UPDATE statistics_release SET corrects = NULL",
            "UPDATE statistics_release SET document_json = document_csv",
            "DELETE FROM statistics_release",
        ],
    )
    def test_the_database_refuses_to_change_a_release(
        self, session: Session, setup: Setup, statement: str
    ) -> None:
        _publish(session, setup, 0, FakeStatistics())
        session.commit()
        with pytest.raises(DBAPIError, match="append-only"):
            session.execute(text(statement))
        session.rollback()
        assert len(service.releases(session, setup.steering)) == 1

    def test_downloads_are_the_stored_bytes_and_audited(
        self, session: Session, setup: Setup
    ) -> None:
        release = _publish(session, setup, 0, FakeStatistics())
        data, media, name = service.download(session, setup.steering, release.id, "csv")
        assert data == release.document_csv
        assert media.startswith("text/csv")
        assert name == "uppfoljning-2026-T2-publicering-1.csv"
        assert "follow_up.download" in _actions(session)
        with pytest.raises(NotFound):
            service.download(session, setup.steering, release.id, "xml")

    def test_a_release_shows_no_person(self, session: Session, setup: Setup) -> None:
        release = _publish(session, setup, 0, FakeStatistics())
        data = json.loads(release.document_json)
        assert str(setup.coordinator.user_id) not in json.dumps(data)
        view = service.release(session, setup.steering, release.id)
        assert not hasattr(view, "published_by")
