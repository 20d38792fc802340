"""The case lifecycle of DESIGN §2 as an explicit state machine. Pure: no database."""

from __future__ import annotations

from enum import StrEnum

from common.errors import InvalidTransition, ValidationFailed


class Programme(StrEnum):
    SSPF = "SSPF"
    SIG = "SIG"


class CaseState(StrEnum):
    REFERRED = "referred"
    CONSENT_PENDING = "consent_pending"
    ACTIVE = "active"
    PAUSED = "paused"
    DECLINED = "declined"
    CLOSED = "closed"


class Outcome(StrEnum):
    GOALS_MET = "goals_met"
    CONSENT_WITHDRAWN = "consent_withdrawn"
    MOVED = "moved"
    AGE_LIMIT = "age_limit"
    TRANSFERRED = "transferred"
    OTHER = "other"


STATE_LABELS = {
    CaseState.REFERRED: "Aktualiserat",
    CaseState.CONSENT_PENDING: "Inväntar samtycke",
    CaseState.ACTIVE: "Pågående",
    CaseState.PAUSED: "Pausat",
    CaseState.DECLINED: "Samtycke nekat",
    CaseState.CLOSED: "Avslutat",
}

OUTCOME_LABELS = {
    Outcome.GOALS_MET: "Målen uppnådda",
    Outcome.CONSENT_WITHDRAWN: "Samtycket återkallat",
    Outcome.MOVED: "Flyttat",
    Outcome.AGE_LIMIT: "Åldersgräns nådd",
    Outcome.TRANSFERRED: "Överlämnat till andra insatser",
    Outcome.OTHER: "Annat",
}

# A case may be closed from any open state (a young person can move away before consent is
# complete); closed is final. Every other move follows the diagram in DESIGN §2.
TRANSITIONS: dict[CaseState, frozenset[CaseState]] = {
    CaseState.REFERRED: frozenset(
        {CaseState.CONSENT_PENDING, CaseState.DECLINED, CaseState.CLOSED}
    ),
    CaseState.CONSENT_PENDING: frozenset({CaseState.ACTIVE, CaseState.DECLINED, CaseState.CLOSED}),
    CaseState.ACTIVE: frozenset({CaseState.PAUSED, CaseState.CLOSED}),
    CaseState.PAUSED: frozenset({CaseState.ACTIVE, CaseState.CLOSED}),
    CaseState.DECLINED: frozenset({CaseState.CLOSED}),
    CaseState.CLOSED: frozenset(),
}

OPEN_STATES = frozenset(state for state in CaseState if state is not CaseState.CLOSED)


def check_transition(current: CaseState, target: CaseState, outcome: Outcome | None) -> None:
    """Raise unless `current → target` is allowed.

    Closing needs an outcome; no other move takes one.
    """
    if target not in TRANSITIONS[current]:
        raise InvalidTransition(
            f"Ett ärende kan inte gå från {STATE_LABELS[current].lower()} "
            f"till {STATE_LABELS[target].lower()}."
        )
    if target is CaseState.CLOSED and outcome is None:
        raise ValidationFailed.one("outcome", "Ange utfall när ärendet avslutas.")
    if target is not CaseState.CLOSED and outcome is not None:
        raise ValidationFailed.one("outcome", "Utfall anges bara när ärendet avslutas.")
