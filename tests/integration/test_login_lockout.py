"""Concurrent login attempts, on SQLite and PostgreSQL: the lockout counts every one of them.

Each attempt is decided after the attempts that raced it were recorded (`domain.auth.service`
takes the name's and the address's lock rows first), so firing many guesses at once gets no
more of them answered than firing them one by one.
"""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from common.db import new_session
from domain.auth import service as auth
from domain.auth.lockout import LockoutPolicy
from domain.auth.passwords import ScryptParams, hash_password
from domain.users.models import LoginAttempt, User
from tests.builders import PASSWORD, make_agency, make_user

GUESSES = 8
POLICY = auth.SessionPolicy(idle=timedelta(minutes=5), absolute=timedelta(hours=1))
# Slower than the tests' default hash, so the guesses overlap while their passwords are checked.
SLOW = ScryptParams(n=2**14)


def _users(engine: Engine, count: int) -> list[str]:
    with new_session(engine) as session:
        agency = make_agency(session)
        names = []
        for _ in range(count):
            user = make_user(session, agency)
            user.password_hash = hash_password(PASSWORD, SLOW)
            session.add(user)
            names.append(user.username)
        session.commit()
    return names


def _guess_at_once(
    engine: Engine, names: list[str], address: str, lockout: LockoutPolicy
) -> Counter[str]:
    """Every name guessed with a wrong password, all at once; how the logins were refused."""
    start = threading.Barrier(len(names))

    def guess(name: str) -> str:
        start.wait()
        with new_session(engine) as session:
            result = auth.login(
                session,
                username=name,
                password="fel-lösenord-123",
                kind="api",
                policy=POLICY,
                client_address=address,
                second_factor_required=False,
                lockout=lockout,
            )
            session.commit()
        assert isinstance(result, auth.LoginRefused)
        return result.reason.value

    with ThreadPoolExecutor(max_workers=len(names)) as pool:
        return Counter(pool.map(guess, names))


def _failures(engine: Engine) -> int:
    with new_session(engine) as session:
        rows = session.exec(select(LoginAttempt).where(col(LoginAttempt.succeeded).is_(False)))
        return len(rows.all())


def test_concurrent_guesses_at_one_name_get_no_more_answers_than_the_lockout_allows(
    engine: Engine,
) -> None:
    [name] = _users(engine, 1)
    lockout = LockoutPolicy(account_failures=3, backoff_after=100)
    outcomes = _guess_at_once(engine, [name] * GUESSES, "192.0.2.1", lockout)
    assert outcomes == Counter({"bad_credentials": 3, "locked_out": GUESSES - 3})
    assert _failures(engine) == 3


def test_concurrent_guesses_from_one_address_count_for_the_address(engine: Engine) -> None:
    names = _users(engine, GUESSES)
    lockout = LockoutPolicy(address_failures=3, backoff_after=100)
    outcomes = _guess_at_once(engine, names, "192.0.2.2", lockout)
    assert outcomes == Counter({"bad_credentials": 3, "locked_out": GUESSES - 3})
    assert _failures(engine) == 3


@pytest.mark.parametrize("right", [True, False])
def test_a_right_password_during_a_lockout_tells_nothing(engine: Engine, right: bool) -> None:
    [name] = _users(engine, 1)
    lockout = LockoutPolicy(account_failures=1, backoff_after=100)
    assert _guess_at_once(engine, [name], "192.0.2.3", lockout) == Counter(["bad_credentials"])
    with new_session(engine) as session:
        result = auth.login(
            session,
            username=name,
            password=PASSWORD if right else "fel-igen-123456",
            kind="api",
            policy=POLICY,
            client_address="192.0.2.3",
            second_factor_required=False,
            lockout=lockout,
        )
        session.commit()
    assert isinstance(result, auth.LoginRefused)
    assert result.reason is auth.RefusalReason.LOCKED_OUT
    with new_session(engine) as session:
        user = session.exec(select(User).where(User.username == name)).one()
        assert user.password_hash is not None
        assert user.password_hash.startswith(f"scrypt${SLOW.n}$")  # not rehashed either
