"""Swedish words for the audit log's codes, shown to the auditor (domain/auditing/labels.py)."""

from __future__ import annotations

from domain.auditing.labels import (
    ACTION_LABELS,
    BASIS_LABELS,
    action_label,
    basis_label,
    outcome_label,
    route_label,
)

__all__ = [
    "ACTION_LABELS",
    "BASIS_LABELS",
    "action_label",
    "basis_label",
    "outcome_label",
    "route_label",
]
