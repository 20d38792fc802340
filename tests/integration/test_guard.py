"""The statement guard refuses every read of consent-gated tables that did not pass the scope,
whatever built the statement; and every table that refers to a case or young person says
whether it is gated."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import column, func, table, text, update
from sqlalchemy import select as core_select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import make_transient_to_detached
from sqlmodel import Session, col, select

from common.db import metadata, new_session
from common.guard import ACCESS, GATED, NOT_GATED
from common.keys import KeySet
from consent.guard import UnscopedRead, scoped, system, unscoped
from consent.models import ConsentRecord
from domain.access import case_scope
from domain.agencies.models import Agency
from domain.cases.models import Case
from domain.cases.repository import CaseRepository
from domain.people.models import Guardian, YoungPerson
from tests.builders import make_actor, make_case

# Every way of reading a gated table without the scope that an attack found working.
UNMARKED_READS: dict[str, Callable[[Session], Any]] = {
    "orm entity": lambda s: s.exec(select(Case)).all(),
    "orm column": lambda s: s.exec(select(Case.reference)).all(),
    "orm count": lambda s: s.exec(select(func.count()).select_from(YoungPerson)).one(),
    "subquery": lambda s: s.exec(
        select(Agency.id).where(col(Agency.id).in_(select(Case.owner_agency_id)))
    ).all(),
    "guardian": lambda s: s.exec(select(Guardian.name)).all(),
    "consent": lambda s: s.exec(select(ConsentRecord)).all(),
    "text": lambda s: s.execute(text("SELECT * FROM case_file")).all(),
    "text quoted": lambda s: s.execute(text('SELECT * FROM "young_person"')).all(),
    "text lower-case join": lambda s: s.execute(
        text("select a.name from agency a join case_file c on c.owner_agency_id = a.id")
    ).all(),
    "core on the connection": lambda s: s.connection().execute(select(Case)).all(),
    "table() construct": lambda s: s.execute(
        core_select(table("young_person", column("first_name")))
    ).all(),
    "exec_driver_sql": lambda s: s.connection().exec_driver_sql("SELECT * FROM guardian").all(),
    "update returning": lambda s: s.execute(
        update(Case).values(updated_at=col(Case.updated_at)).returning(col(Case.reference))
    ).all(),
    "insert from select": lambda s: s.execute(
        text("INSERT INTO agency (id, name, kind) SELECT id, reference, 'other' FROM case_file")
    ),
    "session.get": lambda s: s.get(Case, uuid.uuid4()),
}


@pytest.mark.parametrize("read", list(UNMARKED_READS.values()), ids=list(UNMARKED_READS))
def test_an_unmarked_read_of_gated_data_is_refused(
    session: Session, keys: KeySet, read: Callable[[Session], Any]
) -> None:
    make_case(session, make_actor(session), keys)
    with pytest.raises(UnscopedRead):
        read(session)


def test_marked_reads_plain_writes_and_other_tables_pass(session: Session, keys: KeySet) -> None:
    case = make_case(session, make_actor(session), keys)
    assert session.exec(scoped(select(Case))).all()
    assert session.exec(unscoped(select(Case.id), "test")).all()
    assert session.exec(system(select(Case.id), "test")).all()
    assert session.execute(unscoped(text("SELECT id FROM case_file"), "test")).all()
    assert session.exec(select(Agency)).all()  # organisations are not case data
    session.execute(update(Case).where(col(Case.id) == case.id).values(updated_at=func.now()))


def test_an_expired_object_made_up_with_another_case_id_cannot_load(
    session: Session, engine: Engine, keys: KeySet
) -> None:
    other = make_case(session, make_actor(session), keys)
    session.commit()
    with new_session(engine) as attacker:
        forged = Case(id=other.id)  # type: ignore[call-arg]  # only the key is needed
        make_transient_to_detached(forged)
        attacker.add(forged)
        attacker.expire(forged)
        with pytest.raises(UnscopedRead):
            _ = forged.reference  # an expired-attribute load of a row nobody read here


def test_an_object_read_through_the_scope_can_be_refreshed(session: Session, keys: KeySet) -> None:
    actor = make_actor(session)
    case = make_case(session, actor, keys)
    session.commit()
    session.expunge_all()
    loaded = CaseRepository(session, case_scope(session, actor)).get(case.id)
    assert loaded is not None
    session.expire(loaded)
    assert loaded.reference == case.reference  # loaded under the scope: the refresh may run


def _refers_to_a_case_or_person(name: str) -> bool:
    tab = metadata.tables[name]
    gated = {n for n, t in metadata.tables.items() if t.info.get(ACCESS) == GATED}
    names = {c.name for c in tab.columns}
    return bool(
        names & {"case_id", "young_person_id"}
        or any(
            fk.column.table.name in gated | {"case_file", "young_person"} for fk in tab.foreign_keys
        )
    )


def test_every_table_that_refers_to_a_case_or_young_person_is_gated_or_says_why() -> None:
    undeclared = sorted(
        name
        for name in metadata.tables
        if _refers_to_a_case_or_person(name)
        and metadata.tables[name].info.get(ACCESS) not in {GATED, NOT_GATED}
    )
    assert undeclared == []
    for name in ("case_file", "young_person", "guardian", "team_member", "consent_record"):
        assert metadata.tables[name].info.get(ACCESS) == GATED


def test_the_declaration_test_catches_a_new_undeclared_table() -> None:
    from sqlalchemy import Column, ForeignKey, Table, Uuid

    probe = Table(
        "probe_note_for_guard_test",
        metadata,
        Column("id", Uuid, primary_key=True),
        Column("case_id", Uuid, ForeignKey("case_file.id")),
    )
    try:
        assert _refers_to_a_case_or_person(probe.name)
        assert probe.info.get(ACCESS) is None
    finally:
        metadata.remove(probe)
