"""`samsyn`: run the server, migrate, and manage agencies, users and keys."""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import os
import sys
import uuid
from collections.abc import Sequence
from pathlib import Path

import structlog
import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError
from sqlalchemy.engine import Engine

from api.logging import configure_logging
from api.settings import Settings
from audit.checkpoints import (
    CheckpointError,
    SignedCheckpoint,
    parse_note,
    parse_public_key_text,
    public_key_text,
)
from audit.log import record
from audit.proofs import latest_checkpoint, prove_consistency, prove_inclusion
from audit.sequencer import (
    ExportMismatch,
    check_current_tree,
    export_note,
    integrate_all,
    read_export,
)
from audit.verify import (
    STATE_FILE,
    StateError,
    read_state,
    verify_incremental,
    verify_log,
    write_state,
)
from common.crypto import KeyMaterialError
from common.db import gather_planner_statistics, make_engine, new_session
from common.errors import DomainError, NotFound
from common.keys import KeySet, load_keys, rotate_field_key
from common.roles import AgencyKind, Role
from consent.rules import MOVE_REASON_LABELS
from deploy import migrate
from domain.agencies.repository import AgencyRepository
from domain.agencies.service import create_agency
from domain.auth.federation import check_issuers
from domain.auth.service import reset_second_factor
from domain.cases.rules import STATE_LABELS, CaseState
from domain.consents.sweep import sweep
from domain.encryption.reencrypt import marked_plaintext_count, reencrypt
from domain.users.repository import UserRepository
from domain.users.service import (
    create_user,
    set_active,
    set_password,
    set_programmes,
    unlock_account,
)

log = structlog.get_logger("samsyn.cli")

# `api.main` (every router and page) and `domain.demo` are imported by the commands that use
# them: they take about two seconds to import, which `audit verify` and the other commands that
# only read the database do without.


def _out(text: str = "") -> None:
    sys.stdout.write(text + "\n")


def _settings(*, demo: bool = False) -> Settings:
    """`demo=True` (from `run --demo`) counts before validation: the demo may relax rules.

    A configuration that does not validate stops the command with the reasons, no traceback.
    The data directory is there (0700) before any command writes to it."""
    try:
        settings = Settings(demo=True) if demo else Settings()
    except ValidationError as exc:
        reasons = "\n".join(
            f"  {'.'.join(str(p) for p in error['loc']) or 'SAMSYN_*'}: {error['msg']}"
            for error in exc.errors(include_url=False, include_input=False)
        )
        raise SystemExit(f"Samsyn starts only with a valid configuration:\n{reasons}") from None
    settings.prepare_data_dir()
    return settings


def _read_password(args: argparse.Namespace) -> str | None:
    if getattr(args, "password_stdin", False):
        return sys.stdin.readline().rstrip("\n")
    if not sys.stdin.isatty():
        return None
    first = getpass.getpass("Lösenord: ")
    if first != getpass.getpass("Upprepa lösenordet: "):
        raise SystemExit("Lösenorden stämmer inte överens.")
    return first


def cmd_run(args: argparse.Namespace) -> int:
    from api.main import create_app, install_runtime, load_app_keys
    from domain import demo

    settings = _settings(demo=args.demo)
    configure_logging(json=settings.is_production, level=settings.log_level)
    keys = load_app_keys(settings, dict(os.environ))
    install_runtime(settings, keys)
    url = settings.resolved_database_url
    migrating = not settings.is_production or args.migrate
    if migrating:
        migrate.upgrade(url)
    engine = make_engine(url)
    _encrypt_marked_plaintext(engine, migrating=migrating)
    if settings.demo and _seed_demo(engine, keys):
        log.info("demo_seeded")
    try:
        issuers = settings.oidc_issuer_configs(os.environ)
    except ValueError as exc:
        raise SystemExit(str(exc)) from None
    with new_session(engine) as session:
        if problems := check_issuers(session, issuers):
            raise SystemExit("\n".join(problems))
    app = create_app(
        settings, keys=keys, engine=engine, freeze_heap=True, keep_planner_statistics=True
    )
    address = f"http://{settings.host}:{settings.port}"
    _out(f"\nSamsyn körs på {address}  (logga in på {address}/logga-in)")
    if settings.demo:
        _out(f"Demokonton (lösenord för alla: {demo.DEMO_PASSWORD}):")
        for user in demo.USERS:
            _out(f"  {user.username:<14} {user.role.value:<15} {user.display_name}")
    if not settings.second_factor_required:
        _out("Tvåstegsverifiering krävs inte (bara demon får stänga av kravet).")
    _out("Avsluta med Ctrl+C.\n")
    uvicorn.Server(server_config(app, settings)).run()
    return 0


def server_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """How `samsyn run` serves the app. Proxy headers are believed only from the proxies in
    SAMSYN_TRUSTED_PROXIES (uvicorn would otherwise believe any X-Forwarded-For from
    127.0.0.1, and the lockout per client address would follow a forged header)."""
    trusted = settings.trusted_proxy_list
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        server_header=False,
        proxy_headers=bool(trusted),
        forwarded_allow_ips=trusted,
    )


def _encrypt_marked_plaintext(engine: Engine, *, migrating: bool) -> None:
    """Values a migration found in clear are encrypted by whoever migrated, before serving.

    `run` encrypts them right after it migrated (the embedded default, `make run`); a server
    that did not migrate refuses to start while any wait, rather than fail on each read.
    """
    if migrating:
        report = reencrypt(engine, only_marked_plaintext=True)
        if sealed := sum(column.rewritten for column in report.columns):
            log.info("plaintext_encrypted", values=sealed)
        if not report.complete:
            raise SystemExit(
                "Okrypterade värden kunde inte krypteras: kör 'samsyn keys reencrypt'."
            )
    elif waiting := marked_plaintext_count(engine):
        raise SystemExit(
            f"{waiting} värden från en migrering är ännu okrypterade: "
            "kör 'samsyn keys reencrypt' innan servern startas."
        )


def cmd_db_upgrade(args: argparse.Namespace) -> int:
    migrate.upgrade(_settings().resolved_database_url, args.revision)
    return 0


def cmd_db_downgrade(args: argparse.Namespace) -> int:
    from api.main import install_runtime

    settings = _settings()
    # A downgrade past an encryption migration turns values back into text: it needs the field
    # keys when they are there (upgrades never do).
    with contextlib.suppress(KeyMaterialError):
        install_runtime(settings, load_keys(settings.resolved_key_dir, os.environ, generate=False))
    migrate.downgrade(settings.resolved_database_url, args.revision)
    return 0


def _open(settings: Settings) -> tuple[KeySet, Engine]:
    """Keys and policy installed and an engine on the configured database, for one command."""
    from api.main import install_runtime, load_app_keys

    keys = load_app_keys(settings, dict(os.environ))
    install_runtime(settings, keys)
    return keys, make_engine(settings.resolved_database_url)


def cmd_agency_create(args: argparse.Namespace) -> int:
    settings = _settings()
    _, engine = _open(settings)
    with new_session(engine) as session:
        agency = create_agency(session, name=args.name, kind=args.kind, area=args.area)
        session.commit()
        _out(f"{agency.id}  {agency.kind}  {agency.name}")
    return 0


def cmd_agency_list(_args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    with new_session(engine) as session:
        for agency in AgencyRepository(session).list():
            _out(f"{agency.id}  {agency.kind:<16} {agency.name}")
    return 0


def cmd_user_create(args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    with new_session(engine) as session:
        agencies = AgencyRepository(session)
        try:
            agency = agencies.get(uuid.UUID(args.agency))
        except ValueError:
            agency = agencies.by_name(args.agency)
        if agency is None:
            raise SystemExit(f"Organisationen finns inte: {args.agency}")
        user = create_user(
            session,
            agency_id=agency.id,
            username=args.username,
            display_name=args.name,
            roles=args.role,
            password=_read_password(args),
            programmes=args.programme or (),
        )
        session.commit()
        _out(f"{user.id}  {user.username}  {','.join(user.roles)}  {agency.name}")
        if user.password_hash is None:
            _out("Inget lösenord satt: använd 'samsyn user set-password'.")
    return 0


def cmd_user_set_programmes(args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    with new_session(engine) as session:
        user = set_programmes(session, username=args.username, programmes=args.programme or ())
        session.commit()
    _out(f"{user.username} samordnar: {', '.join(user.programmes) or 'inga program'}.")
    return 0


def cmd_user_set_password(args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    password = _read_password(args)
    if password is None:
        raise SystemExit("Ange lösenordet på standard in med --password-stdin.")
    with new_session(engine) as session:
        set_password(session, username=args.username, password=password)
        session.commit()
    _out("Lösenordet är satt.")
    return 0


def cmd_user_reset_totp(args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    with new_session(engine) as session:
        reset_second_factor(session, username=args.username)
        session.commit()
    _out("Tvåstegsverifieringen är återställd; kontot aktiverar den vid nästa inloggning.")
    return 0


def cmd_user_unlock(args: argparse.Namespace) -> int:
    """As the administrator's page does: the name's failed logins no longer count."""
    _, engine = _open(_settings())
    with new_session(engine) as session:
        user = UserRepository(session).by_username(args.username.strip().lower())
        if user is None:
            raise NotFound()
        unlock_account(session, None, user_id=user.id, version=user.version)
        session.commit()
    _out("Kontot är upplåst.")
    return 0


def cmd_user_set_active(args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    active = args.user_command == "enable"
    with new_session(engine) as session:
        set_active(session, username=args.username, active=active)
        session.commit()
    _out("Kontot är aktiverat." if active else "Kontot är avstängt och dess sessioner avslutade.")
    return 0


def cmd_user_list(_args: argparse.Namespace) -> int:
    _, engine = _open(_settings())
    with new_session(engine) as session:
        for user, agency in UserRepository(session).list_all():
            state = (
                "aktiv"
                if user.is_active
                else "avstängd (federation)"
                if user.disabled_by_federation
                else "avstängd"
            )
            totp = "totp" if user.totp_enabled_at else "-"
            _out(
                f"{user.username:<16} {','.join(user.roles):<16} {state:<9} {totp:<5} {agency.name}"
            )
    return 0


def cmd_keys_rotate(_args: argparse.Namespace) -> int:
    settings = _settings()
    key_id = rotate_field_key(settings.resolved_key_dir)
    _, engine = _open(settings)
    with new_session(engine) as session:
        record(
            session,
            None,
            action="config.keys.rotate_field_key",
            resource_type="key",
            resource_id=key_id,
        )
        session.commit()
    _out(f"Ny fältnyckel {key_id} är aktiv. Äldre nycklar finns kvar för läsning.")
    return 0


def cmd_keys_reencrypt(args: argparse.Namespace) -> int:
    """Rewrite every encrypted value that is not v2 under the active key; print counts only."""
    if args.batch_size < 1:
        raise SystemExit("--batch-size måste vara minst 1.")
    _, engine = _open(_settings())
    report = reencrypt(engine, batch_size=args.batch_size)
    for column in report.columns:
        _out(
            f"{column.context}: {column.rewritten} omkrypterade, {column.raced} ändrades "
            f"samtidigt, {len(column.unreadable)} gick inte att öppna, {column.remaining} kvar"
        )
        for row_id in column.unreadable:
            _out(f"  gick inte att öppna: rad {row_id}")
    if report.complete:
        _out(
            f"Alla värden är krypterade med fältnyckel {report.active_key_id}; "
            "äldre nycklar kan tas bort ur nyckelringen."
        )
        return 0
    _out("Alla värden är inte flyttade: kör kommandot igen, eller se raderna ovan.")
    return 1


def cmd_demo_seed(_args: argparse.Namespace) -> int:
    settings = _settings()
    if settings.is_production:
        raise SystemExit(
            "Demodata skapas aldrig i produktion (SAMSYN_ENV=production): demokontona har ett "
            "känt lösenord."
        )
    keys, engine = _open(settings)
    try:
        seeded = _seed_demo(engine, keys)
    finally:
        engine.dispose()
    _out("Demodata skapad." if seeded else "Demodata finns redan.")
    return 0


def _seed_demo(engine: Engine, keys: KeySet) -> bool:
    """Seed the demo municipality unless it is there; whether it was seeded.

    The seed is a bulk load, so the planner's statistics are gathered right after it. Without
    them PostgreSQL guesses until autovacuum comes round, a minute or more later, and it
    guessed wrong for the scope's check on every consent-gated read: it found the case among
    all the agency's cases instead of by its key, a third of a case read's database time."""
    from domain import demo

    with new_session(engine) as session:
        if demo.is_seeded(session):
            return False
        demo.seed(session, index=keys.blind_index)
        session.commit()
    gather_planner_statistics(engine)
    return True


def cmd_consent_sweep(_args: argparse.Namespace) -> int:
    """Move the cases whose consent time has changed, as the background sweep does."""
    settings = _settings()
    _, engine = _open(settings)
    report = sweep(engine)
    for moved in report.moved:
        _out(
            f"{moved.reference}: {STATE_LABELS[CaseState(moved.from_state)]} → "
            f"{STATE_LABELS[CaseState(moved.to_state)]} ({MOVE_REASON_LABELS[moved.reason]})"
        )
    _out(f"{report.examined} öppna ärenden granskade, {len(report.moved)} flyttade.")
    if report.raced:
        _out(f"{report.raced} ärenden ändrades samtidigt av någon annan; nästa körning tar dem.")
    return 0


def cmd_audit_checkpoint(args: argparse.Namespace) -> int:
    """Integrate whatever waits, then print (and export) the latest signed note. With an
    export directory configured, the log must extend the note there, as for the sequencer."""
    from api.main import log_signer

    settings = _settings()
    keys, engine = _open(settings)
    signer = log_signer(settings, keys)
    export_dir = settings.audit_export_dir
    try:
        anchor = read_export(export_dir, signer) if export_dir is not None else None
        with new_session(engine) as session:
            integrate_all(session, signer, anchor=anchor)
            if anchor is not None:
                check_current_tree(session, anchor)
            session.commit()
            latest = latest_checkpoint(session)
    except ExportMismatch as exc:
        _out(f"VÄGRAR SIGNERA: {exc}. Loggen stämmer inte med den exporterade kontrollpunkten.")
        return 1
    if latest is None:
        _out("Loggen är tom: ingen kontrollpunkt ännu.")
        return 0
    signed = signer.verifies(latest.note)
    if signed is None or signed.size != latest.size:
        _out(
            f"Kontrollpunkten vid storlek {latest.size} har ingen giltig signatur: exporteras inte."
        )
        return 1
    if export_dir is not None and (anchor is None or anchor.size < latest.size):
        export_note(latest.note, export_dir)
    if args.export:
        Path(args.export).parent.mkdir(parents=True, exist_ok=True)
        Path(args.export).write_text(latest.note, encoding="utf-8")
    sys.stdout.write(latest.note)
    return 0


def _external_checkpoints(paths: Sequence[Path]) -> list[SignedCheckpoint]:
    found: list[SignedCheckpoint] = []
    for path in paths:
        files = sorted(path.glob("*.note")) if path.is_dir() else [path]
        for file in files:
            try:
                found.append(parse_note(file.read_text(encoding="utf-8")))
            except (OSError, CheckpointError) as exc:
                raise SystemExit(f"{file}: not a signed checkpoint ({exc})") from None
    return found


def cmd_audit_verify(args: argparse.Namespace) -> int:
    """Check the log against the verifier key only: the signing key is never read, so an
    auditor's machine (or one whose key file was replaced) checks independently."""
    settings = _settings()
    vkey = args.vkey or settings.audit_verifier_key
    if not vkey:
        _out(
            "Ange verifieringsnyckeln med --vkey eller SAMSYN_AUDIT_VERIFIER_KEY "
            "(skriv ut den med `samsyn audit public-key` och förvara den utanför systemet)."
        )
        return 2
    try:
        key_name, public_key = parse_public_key_text(vkey.strip())
    except CheckpointError as exc:
        _out(f"Ogiltig verifieringsnyckel: {exc}")
        return 2
    engine = make_engine(settings.resolved_database_url)
    paths = [Path(given) for given in args.checkpoint or []]
    export_dir = None if args.no_export_dir else settings.audit_export_dir
    if export_dir is not None and export_dir.is_dir():
        paths.append(export_dir)
    external = _external_checkpoints(paths)
    state_path = Path(args.state) if args.state else None
    if state_path is None and export_dir is not None:
        state_path = export_dir / STATE_FILE
    since = None
    if args.incremental:
        if state_path is None:
            _out("--incremental behöver --state FILE eller SAMSYN_AUDIT_EXPORT_DIR.")
            return 2
        try:
            since = read_state(state_path)
        except StateError as exc:
            _out(f"LOGGEN KAN INTE KONTROLLERAS STEGVIS: {exc}.")
            return 1
        if since is None:
            _out(
                f"Ingen kontrollerad kontrollpunkt sparad i {state_path}: hela loggen kontrolleras."
            )
    with new_session(engine) as session:
        if since is None:
            report = verify_log(
                session,
                public_key=public_key,
                key_name=key_name,
                origin=settings.audit_origin,
                external=external,
                export_expected=export_dir is not None,
            )
        else:
            report = verify_incremental(
                session,
                since=since,
                public_key=public_key,
                key_name=key_name,
                origin=settings.audit_origin,
                external=external,
                export_expected=export_dir is not None,
            )
    _out(
        f"Löv: {report.size}, kontrollerade positioner: {report.start}–{report.size}, "
        f"kontrollpunkter i databasen: {report.checkpoints_checked}, "
        f"externa kontrollpunkter: {report.external_checked}"
    )
    if report.ok and state_path is not None and report.verified_note is not None:
        write_state(state_path, report.verified_note)
    if report.ok:
        _out("Loggen är intakt.")
        return 0
    first = report.first_bad_position
    if first is None:
        _out("LOGGEN ÄR INTE INTAKT.")
    elif report.first_bad_position_is_exact:
        _out(f"LOGGEN ÄR INTE INTAKT. Första felaktiga position: {first}.")
    else:
        _out(f"LOGGEN ÄR INTE INTAKT. Första felaktiga position: {first} eller senare.")
    for problem in report.problems:
        _out(f"  {problem}")
    return 1


def cmd_audit_prove_inclusion(args: argparse.Namespace) -> int:
    settings = _settings()
    _, engine = _open(settings)
    with new_session(engine) as session:
        proof = prove_inclusion(session, event_id=uuid.UUID(args.event_id), size=args.size)
    _out(
        json.dumps(
            {
                "event_id": str(proof.event_id),
                "position": proof.position,
                "size": proof.checkpoint.size,
                "leaf_hash": proof.leaf_hash.hex(),
                "path": [h.hex() for h in proof.path],
                "checkpoint": proof.checkpoint.note,
            },
            indent=2,
        )
    )
    return 0


def cmd_audit_prove_consistency(args: argparse.Namespace) -> int:
    settings = _settings()
    _, engine = _open(settings)
    with new_session(engine) as session:
        proof = prove_consistency(session, old_size=args.old_size, new_size=args.new_size)
    _out(
        json.dumps(
            {
                "old_size": proof.old.size,
                "new_size": proof.new.size,
                "path": [h.hex() for h in proof.path],
                "old_checkpoint": proof.old.note,
                "new_checkpoint": proof.new.note,
            },
            indent=2,
        )
    )
    return 0


def cmd_audit_public_key(_args: argparse.Namespace) -> int:
    from api.main import load_app_keys

    settings = _settings()
    keys = load_app_keys(settings, dict(os.environ))
    _out(public_key_text(keys.audit_signing.public_key(), settings.audit_origin))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="samsyn", description="Samsyn – samverkan kring unga (SSPF/SIG)"
    )
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="start the web server")
    run.add_argument(
        "--demo", action="store_true", help="seed the demo municipality on first start"
    )
    run.add_argument("--migrate", action="store_true", help="also migrate in production")
    run.set_defaults(func=cmd_run)

    db = sub.add_parser("db", help="database migrations").add_subparsers(
        dest="db_command", required=True
    )
    up = db.add_parser("upgrade")
    up.add_argument("revision", nargs="?", default="head")
    up.set_defaults(func=cmd_db_upgrade)
    down = db.add_parser("downgrade")
    down.add_argument("revision")
    down.set_defaults(func=cmd_db_downgrade)

    agency = sub.add_parser("agency", help="organisations").add_subparsers(
        dest="agency_command", required=True
    )
    create = agency.add_parser("create")
    create.add_argument("--name", required=True)
    create.add_argument("--kind", required=True, choices=[k.value for k in AgencyKind])
    create.add_argument("--area", help="the part of the municipality it serves (stadsdel)")
    create.set_defaults(func=cmd_agency_create)
    agency.add_parser("list").set_defaults(func=cmd_agency_list)

    user = sub.add_parser("user", help="staff accounts").add_subparsers(
        dest="user_command", required=True
    )
    ucreate = user.add_parser("create")
    ucreate.add_argument("--username", required=True)
    ucreate.add_argument("--name", required=True, help="display name")
    ucreate.add_argument("--agency", required=True, help="agency id or exact name")
    ucreate.add_argument("--role", required=True, action="append", choices=[r.value for r in Role])
    ucreate.add_argument(
        "--password-stdin", action="store_true", help="read the password from stdin"
    )
    ucreate.add_argument(
        "--programme",
        action="append",
        choices=["SSPF", "SIG"],
        help="a coordinator's programme (repeat for both): they see its cases and no other",
    )
    ucreate.set_defaults(func=cmd_user_create)
    progs = user.add_parser("set-programmes", help="the programmes a coordinator coordinates")
    progs.add_argument("--username", required=True)
    progs.add_argument("--programme", action="append", choices=["SSPF", "SIG"])
    progs.set_defaults(func=cmd_user_set_programmes)
    setpw = user.add_parser("set-password")
    setpw.add_argument("--username", required=True)
    setpw.add_argument("--password-stdin", action="store_true")
    setpw.set_defaults(func=cmd_user_set_password)
    reset = user.add_parser(
        "reset-totp", help="a lost phone: the user enrols again at the next login"
    )
    reset.add_argument("--username", required=True)
    reset.set_defaults(func=cmd_user_reset_totp)
    unlock = user.add_parser("unlock", help="lift a lockout after failed logins")
    unlock.add_argument("--username", required=True)
    unlock.set_defaults(func=cmd_user_unlock)
    for command, help_text in (
        ("disable", "disable an account and end its sessions (a federated login cannot undo it)"),
        ("enable", "enable an account again"),
    ):
        toggle = user.add_parser(command, help=help_text)
        toggle.add_argument("--username", required=True)
        toggle.set_defaults(func=cmd_user_set_active)
    user.add_parser("list").set_defaults(func=cmd_user_list)

    keys = sub.add_parser("keys", help="key management").add_subparsers(
        dest="keys_command", required=True
    )
    keys.add_parser("rotate-field-key", help="add a new active field-encryption key").set_defaults(
        func=cmd_keys_rotate
    )
    reencrypt_cmd = keys.add_parser(
        "reencrypt",
        help="rewrite every encrypted value under the active key (after a rotation or upgrade)",
    )
    reencrypt_cmd.add_argument(
        "--batch-size", type=int, default=500, help="rows per transaction (default 500)"
    )
    reencrypt_cmd.set_defaults(func=cmd_keys_reencrypt)

    audit_cmd = sub.add_parser("audit", help="the tamper-evident audit log").add_subparsers(
        dest="audit_command", required=True
    )
    checkpoint = audit_cmd.add_parser(
        "checkpoint",
        help="integrate pending events, print the latest signed note",
        description=(
            "Integrate pending events and print the latest signed note. With "
            "SAMSYN_AUDIT_EXPORT_DIR set, the log must extend the note exported there "
            "(else nothing is signed and the exit status is 1), and the new note is exported."
        ),
    )
    checkpoint.add_argument(
        "--export", metavar="FILE", help="also write the note to FILE (keep it elsewhere)"
    )
    checkpoint.set_defaults(func=cmd_audit_checkpoint)
    verify = audit_cmd.add_parser(
        "verify",
        help="recompute the whole log and check every checkpoint against the verifier key",
        description=(
            "Recompute the whole log and check it against the signed checkpoints, using only "
            "the verifier key (never the signing key). Reads the notes in "
            "SAMSYN_AUDIT_EXPORT_DIR too, when set. Exit status 0: intact; 1: not intact; "
            "2: no usable verifier key."
        ),
    )
    verify.add_argument(
        "--vkey",
        metavar="KEY",
        help=(
            "the log's verifier key, name+hash+key (C2SP vkey, from `samsyn audit public-key`); "
            "default SAMSYN_AUDIT_VERIFIER_KEY"
        ),
    )
    verify.add_argument(
        "--checkpoint",
        action="append",
        metavar="PATH",
        help=(
            "a signed note kept outside the database, or a directory of *.note files "
            "(witness cosignatures are accepted; only the log key's signature counts)"
        ),
    )
    verify.add_argument(
        "--no-export-dir",
        action="store_true",
        help="do not read SAMSYN_AUDIT_EXPORT_DIR",
    )
    verify.add_argument(
        "--incremental",
        action="store_true",
        help=(
            "check only what came after the checkpoint the last run verified (the state "
            "file), with a consistency proof from it; a changed old event is not seen: run "
            "the full verify regularly too (e.g. weekly)"
        ),
    )
    verify.add_argument(
        "--state",
        metavar="FILE",
        help=(
            "where the last verified checkpoint is remembered, outside the database "
            f"(default: {STATE_FILE} in SAMSYN_AUDIT_EXPORT_DIR); every intact run updates it"
        ),
    )
    verify.set_defaults(func=cmd_audit_verify)
    inclusion = audit_cmd.add_parser("prove-inclusion", help="inclusion proof for one event")
    inclusion.add_argument("event_id")
    inclusion.add_argument("--size", type=int, help="checkpoint size (default: the latest)")
    inclusion.set_defaults(func=cmd_audit_prove_inclusion)
    consistency = audit_cmd.add_parser(
        "prove-consistency", help="consistency proof between checkpoints"
    )
    consistency.add_argument("old_size", type=int)
    consistency.add_argument("new_size", type=int, nargs="?")
    consistency.set_defaults(func=cmd_audit_prove_consistency)
    audit_cmd.add_parser(
        "public-key",
        help="print the verifier key (C2SP vkey) for `audit verify --vkey`; keep it elsewhere",
    ).set_defaults(func=cmd_audit_public_key)

    consent_cmd = sub.add_parser("consent", help="consent").add_subparsers(
        dest="consent_command", required=True
    )
    consent_cmd.add_parser(
        "sweep", help="move cases whose consent has expired or changed with a birthday"
    ).set_defaults(func=cmd_consent_sweep)

    demo_cmd = sub.add_parser("demo", help="demo data").add_subparsers(
        dest="demo_command", required=True
    )
    demo_cmd.add_parser("seed").set_defaults(func=cmd_demo_seed)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "run":
        configure_logging(json=False, level="WARNING")
    try:
        return int(args.func(args))
    except DomainError as exc:
        _out(f"Fel: {exc.detail}")
        for error in exc.errors:
            _out(f"  {error.field}: {error.message}")
        return 1
