from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlmodel import Session

from common.crypto import FieldKeyRing, install_field_keyring
from common.errors import NotFound, ValidationFailed
from common.keys import KeySet
from common.roles import AgencyKind, Role
from consent.guard import unscoped
from domain.people import service as people
from domain.people.service import GuardianInput, YoungPersonInput
from tests.builders import (
    make_actor,
    make_agency,
    make_case,
    make_young_person,
    valid_personnummer,
)


def _raw_rows(session: Session, table: str) -> list[str]:
    return [
        repr(tuple(row))
        for row in session.execute(
            unscoped(text(f"SELECT * FROM {table}"), "test: the stored rows")
        )
    ]


class TestRegisterYoungPerson:
    def test_personal_data_is_encrypted_at_rest_and_read_back(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        pnr = valid_personnummer()
        person = make_young_person(
            session,
            actor,
            keys,
            personnummer=pnr,
            first_name="Unikanamnet",
            last_name="Efternamnsson",
        )
        session.commit()

        raw = " ".join(_raw_rows(session, "young_person") + _raw_rows(session, "guardian"))
        for secret in (
            pnr.replace("-", ""),
            pnr,
            "Unikanamnet",
            "Efternamnsson",
            "Påhittade gatan",
            "070-000",
        ):
            assert secret not in raw
        assert "v2.test1." in raw

        view = people.get_young_person(session, actor, young_person_id=person.id)
        assert view.person.personnummer == pnr.replace("-", "")
        assert view.person.first_name == "Unikanamnet"
        assert [g.name for g in view.person.guardians or ()] == [
            "Vårdnadshavare 0 Efternamnsson",
            "Vårdnadshavare 1 Efternamnsson",
        ]

    def test_rows_written_under_an_old_key_are_read_after_rotation(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        old_person = make_young_person(session, actor, keys, first_name="Föregående")
        session.commit()
        rotated = FieldKeyRing(keys={**keys.field.keys, "test2": b"\x07" * 32}, active_id="test2")
        install_field_keyring(rotated)
        new_person = make_young_person(session, actor, keys, first_name="Efterföljande")
        session.commit()
        session.expunge_all()

        assert (
            people.get_young_person(session, actor, young_person_id=old_person.id).person.first_name
            == "Föregående"
        )
        assert (
            people.get_young_person(session, actor, young_person_id=new_person.id).person.first_name
            == "Efterföljande"
        )
        stored = {
            row[0]: row[1]
            for row in session.execute(
                unscoped(text("SELECT id, first_name FROM young_person"), "test: the stored rows")
            )
        }
        assert {FieldKeyRing.key_id_of(value) for value in stored.values()} == {"test1", "test2"}

    def test_found_by_blind_index_never_by_clear_personnummer(
        self, session: Session, keys: KeySet
    ) -> None:
        actor = make_actor(session)
        pnr = valid_personnummer()
        make_young_person(session, actor, keys, personnummer=pnr)
        session.commit()
        with pytest.raises(ValidationFailed) as caught:
            # the same person in the 10-digit form is the same blind-index value
            make_young_person(session, actor, keys, personnummer=pnr[2:])
        assert [e.field for e in caught.value.errors] == ["personnummer"]

    @pytest.mark.parametrize(
        ("personnummer", "message"),
        [
            ("20120304-1230", "Kontrollsiffran"),
            ("20120231-1234", "datum som inte finns"),
            ("abc", "siffror"),
        ],
    )
    def test_invalid_personnummer_is_refused_and_nothing_is_stored(
        self, session: Session, keys: KeySet, personnummer: str, message: str
    ) -> None:
        actor = make_actor(session)
        session.commit()
        before = _raw_rows(session, "young_person")
        with pytest.raises(ValidationFailed) as caught:
            make_young_person(session, actor, keys, personnummer=personnummer)
        session.rollback()
        errors = {e.field: e.message for e in caught.value.errors}
        assert message in errors["personnummer"]
        assert _raw_rows(session, "young_person") == before
        assert _raw_rows(session, "guardian") == []

    def test_every_bad_field_is_named_at_once(self, session: Session, keys: KeySet) -> None:
        actor = make_actor(session)
        data = YoungPersonInput(
            personnummer="",
            first_name=" ",
            last_name="x" * 101,
            gender="robot",
            school_agency_id="inte-ett-id",
            guardians=[
                GuardianInput(name="", has_custody=True, phone="abc", email="inte-en-adress")
            ],
        )
        with pytest.raises(ValidationFailed) as caught:
            people.register_young_person(session, actor, index=keys.blind_index, data=data)
        assert {e.field for e in caught.value.errors} == {
            "personnummer",
            "first_name",
            "last_name",
            "gender",
            "school_agency_id",
            "guardians.0.name",
            "guardians.0.phone",
            "guardians.0.email",
        }

    def test_school_must_be_a_school_agency(self, session: Session, keys: KeySet) -> None:
        actor = make_actor(session)
        police = make_agency(session, AgencyKind.POLICE)
        with pytest.raises(ValidationFailed) as caught:
            make_young_person(session, actor, keys, school_agency_id=police.id)
        assert [e.field for e in caught.value.errors] == ["school_agency_id"]


class TestReadYoungPerson:
    def test_social_worker_of_another_unit_gets_not_found(
        self, session: Session, keys: KeySet
    ) -> None:
        owner = make_actor(session)
        person = make_young_person(session, owner, keys)
        stranger = make_actor(session)  # a social worker in another social-services unit
        with pytest.raises(NotFound):
            people.get_young_person(session, stranger, young_person_id=person.id)

    def test_coordinator_sees_the_young_people_of_their_programmes(
        self, session: Session, keys: KeySet
    ) -> None:
        owner = make_actor(session)
        person = make_young_person(session, owner, keys)
        coordinator = make_actor(session, role=Role.COORDINATOR, programmes=("SIG",))
        with pytest.raises(NotFound):  # no case yet: nothing of the programme
            people.get_young_person(session, coordinator, young_person_id=person.id)
        make_case(session, owner, keys, programme="SIG", young_person=person)
        view = people.get_young_person(session, coordinator, young_person_id=person.id)
        assert view.person.id == person.id
        assert view.person.personnummer is not None

    def test_protected_identity_hides_address_and_school_from_all_but_the_owner(
        self, session: Session, keys: KeySet
    ) -> None:
        agency = make_agency(session)
        owner = make_actor(session, agency)
        school = make_agency(session, AgencyKind.SCHOOL)
        person = make_young_person(
            session, owner, keys, protected_identity=True, school_agency_id=school.id
        )
        colleague = make_actor(session, agency)
        assert (
            people.get_young_person(session, owner, young_person_id=person.id).person.school_name
            == school.name
        )
        view = people.get_young_person(session, colleague, young_person_id=person.id)
        assert view.person.school_name is None
        assert view.person.address is None


def test_engine_fixture_runs_on_both_databases(engine: Engine) -> None:
    assert engine.dialect.name in {"sqlite", "postgresql"}
