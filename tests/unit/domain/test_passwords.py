"""Password hashing with scrypt, and the password policy."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.auth import passwords
from domain.auth.passwords import (
    MAX_LENGTH,
    MIN_LENGTH,
    ScryptParams,
    hash_password,
    password_problem,
    verify_password,
)

FAST = ScryptParams(n=2**10)
PASSWORD = "korrekt häst batteri häftklammer"

# Each example derives a key at least once; keep the count small.
few = settings(max_examples=25, deadline=None)


@pytest.fixture(scope="module")
def stored() -> str:
    return hash_password(PASSWORD, FAST)


def fields(stored: str) -> list[str]:
    return stored.split("$")


class TestHashAndVerify:
    def test_right_password_verifies(self, stored: str) -> None:
        assert verify_password(PASSWORD, stored) is True

    @few
    @given(st.text(max_size=64))
    def test_any_password_round_trips(self, password: str) -> None:
        assert verify_password(password, hash_password(password, FAST)) is True

    @few
    @given(st.text(max_size=64), st.text(max_size=64))
    def test_another_password_fails(self, password: str, other: str) -> None:
        stored = hash_password(password, FAST)

        assert verify_password(other, stored) is (other == password)

    @pytest.mark.parametrize(
        "attempt",
        [
            "",
            "korrekt häst batteri häftklammer ",
            "Korrekt häst batteri häftklammer",
            "korrekt hast batteri haftklammer",
            "korrekt häst batteri häftklamme",
        ],
    )
    def test_near_misses_fail(self, stored: str, attempt: str) -> None:
        assert verify_password(attempt, stored) is False

    def test_same_password_gives_different_hashes(self) -> None:
        first = hash_password(PASSWORD, FAST)
        second = hash_password(PASSWORD, FAST)

        assert first != second
        assert fields(first)[4] != fields(second)[4]  # the salt
        assert verify_password(PASSWORD, first)
        assert verify_password(PASSWORD, second)

    def test_hash_does_not_contain_the_password(self, stored: str) -> None:
        assert PASSWORD not in stored
        assert "häst" not in stored


class TestStoredParameters:
    def test_format_is_scheme_parameters_salt_and_digest(self, stored: str) -> None:
        scheme, n, r, p, salt, digest = fields(stored)

        assert (scheme, n, r, p) == ("scrypt", "1024", "8", "1")
        assert len(base64.b64decode(salt, validate=True)) == 16
        assert len(base64.b64decode(digest, validate=True)) == 32

    def test_parameters_are_stored_with_the_hash(self) -> None:
        params = ScryptParams(n=2**11, r=4, p=2)

        stored = hash_password(PASSWORD, params)

        assert fields(stored)[1:4] == ["2048", "4", "2"]

    def test_verification_uses_the_stored_parameters(self) -> None:
        stored = hash_password(PASSWORD, ScryptParams(n=2**9, r=4, p=2))

        assert verify_password(PASSWORD, stored) is True
        assert verify_password("fel lösenord här", stored) is False

    @pytest.mark.parametrize(("index", "value"), [(1, "2048"), (2, "4"), (3, "2")])
    def test_changed_parameters_do_not_verify(self, stored: str, index: int, value: str) -> None:
        parts = fields(stored)
        parts[index] = value

        assert verify_password(PASSWORD, "$".join(parts)) is False

    def test_default_parameters_are_read_when_hashing(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", ScryptParams(n=2**9, r=2, p=1))

        stored = hash_password(PASSWORD)

        assert fields(stored)[1:4] == ["512", "2", "1"]
        assert verify_password(PASSWORD, stored) is True

    def test_production_parameters_are_n_2_17_r_8(self) -> None:
        """OWASP's scrypt parameters; 128 MiB each, within what a stored hash may ask for."""
        params = ScryptParams()

        assert (params.n, params.r, params.p) == (2**17, 8, 1)
        assert 128 * 2**20 <= params.memory_bytes <= passwords.MAX_MEMORY_BYTES

    def test_the_production_parameters_work_with_the_library(self) -> None:
        """One real hash at 2^17 (the library's memory limit must allow 128 MiB)."""
        stored = hash_password(PASSWORD, ScryptParams())

        assert fields(stored)[1:4] == [str(2**17), "8", "1"]
        assert verify_password(PASSWORD, stored) is True


class TestNeedsRehash:
    CURRENT = ScryptParams(n=2**11, r=8, p=1)

    @pytest.mark.parametrize(
        ("made_with", "rehash"),
        [
            (ScryptParams(n=2**10, r=8, p=1), True),  # fewer iterations
            (ScryptParams(n=2**11, r=4, p=1), True),  # smaller blocks
            (ScryptParams(n=2**12, r=4, p=1), True),  # one weaker parameter is enough
            (ScryptParams(n=2**11, r=8, p=1), False),
            (ScryptParams(n=2**12, r=8, p=1), False),  # stronger: never weakened
            (ScryptParams(n=2**11, r=8, p=2), False),
        ],
    )
    def test_a_hash_weaker_than_the_current_parameters(
        self, made_with: ScryptParams, rehash: bool
    ) -> None:
        assert passwords.needs_rehash(hash_password(PASSWORD, made_with), self.CURRENT) is rehash

    def test_the_current_default_is_the_measure(self, monkeypatch: pytest.MonkeyPatch) -> None:
        stored = hash_password(PASSWORD, ScryptParams(n=2**10))
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", ScryptParams(n=2**10))
        assert passwords.needs_rehash(stored) is False
        monkeypatch.setattr(passwords, "DEFAULT_PARAMS", ScryptParams(n=2**11))
        assert passwords.needs_rehash(stored) is True

    def test_text_that_is_no_hash_needs_one(self) -> None:
        assert passwords.needs_rehash("plain text") is True


def test_at_most_a_few_hashes_are_computed_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each hash takes 128 MiB: a burst of logins must not take it many times over."""
    limit = passwords.MAX_CONCURRENT_HASHES
    lock, entered, release = threading.Lock(), threading.Semaphore(0), threading.Event()
    inside = most = 0

    class HeldScrypt:
        def __init__(self, **_params: object) -> None:
            pass

        def derive(self, _password: bytes) -> bytes:
            nonlocal inside, most
            with lock:
                inside += 1
                most = max(most, inside)
            entered.release()
            release.wait(30)
            with lock:
                inside -= 1
            return bytes(32)

    monkeypatch.setattr(passwords, "Scrypt", HeldScrypt)
    threads = [threading.Thread(target=hash_password, args=(PASSWORD,)) for _ in range(limit + 3)]
    for thread in threads:
        thread.start()
    for _ in range(limit):
        assert entered.acquire(timeout=30)
    assert not entered.acquire(timeout=0.5)  # the others wait for a turn
    release.set()
    for thread in threads:
        thread.join(30)
    assert most == limit


def replace_field(stored: str, index: int, value: str) -> str:
    parts = fields(stored)
    parts[index] = value
    return "$".join(parts)


class TestMalformedStoredHashes:
    @pytest.mark.parametrize("malformed", ["", "plain text", "scrypt", "$$$$$", "scrypt$$$$$"])
    def test_text_that_is_no_hash_is_false(self, malformed: str) -> None:
        assert verify_password(PASSWORD, malformed) is False

    @pytest.mark.parametrize(
        "alter",
        [
            lambda s: s + "$",
            lambda s: s.rsplit("$", 1)[0],
            lambda s: s.replace("scrypt$", "bcrypt$", 1),
            lambda s: s.replace("scrypt$", "SCRYPT$", 1),
        ],
    )
    def test_altered_hash_is_false(self, stored: str, alter: Callable[[str], str]) -> None:
        assert verify_password(PASSWORD, alter(stored)) is False

    @pytest.mark.parametrize(
        ("index", "value"),
        [
            (1, "x"),
            (1, ""),
            (1, "0"),
            (1, "1"),
            (1, "1000"),  # not a power of two
            (1, "-1024"),  # negative: overflows an unsigned integer
            (1, "1.5"),
            (1, str(2**30)),  # a terabyte of memory
            (1, str(2**63)),  # overflows inside the library
            (1, str(2**64)),
            (1, "9" * 40),
            (2, "0"),
            (2, "-8"),
            (2, str(2**40)),
            (3, "0"),
            (3, "-1"),
            (3, str(2**40)),
            (4, "***"),
            (4, "é"),
            (5, "***"),
            (5, ""),
            (5, base64.b64encode(b"\x00" * 31).decode()),  # digest too short
            (5, base64.b64encode(b"\x00" * 32).decode()),  # wrong digest
        ],
    )
    def test_malformed_field_is_false_not_an_error(
        self, stored: str, index: int, value: str
    ) -> None:
        malformed = replace_field(stored, index, value)

        assert malformed != stored
        assert verify_password(PASSWORD, malformed) is False

    @given(st.text(max_size=120))
    def test_arbitrary_text_never_verifies(self, text: str) -> None:
        assert verify_password(PASSWORD, text) is False

    @few
    @given(st.integers(min_value=1, max_value=5), st.text(max_size=30))
    def test_any_field_replaced_by_text_does_not_raise(
        self, stored: str, index: int, text: str
    ) -> None:
        # Text may happen to spell the same field (" 1024"), so only the type is certain.
        result = verify_password(PASSWORD, replace_field(stored, index, text))

        assert isinstance(result, bool)

    # Costs between 2**11 and 2**20 are legitimate and merely slow, so they are left out.
    @given(st.one_of(st.integers(max_value=2**10 - 1), st.integers(min_value=2**21)))
    def test_any_other_cost_does_not_verify(self, stored: str, n: int) -> None:
        assert verify_password(PASSWORD, replace_field(stored, 1, str(n))) is False

    def test_password_that_cannot_be_encoded_does_not_verify(self, stored: str) -> None:
        assert verify_password("\ud800", stored) is False


class TestPasswordProblem:
    @pytest.mark.parametrize("length", [0, 1, MIN_LENGTH - 1])
    def test_too_short(self, length: int) -> None:
        problem = password_problem("a" * length)

        assert problem is not None
        assert str(MIN_LENGTH) in problem
        assert "minst" in problem

    @pytest.mark.parametrize("length", [MAX_LENGTH + 1, 10 * MAX_LENGTH])
    def test_too_long(self, length: int) -> None:
        problem = password_problem("a" * length)

        assert problem is not None
        assert str(MAX_LENGTH) in problem
        assert "högst" in problem

    @pytest.mark.parametrize("length", [MIN_LENGTH, MIN_LENGTH + 1, MAX_LENGTH])
    def test_lengths_within_the_limits_are_accepted(self, length: int) -> None:
        assert password_problem("a" * length) is None

    def test_length_counts_characters_not_bytes(self) -> None:
        assert password_problem("å" * MIN_LENGTH) is None
        assert password_problem("å" * (MIN_LENGTH - 1)) is not None
