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


def transition_label(current: CaseState, target: CaseState, *, consent_complete: bool) -> str:
    """What a button moving `current → target` by hand says: what will happen, including a
    move the consent rules make right after it (a case whose consent is already complete does
    not stop at "inväntar samtycke" but becomes active at once, `follow_consent`)."""
    if target is CaseState.CONSENT_PENDING and consent_complete:
        return "Starta ärendet: samtycket är redan komplett, ärendet blir pågående"
    if target is CaseState.ACTIVE and current is CaseState.PAUSED:
        return "Återuppta ärendet (blir pågående)"
    if target is CaseState.PAUSED:
        return "Pausa ärendet"
    if target is CaseState.CLOSED:
        return "Avsluta ärendet"
    return f"Ändra till: {STATE_LABELS[target].lower()}"


def next_step(state: CaseState, *, consent_complete: bool) -> str | None:
    """What the owner of a case in `state` should do next, in plain words, or None."""
    if state is CaseState.REFERRED:
        return (
            "Nästa steg är att hämta in samtycke. När du registrerar ett samtycke går ärendet "
            "till ”Inväntar samtycke”, och till ”Pågående” så snart alla som ska skriva under "
            "har gett samtycke."
        )
    if state is CaseState.CONSENT_PENDING and not consent_complete:
        return (
            "Ärendet blir pågående av sig självt när alla som ska skriva under har gett "
            "samtycke. Registrera samtyckena under Samtycken."
        )
    if state is CaseState.PAUSED and not consent_complete:
        return (
            "Ärendet kan återupptas när samtycket är komplett igen. Se vad som saknas under "
            "Samtycken."
        )
    return None


def manual_moves(current: CaseState, *, consent_complete: bool) -> list[tuple[CaseState, str]]:
    """The moves to offer as buttons, each with its label, in the lifecycle's order. Making a
    case active needs complete consent, so without it that move is not offered (`next_step`
    says what to do instead)."""
    return [
        (target, transition_label(current, target, consent_complete=consent_complete))
        for target in CaseState
        if target in TRANSITIONS[current] and (target is not CaseState.ACTIVE or consent_complete)
    ]
