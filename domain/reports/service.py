"""Use cases of the follow-up report (issue 14 item 5): preview, narrative, publication,
correction, and reading the release ledger.

The coordinator (MANAGE_AGREEMENTS) previews, writes and publishes; the steering group and the
coordinator (READ_FOLLOW_UP) read what was published, and only that. The figures come from
the statistics service, passed in as `statistics` (the app binds the real one with its
pseudonym key); it is told every earlier release of the agreement, so that no new table lets
anyone recover what an earlier one suppressed. A preview reads case data in aggregate and is
audited as such; a publication freezes the document, renders its files, enters them in the
ledger and freezes the agreement's grid, all in the caller's transaction.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from audit import log as audit
from audit.proofs import latest_checkpoint
from common.actor import Actor
from common.clock import utcnow
from common.errors import Conflict, NotFound, StaleVersion
from common.roles import Permission
from domain.agreements import service as agreements
from domain.agreements.models import Agreement, AgreementActivity
from domain.agreements.repository import AgreementRepository
from domain.reports import rules
from domain.reports.models import FollowUpReport, ReportState, StatisticsRelease
from domain.reports.repository import ReportRepository
from domain.statistics import render
from domain.statistics.disclosure import ProofTooSlow, Release, ReleaseRefused
from domain.statistics.spec import ReportDocument, StatisticsRequest, StatisticsResult

Statistics = Callable[[Session, StatisticsRequest], StatisticsResult]

UNSAFE = (
    "Siffrorna kan inte publiceras säkert: tillsammans med det som redan publicerats skulle "
    "någon kunna räkna fram uppgifter som måste döljas. Inget har publicerats. Kontakta "
    "systemförvaltaren om det behöver utredas."
)
UNSAFE_EN = (
    "The figures cannot be published safely: together with what is already published, "
    "suppressed values could be recovered. Nothing was published."
)
PUBLISHED = (
    "Rapporten är redan publicerad och ändras aldrig. Gör en rättelse om något ska ändras: "
    "den publiceras som en ny version."
)
PUBLISHED_EN = "The report is published and never changes; a correction is a new release."


class UnsafeRelease(Conflict):
    code = "unsafe_release"

    def __init__(self) -> None:
        super().__init__(UNSAFE, english=UNSAFE_EN)


class UnprovenRelease(Conflict):
    code = "unproven_release"

    def __init__(self) -> None:
        super().__init__(
            "Skyddet av siffrorna kunde inte bevisas inom rimlig tid, så inget visas eller "
            "publiceras. Överenskommelsens indelning är för fin för beräkningen: färre "
            "indelningar, områden eller skolor gör den snabbare.",
            english="The disclosure proof did not finish in time; nothing is shown or "
            "published. The agreement's grid is too fine to prove: fewer breakdowns, areas or "
            "schools make it faster.",
        )


class AlreadyPublished(Conflict):
    code = "already_published"

    def __init__(self) -> None:
        super().__init__(PUBLISHED, english=PUBLISHED_EN)


@dataclass(frozen=True)
class Draft:
    """The coordinator's working copy, as the pages and the API show it. `version` 0: no draft
    saved yet (the first save or publication creates it)."""

    agreement_id: uuid.UUID
    activity_id: uuid.UUID
    period_code: str
    narrative: str
    state: ReportState
    version: int
    last_release: int | None
    updated_at: datetime | None


@dataclass(frozen=True)
class Preview:
    document: ReportDocument
    draft: Draft


# --- loading -------------------------------------------------------------------------------


def _load(
    session: Session, agreement_id: uuid.UUID, activity_id: uuid.UUID
) -> tuple[Agreement, AgreementActivity]:
    repository = AgreementRepository(session)
    agreement = repository.get(agreement_id)
    activity = None if agreement is None else repository.activity(agreement_id, activity_id)
    if agreement is None or activity is None:
        raise NotFound()
    return agreement, activity


def _draft(
    report: FollowUpReport | None, agreement_id: uuid.UUID, activity_id: uuid.UUID, code: str
) -> Draft:
    if report is None:
        return Draft(agreement_id, activity_id, code, "", ReportState.DRAFT, 0, None, None)
    return Draft(
        agreement_id=report.agreement_id,
        activity_id=report.activity_id,
        period_code=report.period_code,
        narrative=report.narrative,
        state=ReportState(report.state),
        version=report.version,
        last_release=report.last_release,
        updated_at=report.updated_at,
    )


def earlier_releases(session: Session, agreement_id: uuid.UUID) -> list[Release]:
    """Every release of the agreement, rebuilt from the ledger (without suppressed values)."""
    return [
        rules.release_from_json(row.disclosure)
        for row in ReportRepository(session).releases(agreement_id)
    ]


def _compute(
    session: Session,
    statistics: Statistics,
    agreement: Agreement,
    activity: AgreementActivity,
    period_code: str,
    *,
    narrative: str,
) -> tuple[ReportDocument, StatisticsResult]:
    request = agreements.statistics_request_for(
        session,
        agreement_id=agreement.id,
        activity_id=activity.id,
        period_code=period_code,
        earlier=earlier_releases(session, agreement.id),
    )
    try:
        result = statistics(session, request)
    except ReleaseRefused as refused:
        raise UnsafeRelease() from refused
    except ProofTooSlow as slow:
        raise UnprovenRelease() from slow
    targets = tuple(
        rules.evaluate(
            indicator=t.indicator,
            row_code=t.row_code,
            kind=t.kind,
            comparison=t.comparison,
            value=t.value,
            label=t.label,
            tables=result.tables,
            figures=result.figures,
        )
        for t in AgreementRepository(session).targets_of(activity.id)
    )
    document = ReportDocument(
        agreement=agreement.name,
        activity=activity.name,
        period=request.period,
        k=request.k,
        tables=result.tables,
        figures=result.figures,
        targets=targets,
        narrative=narrative,
        notes=result.notes,
    )
    return document, result


# --- the coordinator's report ----------------------------------------------------------------


def preview(
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
    statistics: Statistics,
) -> Preview:
    """The report as it would be published now, with the saved narrative. It reads case data
    in aggregate, so it is audited."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement, activity = _load(session, agreement_id, activity_id)
    report = ReportRepository(session).report(activity.id, period_code)
    draft = _draft(report, agreement.id, activity.id, period_code)
    document, _result = _compute(
        session, statistics, agreement, activity, period_code, narrative=draft.narrative
    )
    audit.record(
        session,
        actor,
        action="follow_up.preview",
        resource_type="agreement_activity",
        resource_id=activity.id,
        basis={"kind": "statistics", "agreement_id": str(agreement.id), "period": period_code},
    )
    return Preview(document=document, draft=draft)


def draft(
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
) -> Draft:
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement, activity = _load(session, agreement_id, activity_id)
    agreements.period_of(session, actor, agreement.id, period_code)
    report = ReportRepository(session).report(activity.id, period_code)
    return _draft(report, agreement.id, activity.id, period_code)


def drafts(session: Session, actor: Actor) -> Sequence[FollowUpReport]:
    actor.require(Permission.MANAGE_AGREEMENTS)
    return ReportRepository(session).reports()


def save_narrative(
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
    narrative: str | None,
    version: int,
) -> Draft:
    """Save the coordinator's text. `version` 0 creates the draft; a published report answers
    409 (a correction reopens it), a stale version 409."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement, activity = _load(session, agreement_id, activity_id)
    agreements.period_of(session, actor, agreement.id, period_code)
    text = rules.narrative(narrative)
    report, created = _writable(
        session, actor, agreement, activity, period_code, version, narrative=text
    )
    repository = ReportRepository(session)
    if not created and not repository.update_if_version(
        report, report.version, narrative=text, updated_at=utcnow(), updated_by=actor.user_id
    ):
        raise StaleVersion(report.version)
    audit.record(
        session,
        actor,
        action="follow_up.narrative",
        resource_type="follow_up_report",
        resource_id=report.id,
        basis={"kind": "statistics", "agreement_id": str(agreement.id), "period": period_code},
    )
    return _draft(report, agreement.id, activity.id, period_code)


def _writable(
    session: Session,
    actor: Actor,
    agreement: Agreement,
    activity: AgreementActivity,
    period_code: str,
    version: int,
    *,
    narrative: str = "",
) -> tuple[FollowUpReport, bool]:
    """The draft to change at `version`, and whether it was created now (at version 1, with
    `narrative`) because `version` was 0 and there was none."""
    repository = ReportRepository(session)
    report = repository.report(activity.id, period_code)
    if report is None:
        if version != 0:
            raise StaleVersion(0)
        report = FollowUpReport(
            agreement_id=agreement.id,
            activity_id=activity.id,
            period_code=period_code,
            narrative=narrative,
            created_by=actor.user_id,
            updated_by=actor.user_id,
        )
        try:
            with session.begin_nested():
                repository.add(report)
        except IntegrityError as exc:  # another request created it meanwhile
            raise StaleVersion(None) from exc
        return report, True
    if report.state == ReportState.PUBLISHED.value:
        raise AlreadyPublished()
    if report.version != version:
        raise StaleVersion(report.version)
    return report, False


def correct(
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
    version: int,
) -> Draft:
    """Reopen a published report as a draft; its next publication is a new release that
    corrects the last one. The published release stays in the ledger, unchanged."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement, activity = _load(session, agreement_id, activity_id)
    repository = ReportRepository(session)
    report = repository.report(activity.id, period_code)
    if report is None or report.state != ReportState.PUBLISHED.value:
        raise Conflict(
            "Bara en publicerad rapport kan rättas.",
            english="Only a published report can be corrected.",
        )
    if report.version != version or not repository.update_if_version(
        report,
        version,
        state=ReportState.DRAFT.value,
        updated_at=utcnow(),
        updated_by=actor.user_id,
    ):
        raise StaleVersion(report.version)
    audit.record(
        session,
        actor,
        action="follow_up.correct",
        resource_type="follow_up_report",
        resource_id=report.id,
        basis={
            "kind": "statistics",
            "agreement_id": str(agreement.id),
            "period": period_code,
            "corrects": report.last_release,
        },
    )
    return _draft(report, agreement.id, activity.id, period_code)


def publish(
    session: Session,
    actor: Actor,
    *,
    agreement_id: uuid.UUID,
    activity_id: uuid.UUID,
    period_code: str,
    version: int,
    statistics: Statistics,
) -> StatisticsRelease:
    """Freeze the report at `version` as the next release of the agreement: the document is
    computed now, rendered as JSON, CSV and PDF, fingerprinted and entered in the ledger with
    the audit checkpoint it was computed up to. Publishing the same draft twice answers 409;
    figures the disclosure audit refuses answer 409 and nothing is written."""
    actor.require(Permission.MANAGE_AGREEMENTS)
    agreement, activity = _load(session, agreement_id, activity_id)
    agreements.period_of(session, actor, agreement.id, period_code)
    report, _created = _writable(session, actor, agreement, activity, period_code, version)
    repository = ReportRepository(session)
    corrects = report.last_release
    checkpoint = latest_checkpoint(session)  # before the computation: the data is at least this
    document, result = _compute(
        session, statistics, agreement, activity, period_code, narrative=report.narrative
    )
    now = utcnow()
    number = repository.next_number(agreement.id)
    frozen = replace(document, published_at=now, release_number=number, corrects=corrects)
    files = {"json": render.to_json(frozen), "csv": render.to_csv(frozen)}
    files["pdf"] = render.to_pdf(frozen)
    hashes = {kind: rules.sha256_hex(data) for kind, data in files.items()}
    checkpoint_size = None if checkpoint is None else checkpoint.size
    checkpoint_root = None if checkpoint is None else checkpoint.root.hex()
    digest = rules.release_digest(
        agreement_id=agreement.id,
        number=number,
        activity_id=activity.id,
        period_code=period_code,
        corrects=corrects,
        json_sha256=hashes["json"],
        csv_sha256=hashes["csv"],
        pdf_sha256=hashes["pdf"],
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        published_by=actor.user_id,
        published_at=now,
    )
    if not repository.update_if_version(
        report,
        report.version,
        state=ReportState.PUBLISHED.value,
        last_release=number,
        updated_at=now,
        updated_by=actor.user_id,
    ):
        raise StaleVersion(report.version)
    release = StatisticsRelease(
        agreement_id=agreement.id,
        number=number,
        activity_id=activity.id,
        report_id=report.id,
        period_code=period_code,
        corrects=corrects,
        document_json=files["json"],
        document_csv=files["csv"],
        document_pdf=files["pdf"],
        json_sha256=hashes["json"],
        csv_sha256=hashes["csv"],
        pdf_sha256=hashes["pdf"],
        release_sha256=digest,
        checkpoint_size=checkpoint_size,
        checkpoint_root=checkpoint_root,
        disclosure=rules.disclosure_json(result.release),
        published_by=actor.user_id,
        published_at=now,
    )
    try:
        with session.begin_nested():
            repository.add(release)
    except IntegrityError as exc:  # another publication of the agreement took the number
        raise Conflict(
            "En annan rapport publicerades samtidigt. Försök igen.",
            english="Another release of the agreement was published at the same time; retry.",
        ) from exc
    agreements.freeze_grid(session, agreement.id)
    audit.record(
        session,
        actor,
        action="follow_up.publish",
        resource_type="statistics_release",
        resource_id=release.id,
        basis={
            "kind": "statistics",
            "agreement_id": str(agreement.id),
            "number": number,
            "corrects": corrects,
            "release_sha256": digest,
        },
    )
    return release


# --- the release ledger ----------------------------------------------------------------------


@dataclass(frozen=True)
class ReleaseView:
    """A published release as anyone with READ_FOLLOW_UP sees it: the frozen document and the
    ledger's fingerprints; never who published it (a person's id) or the disclosure view."""

    id: uuid.UUID
    agreement_id: uuid.UUID
    agreement: str
    activity_id: uuid.UUID
    number: int
    period_code: str
    corrects: int | None
    corrected_by: int | None
    published_at: datetime
    json_sha256: str
    csv_sha256: str
    pdf_sha256: str
    release_sha256: str
    checkpoint_size: int | None
    checkpoint_root: str | None
    document: ReportDocument


def _view(row: StatisticsRelease, corrected_by: int | None) -> ReleaseView:
    document = render.from_json(row.document_json)
    return ReleaseView(
        id=row.id,
        agreement_id=row.agreement_id,
        agreement=document.agreement,
        activity_id=row.activity_id,
        number=row.number,
        period_code=row.period_code,
        corrects=row.corrects,
        corrected_by=corrected_by,
        published_at=row.published_at,
        json_sha256=row.json_sha256,
        csv_sha256=row.csv_sha256,
        pdf_sha256=row.pdf_sha256,
        release_sha256=row.release_sha256,
        checkpoint_size=row.checkpoint_size,
        checkpoint_root=row.checkpoint_root,
        document=document,
    )


def _corrections(rows: Sequence[StatisticsRelease]) -> dict[tuple[uuid.UUID, int], int]:
    return {(r.agreement_id, r.corrects): r.number for r in rows if r.corrects is not None}


def releases(
    session: Session, actor: Actor, *, agreement_id: uuid.UUID | None = None
) -> list[ReleaseView]:
    """Every release, oldest first per agreement, with the release that corrects it."""
    actor.require(Permission.READ_FOLLOW_UP)
    rows = ReportRepository(session).releases(agreement_id)
    corrected = _corrections(rows)
    return [_view(row, corrected.get((row.agreement_id, row.number))) for row in rows]


def current_releases(session: Session, actor: Actor) -> list[ReleaseView]:
    """What the dashboard shows: every release not corrected by a later one."""
    return [view for view in releases(session, actor) if view.corrected_by is None]


def release(session: Session, actor: Actor, release_id: uuid.UUID) -> ReleaseView:
    actor.require(Permission.READ_FOLLOW_UP)
    repository = ReportRepository(session)
    row = repository.release(release_id)
    if row is None:
        raise NotFound()
    corrected = _corrections(repository.releases(row.agreement_id))
    return _view(row, corrected.get((row.agreement_id, row.number)))


FILE_KINDS = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "pdf": "application/pdf",
}


def download(
    session: Session, actor: Actor, release_id: uuid.UUID, kind: str
) -> tuple[bytes, str, str]:
    """A frozen file of a release, exactly as stored: (bytes, media type, file name). A
    download is an export, so it is audited."""
    actor.require(Permission.READ_FOLLOW_UP)
    if kind not in FILE_KINDS:
        raise NotFound()
    row = ReportRepository(session).release(release_id)
    if row is None:
        raise NotFound()
    data = {"json": row.document_json, "csv": row.document_csv, "pdf": row.document_pdf}[kind]
    audit.record(
        session,
        actor,
        action="follow_up.download",
        resource_type="statistics_release",
        resource_id=row.id,
        basis={"kind": "published_statistics", "format": kind, "number": row.number},
    )
    name = f"uppfoljning-{row.period_code}-publicering-{row.number}.{kind}"
    return data, FILE_KINDS[kind], name
