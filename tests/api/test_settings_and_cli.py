from __future__ import annotations

import io
import json
import os
import re
import sqlite3
import uuid
from contextlib import closing
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import ValidationError
from sqlalchemy import text
from sqlmodel import select

from api import cli
from api.main import create_app, load_app_keys
from api.settings import Environment, Settings
from audit.checkpoints import parse_note, public_key_text, sign_checkpoint
from audit.merkle import verify_inclusion
from audit.models import AUDIT_TABLES
from common.clock import reset_clock, set_clock, utcnow
from common.crypto import KeyMaterialError, encode_key, install_field_keyring
from common.db import make_engine, new_session
from common.keys import FIELD_KEYS_FILE
from consent.guard import unscoped
from domain.auth import service as auth
from domain.auth import totp
from domain.demo import HISTORY_PEOPLE
from domain.people.models import YoungPerson
from domain.users.models import LoginAttempt
from domain.users.repository import UserRepository
from domain.users.service import list_accounts
from tests.conftest import PostgresDatabases, make_keys

# The demo's young people: the 20 of its case cycle, one registered from a SIG referral, and
# the earlier years' (issue 14).
DEMO_PEOPLE = 21 + HISTORY_PEOPLE


class TestProductionMode:
    def test_refuses_sqlite(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="SQLite"):
            Settings(env="production", data_dir=tmp_path, database_url=f"sqlite:///{tmp_path}/x.db")

    def test_refuses_to_run_without_a_database_url(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="SAMSYN_DATABASE_URL"):
            Settings(env="production", data_dir=tmp_path)

    def test_refuses_to_generate_keys(self, tmp_path: Path) -> None:
        settings = Settings(
            env="production", data_dir=tmp_path, database_url="postgresql+psycopg://x@h/db"
        )
        with pytest.raises(KeyMaterialError, match="key missing"):
            load_app_keys(settings, {})
        assert not (tmp_path / "keys").exists()

    def test_development_generates_private_key_files(self, tmp_path: Path) -> None:
        load_app_keys(Settings(data_dir=tmp_path), {})
        key_file = tmp_path / "keys" / FIELD_KEYS_FILE
        assert key_file.stat().st_mode & 0o777 == 0o600

    def test_secure_cookies_outside_development(self, tmp_path: Path) -> None:
        production = Settings(
            env="production", data_dir=tmp_path, database_url="postgresql+psycopg://x@h/db"
        )
        assert production.secure_cookies is True
        assert Settings(data_dir=tmp_path).secure_cookies is False


class TestProductionRefusesTheDemo:
    """The demo has a published password and no second factor: never in production."""

    PG_URL = "postgresql+psycopg://samsyn@db.invalid/samsyn"

    @pytest.fixture
    def production(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        for name in list(os.environ):
            if name.startswith("SAMSYN_"):
                monkeypatch.delenv(name)
        monkeypatch.setenv("SAMSYN_ENV", "production")
        monkeypatch.setenv("SAMSYN_DATA_DIR", str(tmp_path))
        monkeypatch.setenv("SAMSYN_DATABASE_URL", self.PG_URL)
        monkeypatch.setenv(
            "SAMSYN_FIELD_ENCRYPTION_KEYS",
            json.dumps({"active": "k1", "keys": {"k1": encode_key(b"\x04" * 32)}}),
        )
        monkeypatch.setenv("SAMSYN_BLIND_INDEX_KEY", encode_key(b"\x01" * 32))
        monkeypatch.setenv("SAMSYN_SESSION_KEY", encode_key(b"\x02" * 32))
        monkeypatch.setenv("SAMSYN_AUDIT_SIGNING_KEY", encode_key(b"\x03" * 32))
        monkeypatch.setenv("SAMSYN_STATISTICS_KEY", encode_key(b"\x05" * 32))

        def never(*_args: object, **_kwargs: object) -> None:
            pytest.fail("the server started")

        monkeypatch.setattr("uvicorn.Server.run", never)
        return tmp_path

    def test_settings_refuse_demo_in_production(self) -> None:
        with pytest.raises(ValidationError, match="production refuses the demo"):
            Settings(env="production", database_url=self.PG_URL, demo=True)

    def test_settings_refuse_totp_off_in_production_even_with_demo(self) -> None:
        with pytest.raises(ValidationError, match="production refuses the demo"):
            Settings(env="production", database_url=self.PG_URL, demo=True, totp_required=False)

    def test_run_demo_in_production_stops_with_a_clear_message(self, production: Path) -> None:
        with pytest.raises(SystemExit) as stopped:
            cli.main(["run", "--demo"])
        assert "production refuses the demo" in str(stopped.value.code)
        assert "Traceback" not in str(stopped.value.code)

    def test_demo_environment_variable_in_production_stops_too(
        self, production: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SAMSYN_DEMO", "true")
        with pytest.raises(SystemExit) as stopped:
            cli.main(["run"])
        assert "production refuses the demo" in str(stopped.value.code)

    def test_demo_seed_refused_in_production(self, production: Path) -> None:
        with pytest.raises(SystemExit) as stopped:
            cli.main(["demo", "seed"])
        assert "aldrig i produktion" in str(stopped.value.code)

    def test_create_app_refuses_production_settings_built_around_validation(
        self, tmp_path: Path
    ) -> None:
        keys = make_keys()
        for settings, second_factor in (
            (
                Settings.model_construct(env=Environment.PRODUCTION, demo=True, data_dir=tmp_path),
                None,
            ),
            (
                Settings.model_construct(
                    env=Environment.PRODUCTION, database_url=self.PG_URL, data_dir=tmp_path
                ),
                False,
            ),
        ):
            with pytest.raises(ValueError, match="production refuses"):
                create_app(
                    settings,
                    keys=keys,
                    run_sequencer=False,
                    run_consent_sweep=False,
                    second_factor_required=second_factor,
                    env={},
                )


def test_samsyn_run_from_an_empty_data_dir_keeps_everything_private(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The data directory 0700; the database, its -wal and -shm 0600; the keys too."""
    for name in list(os.environ):
        if name.startswith("SAMSYN_"):
            monkeypatch.delenv(name)
    data = tmp_path / "new" / "data"
    monkeypatch.setenv("SAMSYN_DATA_DIR", str(data))
    monkeypatch.setenv("SAMSYN_CONSENT_SWEEP_INTERVAL_SECONDS", "0")
    started: list[bool] = []
    monkeypatch.setattr("uvicorn.Server.run", lambda *_a, **_k: started.append(True))
    previous = os.umask(0o022)  # the usual umask: new files readable by everyone
    try:
        assert cli.main(["run", "--demo"]) == 0
        database = data / "samsyn.db"
        with closing(sqlite3.connect(database)) as connection:  # SQLite's own defaults
            connection.execute("CREATE TABLE scratch (x INTEGER)")
            connection.commit()
            files = [database, Path(f"{database}-wal"), Path(f"{database}-shm")]
            modes = {p.name: p.stat().st_mode & 0o777 for p in files}
    finally:
        os.umask(previous)
    assert started == [True]
    assert modes == {"samsyn.db": 0o600, "samsyn.db-wal": 0o600, "samsyn.db-shm": 0o600}
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "keys").stat().st_mode & 0o777 == 0o700
    assert {p.stat().st_mode & 0o777 for p in (data / "keys").iterdir()} == {0o600}


def test_an_existing_open_data_dir_is_tightened(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in list(os.environ):
        if name.startswith("SAMSYN_"):
            monkeypatch.delenv(name)
    data = tmp_path / "data"
    data.mkdir(mode=0o755)
    data.chmod(0o755)
    monkeypatch.setenv("SAMSYN_DATA_DIR", str(data))
    assert cli.main(["db", "upgrade"]) == 0
    assert data.stat().st_mode & 0o777 == 0o700
    assert (data / "samsyn.db").stat().st_mode & 0o777 == 0o600


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'wal.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar_one() == "wal"
    engine.dispose()


class TestCli:
    @pytest.fixture
    def data_dir(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("SAMSYN_DATA_DIR", str(tmp_path))
        for name in list(os.environ):
            if name.startswith("SAMSYN_") and name != "SAMSYN_DATA_DIR":
                monkeypatch.delenv(name)
        assert cli.main(["db", "upgrade"]) == 0
        return tmp_path

    def test_creates_agency_and_user_with_password_from_stdin(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["agency", "create", "--name", "Testskolan", "--kind", "school"]) == 0
        monkeypatch.setattr("sys.stdin", io.StringIO("ett-langt-losenord\n"))
        assert (
            cli.main(
                [
                    "user",
                    "create",
                    "--username",
                    "Kim",
                    "--name",
                    "Kim Kurator",
                    "--agency",
                    "Testskolan",
                    "--role",
                    "contact_person",
                    "--password-stdin",
                ]
            )
            == 0
        )
        assert cli.main(["user", "list"]) == 0
        out = capsys.readouterr().out
        assert "kim" in out
        assert "contact_person" in out
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        with new_session(engine) as session:
            stored = session.execute(text("SELECT password_hash FROM app_user")).scalar_one()
        engine.dispose()
        assert stored.startswith("scrypt$")
        assert "ett-langt-losenord" not in stored

    def test_refuses_social_worker_outside_social_services(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        cli.main(["agency", "create", "--name", "Polisen", "--kind", "police"])
        code = cli.main(
            [
                "user",
                "create",
                "--username",
                "p1",
                "--name",
                "P",
                "--agency",
                "Polisen",
                "--role",
                "social_worker",
            ]
        )
        assert code == 1
        assert (
            "roles: Handläggare och samordnare måste tillhöra socialtjänsten."
            in capsys.readouterr().out
        )

    def test_set_password_checks_length(
        self, data_dir: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        cli.main(["agency", "create", "--name", "Soc", "--kind", "social_services"])
        cli.main(
            [
                "user",
                "create",
                "--username",
                "sw",
                "--name",
                "S",
                "--agency",
                "Soc",
                "--role",
                "social_worker",
            ]
        )
        monkeypatch.setattr("sys.stdin", io.StringIO("kort\n"))
        assert cli.main(["user", "set-password", "--username", "sw", "--password-stdin"]) == 1
        assert "minst 12 tecken" in capsys.readouterr().out

    def test_reset_totp_clears_the_second_factor(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["demo", "seed"]) == 0
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        with new_session(engine) as session:
            user = UserRepository(session).by_username("skola")
            assert user is not None
            secret = auth.begin_enrolment(session, user)
            now_step = totp.step_at(utcnow())
            assert auth.confirm_enrolment(session, user, totp.code_at(secret, now_step))
            session.commit()
        assert cli.main(["user", "list"]) == 0
        assert re.search(r"^skola .* totp ", capsys.readouterr().out, re.MULTILINE)
        assert cli.main(["user", "reset-totp", "--username", "skola"]) == 0
        with new_session(engine) as session:
            user = UserRepository(session).by_username("skola")
            assert user is not None
            assert (user.totp_secret, user.totp_enabled_at) == (None, None)
        engine.dispose()
        assert cli.main(["user", "reset-totp", "--username", "ingen"]) == 1

    def test_demo_seed_gathers_the_planners_statistics(self, data_dir: Path) -> None:
        """The seed is a bulk load: the planner should not guess until the next refresh."""
        assert cli.main(["demo", "seed"]) == 0
        with closing(sqlite3.connect(data_dir / "samsyn.db")) as db:
            tables = {row[0] for row in db.execute("SELECT tbl FROM sqlite_stat1")}
        assert {"case_file", "team_member", "guardian"} <= tables

    @pytest.mark.postgres
    def test_demo_seed_gathers_the_planners_statistics_on_postgresql(
        self,
        data_dir: Path,
        monkeypatch: pytest.MonkeyPatch,
        postgres_databases: PostgresDatabases,
    ) -> None:
        """Not left to autovacuum, which comes round a minute or more later: until then the
        planner found a case among all its agency's cases rather than by its key."""
        name = postgres_databases.fresh()
        url = postgres_databases.url_for(name)
        monkeypatch.setenv("SAMSYN_DATABASE_URL", url)
        try:
            assert cli.main(["demo", "seed"]) == 0
            engine = make_engine(url)
            with engine.connect() as connection:
                tables = set(
                    connection.execute(
                        text("SELECT DISTINCT tablename FROM pg_stats WHERE schemaname = 'public'")
                    ).scalars()
                )
            engine.dispose()
        finally:
            postgres_databases.drop(name)
        assert {"case_file", "team_member", "guardian"} <= tables

    def test_unlock_lifts_a_lockout(self, data_dir: Path) -> None:
        assert cli.main(["demo", "seed"]) == 0
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        with new_session(engine) as session:
            for seconds in range(5, 0, -1):
                session.add(
                    LoginAttempt(
                        username="skola",
                        client_address="127.0.0.1",
                        succeeded=False,
                        attempted_at=utcnow() - timedelta(seconds=seconds),
                    )
                )
            session.commit()
            [locked] = [a for a in list_accounts(session) if a.user.username == "skola"]
            assert locked.locked_until is not None
        assert cli.main(["user", "unlock", "--username", "skola"]) == 0
        with new_session(engine) as session:
            [unlocked] = [a for a in list_accounts(session) if a.user.username == "skola"]
            assert unlocked.locked_until is None
        engine.dispose()
        assert cli.main(["user", "unlock", "--username", "ingen"]) == 1

    def test_consent_sweep_pauses_the_cases_whose_consent_ran_out(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["demo", "seed"]) == 0
        assert cli.main(["consent", "sweep"]) == 0
        assert ", 0 flyttade." in capsys.readouterr().out  # the demo's consent is current
        later = utcnow() + timedelta(days=400)  # the demo's consents last a year
        set_clock(lambda: later)
        try:
            assert cli.main(["consent", "sweep"]) == 0
        finally:
            reset_clock()
        lines = capsys.readouterr().out.splitlines()
        moved = [line for line in lines if "→" in line]
        assert moved
        assert all(line.endswith("Pågående → Pausat (Samtycket löpte ut)") for line in moved)
        assert lines[-1].endswith(f", {len(moved)} flyttade.")

    def test_rotating_the_field_key_keeps_old_rows_readable(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["demo", "seed"]) == 0
        assert cli.main(["keys", "rotate-field-key"]) == 0
        # A fresh process-equivalent load: the new active key plus the old one.
        keys = load_app_keys(Settings(data_dir=data_dir), {})
        assert len(keys.field.keys) == 2
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        install_field_keyring(keys.field)
        with new_session(engine) as session:
            names = [
                p.last_name
                for p in session.exec(unscoped(select(YoungPerson), "test: the stored rows")).all()
            ]
        engine.dispose()
        assert len(names) == DEMO_PEOPLE

    def test_reencrypt_moves_every_value_to_the_new_key_so_the_old_key_can_go(
        self, data_dir: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["demo", "seed"]) == 0
        assert cli.main(["keys", "rotate-field-key"]) == 0
        keys = load_app_keys(Settings(data_dir=data_dir), {})
        install_field_keyring(keys.field)
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        with new_session(engine) as session:
            before = sorted(
                (p.personnummer, p.full_name, p.home_area or "")
                for p in session.exec(unscoped(select(YoungPerson), "test: the stored rows")).all()
            )
        capsys.readouterr()

        assert cli.main(["keys", "reencrypt", "--batch-size", "7"]) == 0

        output = capsys.readouterr().out
        assert (
            f"young_person.first_name: {DEMO_PEOPLE} omkrypterade, 0 ändrades samtidigt" in output
        )
        assert "guardian.name: " in output
        assert f"fältnyckel {keys.field.active_id}; äldre nycklar kan tas bort" in output
        assert not any(value in output for person in before for value in person if value)
        with new_session(engine) as session:
            stored = [
                value
                for column in ("personnummer", "first_name", "last_name", "home_area")
                for (value,) in session.execute(
                    unscoped(text(f"SELECT {column} FROM young_person"), "test: stored form")
                )
                if value is not None
            ]
        assert stored
        assert all(v.startswith(f"v2.{keys.field.active_id}.") for v in stored)

        # The old key leaves the ring (the file keeps only the active one): all still reads.
        key_file = data_dir / "keys" / FIELD_KEYS_FILE
        ring = json.loads(key_file.read_text(encoding="utf-8"))
        ring["keys"] = {ring["active"]: ring["keys"][ring["active"]]}
        key_file.write_text(json.dumps(ring), encoding="utf-8")
        only_new = load_app_keys(Settings(data_dir=data_dir), {})
        assert list(only_new.field.keys) == [keys.field.active_id]
        install_field_keyring(only_new.field)
        with new_session(engine) as session:
            after = sorted(
                (p.personnummer, p.full_name, p.home_area or "")
                for p in session.exec(unscoped(select(YoungPerson), "test: the stored rows")).all()
            )
        engine.dispose()
        assert after == before
        assert cli.main(["keys", "reencrypt"]) == 0
        assert "0 omkrypterade" in capsys.readouterr().out

    def test_run_encrypts_home_areas_left_in_clear_only_where_it_migrated(
        self, data_dir: Path
    ) -> None:
        assert cli.main(["demo", "seed"]) == 0
        keys = load_app_keys(Settings(data_dir=data_dir), {})
        install_field_keyring(keys.field)
        engine = make_engine(f"sqlite:///{data_dir / 'samsyn.db'}")
        with new_session(engine) as session:
            session.execute(text("UPDATE young_person SET home_area = 'v0.Norra Demo'"))
            session.commit()

        with pytest.raises(
            SystemExit, match=f"{DEMO_PEOPLE} värden från en migrering är ännu okrypterade"
        ):
            cli._encrypt_marked_plaintext(engine, migrating=False)
        cli._encrypt_marked_plaintext(engine, migrating=True)

        with new_session(engine) as session:
            areas = {
                p.home_area
                for p in session.exec(unscoped(select(YoungPerson), "test: the stored rows")).all()
            }
            stored = unscoped(text("SELECT home_area FROM young_person"), "test: stored form")
            raw = [v for (v,) in session.execute(stored)]
        engine.dispose()
        assert areas == {"Norra Demo"}
        assert all(v.startswith(f"v2.{keys.field.active_id}.") for v in raw)
        cli._encrypt_marked_plaintext(
            make_engine(f"sqlite:///{data_dir / 'samsyn.db'}"), migrating=False
        )


class TestAuditCli:
    @pytest.fixture
    def seeded(self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
        monkeypatch.setenv("SAMSYN_DATA_DIR", str(tmp_path))
        for name in list(os.environ):
            if name.startswith("SAMSYN_") and name != "SAMSYN_DATA_DIR":
                monkeypatch.delenv(name)
        assert cli.main(["db", "upgrade"]) == 0
        assert cli.main(["demo", "seed"]) == 0
        return tmp_path

    @staticmethod
    def _raw(data_dir: Path) -> sqlite3.Connection:
        connection = sqlite3.connect(data_dir / "samsyn.db")
        for table in AUDIT_TABLES:
            for verb in ("update", "delete"):
                connection.execute(f"DROP TRIGGER IF EXISTS {table}_no_{verb}")
        return connection

    @staticmethod
    def _vkey(capsys: pytest.CaptureFixture[str]) -> str:
        capsys.readouterr()
        assert cli.main(["audit", "public-key"]) == 0
        return capsys.readouterr().out.strip()

    def test_verify_reports_an_intact_log(
        self, seeded: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["audit", "checkpoint"]) == 0
        assert cli.main(["audit", "verify", "--vkey", self._vkey(capsys)]) == 0
        assert "Loggen är intakt." in capsys.readouterr().out

    def test_verify_needs_a_verifier_key_not_the_signing_key(
        self, seeded: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        assert cli.main(["audit", "checkpoint"]) == 0
        vkey = self._vkey(capsys)
        assert cli.main(["audit", "verify"]) == 2
        assert "--vkey" in capsys.readouterr().out
        other = public_key_text(Ed25519PrivateKey.generate().public_key(), "samsyn/audit")
        assert cli.main(["audit", "verify", "--vkey", other]) == 1
        assert "bad signature" in capsys.readouterr().out
        monkeypatch.setenv("SAMSYN_AUDIT_VERIFIER_KEY", vkey)
        assert cli.main(["audit", "verify"]) == 0

    def test_verify_reads_the_export_directory_and_accepts_a_witness_cosignature(
        self,
        seeded: Path,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        export_dir = tmp_path_factory.mktemp("export")
        monkeypatch.setenv("SAMSYN_AUDIT_EXPORT_DIR", str(export_dir))
        assert cli.main(["audit", "checkpoint"]) == 0
        vkey = self._vkey(capsys)
        exported = parse_note((export_dir / "latest.note").read_text(encoding="utf-8"))
        witness = sign_checkpoint(
            exported.checkpoint, Ed25519PrivateKey.generate(), "witness.example"
        )
        (export_dir / "latest.note").write_text(
            exported.cosigned(*witness.signatures).to_note(), encoding="utf-8"
        )
        assert cli.main(["audit", "verify", "--vkey", vkey]) == 0
        assert "externa kontrollpunkter: 1" in capsys.readouterr().out

    def test_incremental_verify_remembers_the_last_verified_checkpoint(
        self,
        seeded: Path,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        export_dir = tmp_path_factory.mktemp("export")
        monkeypatch.setenv("SAMSYN_AUDIT_EXPORT_DIR", str(export_dir))
        assert cli.main(["audit", "checkpoint"]) == 0
        vkey = self._vkey(capsys)
        assert cli.main(["audit", "verify", "--vkey", vkey, "--incremental"]) == 0
        first = capsys.readouterr().out
        assert "hela loggen kontrolleras" in first
        state = parse_note((export_dir / "verified.state").read_text(encoding="utf-8"))
        assert f"kontrollerade positioner: 0–{state.checkpoint.size}" in first
        with self._raw(seeded) as connection:  # an old event changed: not the incremental's job
            connection.execute("UPDATE audit_event SET outcome = 'denied'")
        assert cli.main(["audit", "verify", "--vkey", vkey, "--incremental"]) == 0
        size = state.checkpoint.size
        assert f"kontrollerade positioner: {size}–{size}" in capsys.readouterr().out
        assert cli.main(["audit", "verify", "--vkey", vkey]) == 1
        (export_dir / "verified.state").write_text("garbage", encoding="utf-8")
        assert cli.main(["audit", "verify", "--vkey", vkey, "--incremental"]) == 1
        assert "STEGVIS" in capsys.readouterr().out

    def test_a_truncated_log_restarted_on_the_same_export_dir_is_refused_and_caught(
        self,
        seeded: Path,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch,
    ) -> None:
        export_dir = tmp_path_factory.mktemp("export")
        monkeypatch.setenv("SAMSYN_AUDIT_EXPORT_DIR", str(export_dir))
        assert cli.main(["audit", "checkpoint"]) == 0
        before = (export_dir / "latest.note").read_text(encoding="utf-8")
        vkey = self._vkey(capsys)
        with closing(self._raw(seeded)) as db:  # a new, empty log on the same export dir
            for table in ("audit_pending", *AUDIT_TABLES):
                db.execute(f"DELETE FROM {table}")
            db.commit()
        assert cli.main(["demo", "seed"]) == 0  # the demo is still there: a few new events
        with closing(sqlite3.connect(seeded / "samsyn.db")) as db:
            db.execute(
                "INSERT INTO audit_event (id, occurred_at, action, resource_type, outcome, basis)"
                " VALUES (?, ?, 'auth.login', 'user', 'allowed', '{}')",
                (uuid.uuid4().hex, "2026-12-03 00:00:00.000000"),
            )
            db.commit()
        capsys.readouterr()
        assert cli.main(["audit", "checkpoint"]) == 1
        assert "VÄGRAR SIGNERA" in capsys.readouterr().out
        assert (export_dir / "latest.note").read_text(encoding="utf-8") == before
        assert cli.main(["audit", "verify", "--vkey", vkey]) == 1
        assert "the log was cut back" in capsys.readouterr().out

    def test_verify_names_the_first_changed_position(
        self, seeded: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["audit", "checkpoint"]) == 0
        vkey = self._vkey(capsys)
        with closing(self._raw(seeded)) as db:
            event_id = db.execute("SELECT event_id FROM audit_leaf WHERE position = 17").fetchone()[
                0
            ]
            db.execute("UPDATE audit_event SET outcome = 'denied' WHERE id = ?", (event_id,))
            db.commit()
        capsys.readouterr()
        assert cli.main(["audit", "verify", "--vkey", vkey]) == 1
        out = capsys.readouterr().out
        assert "Första felaktiga position: 17." in out
        assert "position 17: the event" in out

    def test_a_log_cut_back_fails_against_the_exported_checkpoint(
        self,
        seeded: Path,
        tmp_path_factory: pytest.TempPathFactory,
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        kept_elsewhere = tmp_path_factory.mktemp("elsewhere") / "latest.note"
        assert cli.main(["audit", "checkpoint", "--export", str(kept_elsewhere)]) == 0
        vkey = self._vkey(capsys)
        with closing(self._raw(seeded)) as db:
            (size,) = db.execute("SELECT max(position) + 1 FROM audit_leaf").fetchone()
            keep = size // 2
            db.execute(
                "DELETE FROM audit_event"
                " WHERE id IN (SELECT event_id FROM audit_leaf WHERE position >= ?)",
                (keep,),
            )
            db.execute("DELETE FROM audit_leaf WHERE position >= ?", (keep,))
            db.execute("DELETE FROM audit_checkpoint WHERE size > ?", (keep,))
            db.commit()
        capsys.readouterr()
        assert (
            cli.main(["audit", "verify", "--vkey", vkey, "--checkpoint", str(kept_elsewhere)]) == 1
        )
        assert (
            f"covers {size} leaves but the log has {keep}: the log was cut back"
            in capsys.readouterr().out
        )

    def test_inclusion_proof_from_the_cli_verifies(
        self, seeded: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert cli.main(["audit", "checkpoint"]) == 0
        with closing(sqlite3.connect(seeded / "samsyn.db")) as db:
            raw_id = db.execute("SELECT event_id FROM audit_leaf WHERE position = 5").fetchone()[0]
        capsys.readouterr()
        assert cli.main(["audit", "prove-inclusion", str(uuid.UUID(hex=raw_id))]) == 0
        proof = json.loads(capsys.readouterr().out)
        root = parse_note(proof["checkpoint"]).checkpoint.root
        assert verify_inclusion(
            5,
            proof["size"],
            bytes.fromhex(proof["leaf_hash"]),
            [bytes.fromhex(h) for h in proof["path"]],
            root,
        )


def _issuer(**changes: object) -> dict[str, object]:
    return {
        "name": "skola",
        "label": "Logga in med Skolans inloggning",
        "issuer": "https://idp.skolan.example.se",
        "client_id": "samsyn",
        "agency": "Testskolan",
        "role_claim": "groups",
        "role_map": {"sspf-kontakt": "contact_person"},
        **changes,
    }


class TestOidcSettings:
    def test_read_from_the_environment_as_json(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setenv("SAMSYN_OIDC_ISSUERS", json.dumps([_issuer(name="skola-nord")]))
        settings = Settings(data_dir=tmp_path)
        [issuer] = settings.oidc_issuer_configs({"SAMSYN_OIDC_CLIENT_SECRET_SKOLA_NORD": "s3"})
        assert (issuer.name, issuer.scopes, issuer.audience) == (
            "skola-nord",
            "openid profile",
            None,  # no API audience: the issuer's tokens are not accepted on the API
        )
        assert issuer.client_secret == "s3"
        assert "s3" not in repr(issuer)

    def test_the_secret_is_never_part_of_the_json(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="client_secret"):
            Settings(data_dir=tmp_path, oidc_issuers=[_issuer(client_secret="nej")])

    def test_a_missing_secret_names_its_variable(self, tmp_path: Path) -> None:
        settings = Settings(data_dir=tmp_path, oidc_issuers=[_issuer()])
        with pytest.raises(ValueError, match="SAMSYN_OIDC_CLIENT_SECRET_SKOLA"):
            settings.oidc_issuer_configs({})

    @pytest.mark.parametrize(
        ("issuers", "message"),
        [
            ([_issuer(), _issuer(issuer="https://annan.example.se")], "same name: 'skola'"),
            (
                [_issuer(), _issuer(name="annan")],
                "same issuer: 'https://idp.skolan.example.se'",
            ),
            ([_issuer(role_map={"x": "rektor"})], "role_map.x"),
            ([_issuer(role_map={})], "role_map"),
            ([_issuer(name="Skola A")], "name"),
            ([_issuer(issuer="ftp://idp.example.se")], "http"),
            ([_issuer(scopes="profile email")], "openid"),
            # An ID token's audience is the client id: it must never pass for the API's.
            ([_issuer(audience="samsyn")], "not the client id"),
            ([_issuer(required_amr="otp")], "required_amr"),
            ([_issuer(required_claims={"org": ["skolan"]})], "required_claims.org"),
        ],
    )
    def test_clear_errors(
        self, tmp_path: Path, issuers: list[dict[str, object]], message: str
    ) -> None:
        with pytest.raises(ValidationError, match=re.escape(message)):
            Settings(data_dir=tmp_path, oidc_issuers=issuers)

    def test_login_requirements_are_read(self, tmp_path: Path) -> None:
        settings = Settings(
            data_dir=tmp_path,
            oidc_issuers=[
                _issuer(
                    audience="urn:samsyn:api",
                    required_acr=["https://refeds.org/profile/mfa"],
                    required_amr=["pwd", "otp"],
                    required_claims={"org": "skolan"},
                )
            ],
        )
        [issuer] = settings.oidc_issuer_configs({"SAMSYN_OIDC_CLIENT_SECRET_SKOLA": "s3"})
        assert issuer.audience == "urn:samsyn:api"
        assert issuer.required_acr == ("https://refeds.org/profile/mfa",)
        assert issuer.required_amr == ("pwd", "otp")
        assert issuer.required_claims == {"org": "skolan"}

    def test_production_needs_https(self, tmp_path: Path) -> None:
        with pytest.raises(ValidationError, match="production needs https"):
            Settings(
                env="production",
                data_dir=tmp_path,
                database_url="postgresql+psycopg://x@y/z",
                oidc_issuers=[_issuer(issuer="http://idp.example.se")],
            )


class TestUserDisableCli:
    def test_an_administrator_disables_and_enables_an_account(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
    ) -> None:
        monkeypatch.setenv("SAMSYN_DATA_DIR", str(tmp_path))
        for name in list(os.environ):
            if name.startswith("SAMSYN_") and name != "SAMSYN_DATA_DIR":
                monkeypatch.delenv(name)
        assert cli.main(["db", "upgrade"]) == 0
        assert cli.main(["demo", "seed"]) == 0
        assert cli.main(["user", "disable", "--username", "skola"]) == 0
        assert cli.main(["user", "list"]) == 0
        assert re.search(r"^skola .* avstängd ", capsys.readouterr().out, re.MULTILINE)
        assert cli.main(["user", "enable", "--username", "skola"]) == 0
        assert cli.main(["user", "list"]) == 0
        assert re.search(r"^skola .* aktiv ", capsys.readouterr().out, re.MULTILINE)
        assert cli.main(["user", "disable", "--username", "ingen"]) == 1
