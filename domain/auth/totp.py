"""Time-based one-time passwords (RFC 6238): 6 digits, 30-second steps, SHA-1, as every
authenticator app expects. Pure: the caller supplies the time and the last step used.

A code is accepted for the current step and one step either side (clock drift), and only
for a step later than the last one accepted, so a code can never be used twice (RFC 6238
§5.2).
"""

from __future__ import annotations

import hmac
from datetime import datetime

import pyotp

DIGITS = 6
STEP_SECONDS = 30
DRIFT_STEPS = 1
ISSUER = "Samsyn"


def new_secret() -> str:
    """160 random bits, base32 (RFC 4226 §4 recommends at least 160)."""
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, *, account: str, issuer: str = ISSUER) -> str:
    """The otpauth:// URI an authenticator app reads from the QR code."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).provisioning_uri(
        name=account, issuer_name=issuer
    )


def step_at(moment: datetime) -> int:
    return int(moment.timestamp()) // STEP_SECONDS


def code_at(secret: str, step: int) -> str:
    return pyotp.TOTP(secret, digits=DIGITS, interval=STEP_SECONDS).generate_otp(step)


def normalise(code: str) -> str | None:
    """Digits only, as typed with or without spaces; None when it cannot be a code."""
    digits = "".join(code.split())
    return digits if len(digits) == DIGITS and digits.isascii() and digits.isdigit() else None


def matching_step(secret: str, code: str, *, now: datetime, last_step: int | None) -> int | None:
    """The step `code` belongs to, if it is valid now and newer than `last_step`. A code that
    is also the code of a step already used is refused: two steps in the window can share a
    code (one in a million), and the used one's code must never let anyone in again."""
    typed = normalise(code)
    if typed is None:
        return None
    current = step_at(now)
    for step in range(current - DRIFT_STEPS, current + DRIFT_STEPS + 1):
        if hmac.compare_digest(code_at(secret, step), typed):
            return None if last_step is not None and step <= last_step else step
    return None


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing it into an app by hand."""
    return " ".join(secret[i : i + 4] for i in range(0, len(secret), 4))
