"""The case lifecycle state machine (DESIGN §2)."""

from __future__ import annotations

from itertools import product

import pytest

from common.errors import InvalidTransition, ValidationFailed
from domain.cases.rules import (
    OPEN_STATES,
    STATE_LABELS,
    TRANSITIONS,
    CaseState,
    Outcome,
    check_transition,
    manual_moves,
    next_step,
    transition_label,
)

# In the enum's order, never a frozenset's: xdist workers must collect the same ids in the same
# order, and each worker has its own string hash seed.
ALLOWED = [
    (current, target)
    for current in CaseState
    for target in CaseState
    if target in TRANSITIONS[current]
]
REFUSED = [
    (current, target)
    for current, target in product(CaseState, CaseState)
    if target not in TRANSITIONS[current]
]

# The edges drawn in DESIGN §2.
DIAGRAM_EDGES = [
    (CaseState.REFERRED, CaseState.CONSENT_PENDING),
    (CaseState.REFERRED, CaseState.DECLINED),
    (CaseState.CONSENT_PENDING, CaseState.ACTIVE),
    (CaseState.CONSENT_PENDING, CaseState.DECLINED),
    (CaseState.ACTIVE, CaseState.PAUSED),
    (CaseState.PAUSED, CaseState.ACTIVE),
    (CaseState.PAUSED, CaseState.CLOSED),
    (CaseState.DECLINED, CaseState.CLOSED),
    (CaseState.ACTIVE, CaseState.CLOSED),
]


def outcome_for(target: CaseState) -> Outcome | None:
    return Outcome.GOALS_MET if target is CaseState.CLOSED else None


class TestTransitionTable:
    def test_every_state_has_an_entry(self) -> None:
        assert set(TRANSITIONS) == set(CaseState)

    def test_every_state_has_a_label(self) -> None:
        assert set(STATE_LABELS) == set(CaseState)

    def test_allowed_moves_are_the_diagram_plus_closing_from_any_open_state(self) -> None:
        closing = {(state, CaseState.CLOSED) for state in OPEN_STATES}

        assert set(ALLOWED) == set(DIAGRAM_EDGES) | closing
        assert len(ALLOWED) + len(REFUSED) == len(CaseState) ** 2

    def test_no_state_moves_to_itself(self) -> None:
        assert all(state not in TRANSITIONS[state] for state in CaseState)

    def test_closed_is_terminal(self) -> None:
        assert TRANSITIONS[CaseState.CLOSED] == frozenset()

    def test_every_open_state_can_be_closed(self) -> None:
        assert frozenset(CaseState) - {CaseState.CLOSED} == OPEN_STATES
        assert all(CaseState.CLOSED in TRANSITIONS[state] for state in OPEN_STATES)


class TestAllowedTransitions:
    @pytest.mark.parametrize(("current", "target"), ALLOWED)
    def test_allowed_transition_passes(self, current: CaseState, target: CaseState) -> None:
        check_transition(current, target, outcome_for(target))

    @pytest.mark.parametrize(("current", "target"), DIAGRAM_EDGES)
    def test_diagram_edge_is_allowed(self, current: CaseState, target: CaseState) -> None:
        assert target in TRANSITIONS[current]
        check_transition(current, target, outcome_for(target))

    @pytest.mark.parametrize(("current", "outcome"), list(product(sorted(OPEN_STATES), Outcome)))
    def test_closing_accepts_every_outcome(self, current: CaseState, outcome: Outcome) -> None:
        check_transition(current, CaseState.CLOSED, outcome)


class TestRefusedTransitions:
    @pytest.mark.parametrize(("current", "target"), REFUSED)
    def test_pair_not_in_the_table_is_refused(self, current: CaseState, target: CaseState) -> None:
        with pytest.raises(InvalidTransition) as raised:
            check_transition(current, target, outcome_for(target))

        assert raised.value.status_code == 409
        assert STATE_LABELS[current].lower() in raised.value.detail
        assert STATE_LABELS[target].lower() in raised.value.detail

    @pytest.mark.parametrize(("current", "target"), REFUSED)
    @pytest.mark.parametrize("outcome", [None, Outcome.OTHER])
    def test_refused_whatever_the_outcome(
        self, current: CaseState, target: CaseState, outcome: Outcome | None
    ) -> None:
        with pytest.raises(InvalidTransition):
            check_transition(current, target, outcome)

    @pytest.mark.parametrize("target", list(CaseState))
    def test_nothing_leaves_closed(self, target: CaseState) -> None:
        with pytest.raises(InvalidTransition):
            check_transition(CaseState.CLOSED, target, outcome_for(target))

    @pytest.mark.parametrize(
        ("current", "target"),
        [
            (CaseState.CLOSED, CaseState.ACTIVE),
            (CaseState.ACTIVE, CaseState.REFERRED),
            (CaseState.DECLINED, CaseState.ACTIVE),
            (CaseState.ACTIVE, CaseState.CONSENT_PENDING),
            (CaseState.PAUSED, CaseState.DECLINED),
            (CaseState.REFERRED, CaseState.ACTIVE),
        ],
    )
    def test_moves_against_the_diagram_are_refused(
        self, current: CaseState, target: CaseState
    ) -> None:
        with pytest.raises(InvalidTransition):
            check_transition(current, target, None)


class TestOutcome:
    @pytest.mark.parametrize("current", sorted(OPEN_STATES))
    def test_closing_without_outcome_names_the_outcome_field(self, current: CaseState) -> None:
        with pytest.raises(ValidationFailed) as raised:
            check_transition(current, CaseState.CLOSED, None)

        assert [error.field for error in raised.value.errors] == ["outcome"]
        assert raised.value.status_code == 422

    @pytest.mark.parametrize(
        ("current", "target"),
        [(current, target) for current, target in ALLOWED if target is not CaseState.CLOSED],
    )
    def test_outcome_on_a_move_that_does_not_close_is_refused(
        self, current: CaseState, target: CaseState
    ) -> None:
        with pytest.raises(ValidationFailed) as raised:
            check_transition(current, target, Outcome.GOALS_MET)

        assert [error.field for error in raised.value.errors] == ["outcome"]


class TestManualMoves:
    """What the case page offers and how the buttons read (issue 15, item 4)."""

    def test_pending_with_complete_consent_says_the_case_becomes_active(self) -> None:
        label = transition_label(
            CaseState.REFERRED, CaseState.CONSENT_PENDING, consent_complete=True
        )
        assert "pågående" in label
        assert "inväntar samtycke" not in label

    def test_pending_without_complete_consent_says_pending(self) -> None:
        label = transition_label(
            CaseState.REFERRED, CaseState.CONSENT_PENDING, consent_complete=False
        )
        assert label == "Ändra till: inväntar samtycke"

    @pytest.mark.parametrize("current", [CaseState.CONSENT_PENDING, CaseState.PAUSED])
    def test_active_is_offered_only_with_complete_consent(self, current: CaseState) -> None:
        without = [target for target, _ in manual_moves(current, consent_complete=False)]
        with_consent = [target for target, _ in manual_moves(current, consent_complete=True)]
        assert CaseState.ACTIVE not in without
        assert CaseState.ACTIVE in with_consent

    @pytest.mark.parametrize("current", list(CaseState))
    def test_moves_offered_are_allowed_ones_in_lifecycle_order(self, current: CaseState) -> None:
        offered = [target for target, _ in manual_moves(current, consent_complete=True)]
        assert offered == [state for state in CaseState if state in TRANSITIONS[current]]

    @pytest.mark.parametrize(
        ("state", "complete", "says"),
        [
            (CaseState.REFERRED, False, "registrerar ett samtycke"),
            (CaseState.CONSENT_PENDING, False, "av sig självt"),
            (CaseState.PAUSED, False, "återupptas"),
        ],
    )
    def test_next_step_tells_what_to_do(self, state: CaseState, complete: bool, says: str) -> None:
        step = next_step(state, consent_complete=complete)
        assert step is not None
        assert says in step

    @pytest.mark.parametrize("state", [CaseState.ACTIVE, CaseState.CLOSED, CaseState.DECLINED])
    def test_no_next_step_where_nothing_waits(self, state: CaseState) -> None:
        assert next_step(state, consent_complete=True) is None
