"""Password hashing with scrypt. The parameters are stored with each hash, so they can grow:
a login with a hash weaker than today's default stores a new one (`needs_rehash`)."""

from __future__ import annotations

import base64
import os
import threading
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


@dataclass(frozen=True)
class ScryptParams:
    """n = 2^17, r = 8, p = 1: the OWASP recommendation for scrypt. One hash needs
    128·r·n bytes = 128 MiB of memory and about a third of a second of one core."""

    n: int = 2**17
    r: int = 8
    p: int = 1

    @property
    def memory_bytes(self) -> int:
        return 128 * self.r * (self.n + self.p)

    def weaker_than(self, other: ScryptParams) -> bool:
        return self.n < other.n or self.r < other.r or self.p < other.p


DEFAULT_PARAMS = ScryptParams()
MIN_LENGTH = 12
MAX_LENGTH = 256
# A stored hash asking for more memory than this is not one we wrote (the default needs
# 128 MiB); refusing it also keeps values that would overflow the library's integers
# (OverflowError, or a Rust panic) or exhaust memory away from it.
MAX_MEMORY_BYTES = 2**30
# At most this many hashes are computed at once, so a burst of logins (or of guesses) cannot
# take more than this many times 128 MiB; more at once would not be faster on few cores.
MAX_CONCURRENT_HASHES = max(1, min(4, os.cpu_count() or 1))
_hashing = threading.BoundedSemaphore(MAX_CONCURRENT_HASHES)


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    params = params or DEFAULT_PARAMS
    salt = os.urandom(16)
    with _hashing:
        digest = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(
            password.encode()
        )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def _params_of(stored: str) -> ScryptParams | None:
    parts = stored.split("$")
    if len(parts) != 6 or parts[0] != "scrypt":
        return None
    try:
        params = ScryptParams(n=int(parts[1]), r=int(parts[2]), p=int(parts[3]))
    except ValueError:
        return None
    if min(params.n, params.r, params.p) < 1 or params.memory_bytes > MAX_MEMORY_BYTES:
        return None
    return params


def verify_password(password: str, stored: str) -> bool:
    params = _params_of(stored)
    if params is None:
        return False
    _, _, _, _, salt, digest = stored.split("$")
    try:
        kdf = Scrypt(salt=base64.b64decode(salt), length=32, n=params.n, r=params.r, p=params.p)
        with _hashing:
            kdf.verify(password.encode(), base64.b64decode(digest))
    except (ValueError, InvalidKey):
        return False
    return True


def needs_rehash(stored: str, params: ScryptParams | None = None) -> bool:
    """Whether a hash was made with weaker parameters than `params` (the default): after a
    successful login the password is hashed again. A stronger hash is left as it is."""
    current = _params_of(stored)
    return current is None or current.weaker_than(params or DEFAULT_PARAMS)


# Hashes to verify against when the user does not exist, so timing does not reveal usernames;
# one per parameter set, made at first use, so the work matches a real user's current hash.
_dummies: dict[ScryptParams, str] = {}
_dummies_lock = threading.Lock()


def burn_time(password: str) -> None:
    params = DEFAULT_PARAMS
    with _dummies_lock:
        dummy = _dummies.get(params)
        if dummy is None:
            dummy = _dummies[params] = hash_password("no such user, constant work", params)
    verify_password(password, dummy)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, in Swedish; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Lösenordet måste ha minst {MIN_LENGTH} tecken."
    if len(password) > MAX_LENGTH:
        return f"Lösenordet får ha högst {MAX_LENGTH} tecken."
    return None
