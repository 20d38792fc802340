"""The runtime guard: an ORM read of a consent-gated table must say how it is scoped.

Repositories that apply a `CaseScope` mark their statements with `scoped(...)`; the few
reads that are not about showing case data (computing the scope itself, a uniqueness check,
the auditor's id lookups) carry `unscoped(..., reason)`. Any other SELECT that touches a
gated table raises `UnscopedRead` before it reaches the database, so a query written outside
the access policy fails loudly in the first test that runs it.
"""

from __future__ import annotations

from typing import TypeVar

from sqlalchemy import Table, event
from sqlalchemy.orm import ORMExecuteState, Session
from sqlalchemy.sql import visitors
from sqlalchemy.sql.base import Executable

GATED_TABLES = frozenset(
    {
        "case_file",
        "case_state_change",
        "young_person",
        "guardian",
        "team_member",
        "consent_record",
        "consent_withdrawal",
        "break_glass_grant",
    }
)
SCOPED = "samsyn_scoped"
UNSCOPED_BECAUSE = "samsyn_unscoped_because"

S = TypeVar("S", bound=Executable)


class UnscopedRead(RuntimeError):
    """A read of consent-gated data that did not go through the access policy."""


def scoped(statement: S) -> S:
    """Mark a statement that applies the actor's CaseScope (or follows a row loaded with one)."""
    return statement.execution_options(**{SCOPED: True})


def unscoped(statement: S, because: str) -> S:
    """Mark a deliberate read without a scope; `because` says why it shows no case data."""
    return statement.execution_options(**{UNSCOPED_BECAUSE: because})


def exemption(because: str) -> dict[str, str]:
    """Execution options for `Session.get` reads without a scope."""
    return {UNSCOPED_BECAUSE: because}


@event.listens_for(Session, "do_orm_execute")
def _refuse_unscoped_reads(state: ORMExecuteState) -> None:
    # A column load refreshes an object already in the session (after a commit or rollback
    # expired it): that row was checked when it was first loaded.
    if not state.is_select or state.is_column_load:
        return
    options = state.execution_options
    if options.get(SCOPED) or options.get(UNSCOPED_BECAUSE):
        return
    statement = state.statement
    if not isinstance(statement, visitors.ExternallyTraversible):
        return
    touched = {el.name for el in visitors.iterate(statement) if isinstance(el, Table)}
    gated = touched & GATED_TABLES
    if gated:
        raise UnscopedRead(
            f"unscoped read of {', '.join(sorted(gated))}: go through a repository "
            "built with the actor's CaseScope"
        )
