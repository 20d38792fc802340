"""Password hashing with scrypt. The parameters are stored with each hash, so they can grow."""

from __future__ import annotations

import base64
import os
from dataclasses import dataclass

from cryptography.exceptions import InvalidKey
from cryptography.hazmat.primitives.kdf.scrypt import Scrypt


@dataclass(frozen=True)
class ScryptParams:
    n: int = 2**15
    r: int = 8
    p: int = 1


DEFAULT_PARAMS = ScryptParams()
MIN_LENGTH = 12
MAX_LENGTH = 256
# scrypt needs about 128·r·(n + p) bytes. A stored hash asking for more than this is not one
# we wrote (the default needs 32 MiB); refusing it also keeps values that would overflow the
# library's integers (OverflowError, or a Rust panic) or exhaust memory away from it.
MAX_MEMORY_BYTES = 2**30


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def hash_password(password: str, params: ScryptParams | None = None) -> str:
    params = params or DEFAULT_PARAMS
    salt = os.urandom(16)
    digest = Scrypt(salt=salt, length=32, n=params.n, r=params.r, p=params.p).derive(
        password.encode()
    )
    return f"scrypt${params.n}${params.r}${params.p}${_b64(salt)}${_b64(digest)}"


def verify_password(password: str, stored: str) -> bool:
    try:
        scheme, n_text, r_text, p_text, salt, digest = stored.split("$")
        n, r, p = int(n_text), int(r_text), int(p_text)
        if scheme != "scrypt" or min(n, r, p) < 1 or 128 * r * (n + p) > MAX_MEMORY_BYTES:
            return False
        kdf = Scrypt(salt=base64.b64decode(salt), length=32, n=n, r=r, p=p)
        kdf.verify(password.encode(), base64.b64decode(digest))
    except (ValueError, InvalidKey):
        return False
    return True


# A hash to verify against when the user does not exist, so timing does not reveal usernames.
_DUMMY = hash_password("no such user, constant work")


def burn_time(password: str) -> None:
    verify_password(password, _DUMMY)


def password_problem(password: str) -> str | None:
    """Why a new password is not acceptable, in Swedish; None when it is."""
    if len(password) < MIN_LENGTH:
        return f"Lösenordet måste ha minst {MIN_LENGTH} tecken."
    if len(password) > MAX_LENGTH:
        return f"Lösenordet får ha högst {MAX_LENGTH} tecken."
    return None
