"""The consent sweep: moves the cases that time, not a person, has changed the consent of.

Recording or withdrawing consent moves a case at once (`domain.consents.service`). Time moves
cases too: consent runs out after its last valid day, a birthday makes the young person a
required signer, consent recorded ahead of time starts. Losing access never waits for the sweep
(the scope computes effective consent on every request); the case state, the lists, the tracker
and the statistics do, and so does sharing that resumes (partners see active cases only).
The sweep runs in the background every few minutes and from the CLI.

Each case is moved in its own transaction, with its row locked and its version checked, so a
social worker's change at the same moment wins or waits and is never overwritten. Every move
is in the case history without a person (`changed_by` empty) and in the audit log with the
system as actor.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.background import Periodic
from common.clock import STOCKHOLM, utcnow
from common.db import new_session
from common.errors import StaleVersion
from consent.rules import MoveReason, consent_move
from domain.access import effective_for, effective_now
from domain.cases import service as cases
from domain.cases.repository import SystemCaseRepository
from domain.cases.rules import CaseState
from domain.configuration.service import signing_policy
from domain.consents.repository import ScopeFacts

log = structlog.get_logger("samsyn.consent.sweep")

# Closed and declined cases are never reopened by rule; a referred case waits for a person,
# except that a refusal declines it (and the recording of the refusal did that already).
SWEPT_STATES = (CaseState.CONSENT_PENDING.value, CaseState.ACTIVE.value, CaseState.PAUSED.value)


@dataclass(frozen=True)
class SweptCase:
    case_id: uuid.UUID
    reference: str
    from_state: str
    to_state: str
    reason: MoveReason


@dataclass(frozen=True)
class SweepReport:
    examined: int
    moved: tuple[SweptCase, ...]
    raced: int  # cases someone else changed first; the next sweep looks at them again


def sweep(engine: Engine, *, at: datetime | None = None) -> SweepReport:
    """Move every case whose consent, as of `at` (default now), calls for a move."""
    moment = at or utcnow()
    with new_session(engine) as session:
        case_ids = SystemCaseRepository(session).open_case_ids(SWEPT_STATES)
        candidates = _candidates(session, case_ids, moment)
    moved: list[SweptCase] = []
    raced = 0
    for case_id in candidates:
        with new_session(engine) as session:
            try:
                swept = sweep_case(session, case_id, at=moment)
                session.commit()
            except StaleVersion:
                session.rollback()
                raced += 1
                continue
        if swept is not None:
            moved.append(swept)
    report = SweepReport(examined=len(case_ids), moved=tuple(moved), raced=raced)
    if moved or raced:
        log.info("consent_sweep", examined=report.examined, moved=len(moved), raced=raced)
    return report


def _candidates(session: Session, case_ids: Sequence[uuid.UUID], at: datetime) -> list[uuid.UUID]:
    """The cases the rules would move, read without locks; each is checked again when locked."""
    today = at.astimezone(STOCKHOLM).date()
    policy = signing_policy(session, at=at)
    return [
        case_id
        for case_id, situation in ScopeFacts(session).situations(case_ids).items()
        if consent_move(
            current=situation.state,
            paused_by_hand=situation.state_reason == MoveReason.MANUAL.value,
            consent=effective_for(situation, at=at, today=today, policy=policy),
        )
        is not None
    ]


def sweep_case(session: Session, case_id: uuid.UUID, *, at: datetime) -> SweptCase | None:
    """Lock one case and move it if its consent at `at` calls for a move."""
    case = SystemCaseRepository(session).lock(case_id)
    if case is None:
        return None
    before = case.state
    move = cases.follow_consent(session, None, case, effective_now(session, case.id, at=at))
    if move is None:
        return None
    return SweptCase(case.id, case.reference, before, move.target, move.reason)


def consent_sweeper(engine: Engine, *, interval: float) -> Periodic:
    """The sweep every `interval` seconds on a background thread (`start` it, `stop` it)."""

    def one_round() -> bool:
        sweep(engine)
        return False  # nothing left over: the sweep looks at every case each round

    return Periodic("consent-sweep", interval, one_round)
