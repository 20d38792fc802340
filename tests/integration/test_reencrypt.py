"""`samsyn keys reencrypt`: every value v2 under the active key, in batches, nothing lost."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session, select

from audit.models import AUDIT_TABLES
from common.crypto import FieldKeyRing, KeyMaterialError, install_field_keyring
from common.db import new_session, seal
from common.keys import KeySet
from consent.guard import exemption, unscoped
from deploy import migrate
from domain.encryption import reencrypt as reencrypt_module
from domain.encryption.reencrypt import marked_plaintext_count, reencrypt
from domain.encryption.repository import SystemFieldValueRepository, encrypted_columns
from domain.people.models import Guardian, YoungPerson
from domain.users.models import User
from tests.builders import make_actor, make_young_person
from tests.integration.test_field_encryption import stored, v1_value, write_raw

BECAUSE = "test: reads the stored rows"
NEW_KEY = bytes(range(7, 39))


def all_stored(session: Session) -> dict[tuple[str, str], str]:
    """(table.column, row id) -> stored value, for every non-empty encrypted value."""
    found: dict[tuple[str, str], str] = {}
    for target in encrypted_columns():
        table, column = target.table.name, target.column.name
        statement = text(f"SELECT id, {column} FROM {table} WHERE {column} IS NOT NULL")
        for row_id, value in session.execute(unscoped(statement, BECAUSE)):
            found[(f"{table}.{column}", str(uuid.UUID(str(row_id))))] = value
    return found


def audit_rows(session: Session) -> dict[str, list[tuple[Any, ...]]]:
    return {
        table: sorted(
            (tuple(map(str, row)) for row in session.execute(text(f"SELECT * FROM {table}"))),
        )
        for table in (*AUDIT_TABLES, "audit_pending")
    }


def plaintexts(session: Session) -> list[tuple[str, ...]]:
    """What the application reads: every encrypted field of people, guardians and users."""
    session.expunge_all()
    people = session.exec(unscoped(select(YoungPerson), BECAUSE)).all()
    guardians = session.exec(unscoped(select(Guardian), BECAUSE)).all()
    users = session.exec(select(User)).all()
    return sorted(
        [(str(p.id), p.personnummer, p.first_name, p.last_name, p.home_area or "") for p in people]
        + [(str(g.id), g.name, g.phone or "") for g in guardians]
        + [(str(u.id), u.totp_secret or "") for u in users]
    )


def rotate(keys: KeySet) -> FieldKeyRing:
    rotated = FieldKeyRing(keys={**keys.field.keys, "test2": NEW_KEY}, active_id="test2")
    install_field_keyring(rotated)
    return rotated


@pytest.fixture
def populated(session: Session, keys: KeySet) -> list[uuid.UUID]:
    """Five people under key test1 (their ids); the first's name still v1, the second's home
    area still marked plaintext; their actor's TOTP secret."""
    actor = make_actor(session)
    people = [
        make_young_person(session, actor, keys, first_name=f"Namn{n}", last_name=f"Efter{n}")
        for n in range(5)
    ]
    user = session.get(User, actor.user_id)
    assert user is not None
    user.totp_secret = "JBSWY3DPEHPK3PXP"
    session.add(user)
    session.commit()
    write_raw(
        session,
        "young_person",
        "first_name",
        people[0].id,
        v1_value(keys, "Gammalformat", context="young_person.first_name"),
    )
    write_raw(session, "young_person", "home_area", people[1].id, "v0.Södra Demo")
    session.commit()
    return [person.id for person in people]


class TestReencrypt:
    def test_after_rotation_every_value_moves_to_the_new_key_and_the_old_key_can_go(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        before = all_stored(session)
        audit_before = audit_rows(session)
        assert {v[:3] for v in before.values()} == {"v1.", "v2.", "v0."}
        rotate(keys)
        report = reencrypt(engine, batch_size=2)  # several batches per column

        after = all_stored(session)
        assert set(after) == set(before)
        assert all(value.startswith("v2.test2.") for value in after.values())
        assert report.complete
        rewritten = {c.context: c.rewritten for c in report.columns}
        for context in {key[0] for key in before}:
            assert rewritten[context] == sum(1 for key in before if key[0] == context)
        assert audit_rows(session) == audit_before

        install_field_keyring(FieldKeyRing(keys={"test2": NEW_KEY}, active_id="test2"))
        read = plaintexts(session)
        flat = {value for row in read for value in row}
        assert {"Gammalformat", "Södra Demo", "Namn4", "JBSWY3DPEHPK3PXP"} <= flat

    def test_a_second_run_has_nothing_to_do(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        rotate(keys)
        reencrypt(engine)
        moved = all_stored(session)

        again = reencrypt(engine, batch_size=3)

        assert again.complete
        assert sum(c.rewritten + c.raced for c in again.columns) == 0
        assert all_stored(session) == moved

    def test_without_a_rotation_only_old_formats_are_rewritten(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        before = all_stored(session)

        report = reencrypt(engine)

        after = all_stored(session)
        changed = {key for key in before if before[key] != after[key]}
        assert {before[key][:3] for key in changed} == {"v1.", "v0."}
        assert sum(c.rewritten for c in report.columns) == len(changed) == 2

    def test_a_run_that_stops_half_way_keeps_whole_batches_and_the_next_run_finishes(
        self,
        session: Session,
        engine: Engine,
        keys: KeySet,
        populated: list[uuid.UUID],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        reencrypt(engine, only_marked_plaintext=True)  # so that everything reads before
        original = plaintexts(session)
        rotate(keys)
        calls = 0

        def seal_then_fail(context: str, row_id: uuid.UUID, plaintext: str) -> Any:
            nonlocal calls
            calls += 1
            if calls == 4:  # the second value of the second batch
                raise RuntimeError("stopped")
            return seal(context, row_id, plaintext)

        first_names = [c for c in encrypted_columns() if c.context == "young_person.first_name"]
        monkeypatch.setattr(reencrypt_module, "encrypted_columns", lambda: iter(first_names))
        monkeypatch.setattr(reencrypt_module, "seal", seal_then_fail)
        with pytest.raises(RuntimeError, match="stopped"):
            reencrypt(engine, batch_size=2)
        monkeypatch.undo()

        halfway = all_stored(session)
        moved = [key for key, value in halfway.items() if value.startswith("v2.test2.")]
        # the first batch whole; of the second, whose transaction failed, nothing
        assert len(moved) == 2
        assert {context for context, _ in moved} == {"young_person.first_name"}

        report = reencrypt(engine, batch_size=2)
        assert report.complete
        assert sum(c.rewritten for c in report.columns) == len(halfway) - 2
        assert plaintexts(session) == original

    def test_a_value_that_does_not_open_is_reported_by_row_and_left_alone(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        first, second = populated[2:4]
        copied = stored(session, "young_person", "last_name", first)
        write_raw(session, "young_person", "last_name", second, copied)
        session.commit()
        rotate(keys)

        report = reencrypt(engine)

        by_context = {c.context: c for c in report.columns}
        assert by_context["young_person.last_name"].unreadable == [second]
        assert by_context["young_person.last_name"].remaining == 1
        assert not report.complete
        assert stored(session, "young_person", "last_name", second) == copied

    def test_a_value_changed_since_it_was_read_is_not_overwritten(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        person = session.get(YoungPerson, populated[2], execution_options=exemption(BECAUSE))
        assert person is not None
        target = next(c for c in encrypted_columns() if c.context == "young_person.last_name")
        read = stored(session, "young_person", "last_name", person.id)
        person.last_name = "Ändrad under tiden"
        session.add(person)
        session.commit()
        now = stored(session, "young_person", "last_name", person.id)

        with new_session(engine) as other:
            values = SystemFieldValueRepository(other, target)
            late = seal("young_person.last_name", person.id, "Gammalt värde")
            assert not values.replace(person.id, stored=read, sealed=late)
            other.commit()

        assert stored(session, "young_person", "last_name", person.id) == now


class TestHomeAreaMigration:
    """0011 finds home areas in clear: it marks them, and reencrypt encrypts them for the row."""

    def test_plaintext_home_areas_are_marked_refused_then_encrypted(
        self, session: Session, engine: Engine, keys: KeySet, database_url: str
    ) -> None:
        actor = make_actor(session)
        person_id = make_young_person(session, actor, keys).id
        session.commit()
        revisions = migrate.revisions()
        below = revisions[revisions.index("0011") - 1]
        engine.dispose()

        migrate.downgrade(database_url, below)  # with the key ring: values back in clear
        assert stored(session, "young_person", "home_area", person_id) == "Norra Demo"
        session.rollback()
        engine.dispose()
        migrate.upgrade(database_url)

        assert stored(session, "young_person", "home_area", person_id) == "v0.Norra Demo"
        session.expunge_all()
        with pytest.raises(KeyMaterialError, match="still in clear"):
            session.exec(unscoped(select(YoungPerson), BECAUSE)).all()
        session.rollback()
        assert marked_plaintext_count(engine) == 1

        report = reencrypt(engine, only_marked_plaintext=True)

        assert report.complete
        assert [c.context for c in report.columns] == ["young_person.home_area"]
        assert marked_plaintext_count(engine) == 0
        value = stored(session, "young_person", "home_area", person_id)
        assert value.startswith("v2.test1.")
        assert "Norra" not in value
        session.expunge_all()
        assert session.exec(unscoped(select(YoungPerson), BECAUSE)).one().home_area == "Norra Demo"

    def test_the_mark_is_honoured_only_where_a_migration_put_it(
        self, session: Session, engine: Engine, keys: KeySet, populated: list[uuid.UUID]
    ) -> None:
        person = populated[3]
        write_raw(session, "young_person", "last_name", person, "v0.Injicerad")
        session.commit()

        report = reencrypt(engine)

        by_context = {c.context: c for c in report.columns}
        assert by_context["young_person.last_name"].unreadable == [person]
        assert stored(session, "young_person", "last_name", person) == "v0.Injicerad"
