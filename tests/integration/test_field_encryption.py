"""Encrypted columns bind each value to its row: every read opens it, copies open nowhere."""

from __future__ import annotations

import base64
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import text, update
from sqlalchemy.exc import StatementError
from sqlalchemy.orm import aliased
from sqlmodel import Session, select

from common.actor import Actor
from common.crypto import KeyMaterialError
from common.db import seal
from common.keys import KeySet
from consent.guard import exemption, unscoped
from domain.cases.models import Case
from domain.people import service as people
from domain.people.models import Guardian, YoungPerson
from tests.builders import make_actor, make_case, make_young_person

BECAUSE = "test: reads the stored rows"


def db_id(session: Session, row_id: uuid.UUID) -> str | uuid.UUID:
    """A row id as the driver compares it (SQLite stores UUIDs as 32 hex digits)."""
    return row_id.hex if session.get_bind().dialect.name == "sqlite" else row_id


def stored(session: Session, table: str, column_name: str, row_id: uuid.UUID) -> str:
    """The value as it is in the database, without the type that opens it."""
    statement = text(f"SELECT {column_name} FROM {table} WHERE id = :id")
    found = session.execute(unscoped(statement, BECAUSE), {"id": db_id(session, row_id)})
    return str(found.scalar_one())


def write_raw(
    session: Session, table: str, column_name: str, row_id: uuid.UUID, value: str
) -> None:
    """Change a stored value behind the application's back, as a database administrator can."""
    statement = text(f"UPDATE {table} SET {column_name} = :value WHERE id = :id")
    written = session.execute(statement, {"value": value, "id": db_id(session, row_id)})
    assert written.rowcount == 1  # type: ignore[attr-defined]


def v1_value(keys: KeySet, plaintext: str, *, context: str) -> str:
    """A value as written before v2 (the column alone as associated data)."""
    key_id = keys.field.active_id
    nonce = uuid.uuid4().bytes[:12]
    sealed = AESGCM(keys.field.keys[key_id]).encrypt(nonce, plaintext.encode(), context.encode())
    return f"v1.{key_id}.{base64.urlsafe_b64encode(nonce + sealed).rstrip(b'=').decode()}"


@pytest.fixture
def actor(session: Session) -> Actor:
    return make_actor(session)


def two_people(session: Session, actor: Actor, keys: KeySet) -> tuple[YoungPerson, YoungPerson]:
    first = make_young_person(session, actor, keys, first_name="Alfa", last_name="Förstasson")
    second = make_young_person(session, actor, keys, first_name="Beta", last_name="Andrasson")
    session.commit()
    return first, second


class TestCopiedCiphertext:
    @pytest.mark.parametrize(
        "column_name", ["first_name", "last_name", "personnummer", "address", "home_area"]
    )
    def test_value_copied_into_another_row_does_not_open_there(
        self, session: Session, actor: Actor, keys: KeySet, column_name: str
    ) -> None:
        first, second = two_people(session, actor, keys)
        copied = stored(session, "young_person", column_name, first.id)
        write_raw(session, "young_person", column_name, second.id, copied)
        session.commit()
        session.expunge_all()

        with pytest.raises(
            KeyMaterialError, match=f"young_person.{column_name} of row {second.id}"
        ):
            people.get_young_person(session, actor, young_person_id=second.id)
        session.rollback()
        # the row it was written for still opens it
        view = people.get_young_person(session, actor, young_person_id=first.id)
        assert view.person.first_name == "Alfa"

    def test_guardian_value_copied_to_another_guardian_does_not_open(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, second = two_people(session, actor, keys)
        guardians = session.exec(
            unscoped(select(Guardian).order_by(Guardian.young_person_id), BECAUSE)  # type: ignore[arg-type]
        ).all()
        source = next(g for g in guardians if g.young_person_id == first.id)
        target = next(g for g in guardians if g.young_person_id == second.id)
        write_raw(
            session, "guardian", "name", target.id, stored(session, "guardian", "name", source.id)
        )
        session.commit()
        session.expunge_all()

        with pytest.raises(KeyMaterialError, match=f"guardian.name of row {target.id}"):
            people.get_young_person(session, actor, young_person_id=second.id)

    def test_value_moved_to_another_column_of_the_same_row_does_not_open(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        write_raw(
            session,
            "young_person",
            "last_name",
            first.id,
            stored(session, "young_person", "first_name", first.id),
        )
        session.commit()
        session.expunge_all()

        with pytest.raises(KeyMaterialError, match=r"young_person\.last_name"):
            people.get_young_person(session, actor, young_person_id=first.id)


class TestReadPaths:
    """Every way a row or a column is read gives the plaintext of that row."""

    def test_joined_entities_open_with_their_own_rows(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        for first_name in ("Alfa", "Beta", "Gamma"):
            person = make_young_person(session, actor, keys, first_name=first_name)
            make_case(session, actor, keys, young_person=person)
        session.commit()
        session.expunge_all()

        statement = select(Case, YoungPerson).join(
            YoungPerson,
            Case.young_person_id == YoungPerson.id,  # type: ignore[arg-type]
        )
        rows = session.exec(unscoped(statement, BECAUSE)).all()

        assert sorted(person.first_name for _, person in rows) == ["Alfa", "Beta", "Gamma"]
        assert all(case.young_person_id == person.id for case, person in rows)

    def test_aliased_entity_and_bare_columns_open(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, second = two_people(session, actor, keys)
        session.expunge_all()
        alias = aliased(YoungPerson)

        by_alias = session.exec(unscoped(select(alias).order_by(alias.last_name), BECAUSE)).all()
        columns = session.exec(
            unscoped(select(YoungPerson.id, YoungPerson.first_name, YoungPerson.home_area), BECAUSE)
        ).all()
        labelled = session.exec(
            unscoped(select(YoungPerson.__table__.c.first_name.label("namn")), BECAUSE)  # type: ignore[attr-defined]
        ).all()

        assert sorted(p.first_name for p in by_alias) == ["Alfa", "Beta"]
        assert sorted((str(i), n, a) for i, n, a in columns) == sorted(
            [(str(first.id), "Alfa", "Norra Demo"), (str(second.id), "Beta", "Norra Demo")]
        )
        assert sorted(labelled) == ["Alfa", "Beta"]

    def test_expired_and_refreshed_attributes_open(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        session.expire(first, ["first_name", "home_area"])

        assert first.first_name == "Alfa"  # a column load of the expired attributes
        assert first.home_area == "Norra Demo"

        first.last_name = "Ändrad"
        session.refresh(first)
        assert first.last_name == "Förstasson"

        again = session.exec(
            unscoped(
                select(YoungPerson).where(YoungPerson.id == first.id), BECAUSE
            ).execution_options(populate_existing=True)
        ).one()
        assert again is first
        assert first.first_name == "Alfa"

    def test_reads_that_cannot_name_the_row_are_refused(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        two_people(session, actor, keys)
        typed = text("SELECT first_name FROM young_person").columns(YoungPerson.first_name)  # type: ignore[arg-type]
        with pytest.raises(KeyMaterialError, match="without its row id"):
            session.execute(unscoped(typed, BECAUSE)).all()

        inner = select(YoungPerson.first_name).subquery()  # no row id in it
        with pytest.raises(KeyMaterialError, match="read only with its row id"):
            session.execute(unscoped(select(inner.c.first_name), BECAUSE)).all()

    def test_values_written_before_row_binding_still_open(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        legacy = v1_value(keys, "Äldre", context="young_person.first_name")
        write_raw(session, "young_person", "first_name", first.id, legacy)
        session.commit()
        session.expunge_all()

        view = people.get_young_person(session, actor, young_person_id=first.id)
        assert view.person.first_name == "Äldre"

    def test_a_value_marked_as_still_in_clear_is_refused(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        write_raw(session, "young_person", "home_area", first.id, "v0.Södra Demo")
        session.commit()
        session.expunge_all()

        with pytest.raises(KeyMaterialError, match="still in clear"):
            people.get_young_person(session, actor, young_person_id=first.id)


class TestWritePaths:
    def test_orm_writes_v2_bound_to_the_row_and_leaves_plain_text_in_the_object(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)

        for column_name in ("first_name", "last_name", "personnummer", "address", "home_area"):
            value = stored(session, "young_person", column_name, first.id)
            assert value.startswith("v2.test1."), column_name
            opened = keys.field.decrypt(
                value, context=f"young_person.{column_name}", row_id=first.id
            )
            assert opened == getattr(first, column_name)
        assert "Norra Demo" not in stored(session, "young_person", "home_area", first.id)
        assert type(first.first_name) is str

    def test_an_update_seals_the_changed_value_only(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        last_name_before = stored(session, "young_person", "last_name", first.id)
        first.home_area = "Södra Demo"
        session.add(first)
        session.commit()
        session.expunge_all()

        assert stored(session, "young_person", "last_name", first.id) == last_name_before
        assert get_person(session, first.id).home_area == "Södra Demo"

    def test_core_writes_and_comparisons_of_plain_text_are_refused(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        statements = [
            update(YoungPerson).where(YoungPerson.id == first.id).values(first_name="Klartext"),  # type: ignore[arg-type]
            update(YoungPerson)
            .where(YoungPerson.id == first.id)  # type: ignore[arg-type]
            .values(last_name=seal("young_person.first_name", first.id, "Fel kolumn")),
            unscoped(select(YoungPerson).where(YoungPerson.first_name == "Alfa"), BECAUSE),
        ]
        for statement in statements:
            with pytest.raises(StatementError, match="written only sealed for its row"):
                session.execute(statement)
            session.rollback()
        assert stored(session, "young_person", "first_name", first.id).startswith("v2.")

    def test_core_write_of_a_sealed_value_reads_back(
        self, session: Session, actor: Actor, keys: KeySet
    ) -> None:
        first, _ = two_people(session, actor, keys)
        session.execute(
            update(YoungPerson)
            .where(YoungPerson.id == first.id)  # type: ignore[arg-type]
            .values(first_name=seal("young_person.first_name", first.id, "Förseglad"))
        )
        session.commit()
        session.expunge_all()

        assert get_person(session, first.id).first_name == "Förseglad"


def get_person(session: Session, row_id: uuid.UUID) -> YoungPerson:
    found = session.get(YoungPerson, row_id, execution_options=exemption(BECAUSE))
    assert found is not None
    return found
