"""Marks that let a statement past the statement guard (`common.guard`), and nothing else.

Repositories built on `domain.scoping.ScopedRepository` mark what they read with `scoped`;
system repositories (the consent sweep) with `system`; the few deliberate reads that show no
case data (computing the scope itself, a uniqueness check, the auditor's id lookups) with
`unscoped(..., reason)`. Any other read of a gated table raises `UnscopedRead` before it
reaches the database.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy.sql.base import Executable

from common.guard import SCOPED, SYSTEM, UNSCOPED_BECAUSE, UnscopedRead

__all__ = ["UnscopedRead", "exemption", "scoped", "system", "unscoped"]

S = TypeVar("S", bound=Executable)


def scoped(statement: S) -> S:
    """Mark a statement whose where-clause the actor's CaseScope built."""
    return statement.execution_options(**{SCOPED: True})


def system(statement: S, because: str) -> S:
    """Mark a read by a system job acting by rule, with no person behind it."""
    return statement.execution_options(**{SYSTEM: because})


def unscoped(statement: S, because: str) -> S:
    """Mark a deliberate read without a scope; `because` says why it shows no case data."""
    return statement.execution_options(**{UNSCOPED_BECAUSE: because})


def exemption(because: str) -> dict[str, str]:
    """Execution options for `Session.get` reads without a scope."""
    return {UNSCOPED_BECAUSE: because}
