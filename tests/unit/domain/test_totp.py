"""TOTP codes against RFC 6238's own test vectors, the drift window, and one use per code."""

from __future__ import annotations

import base64
from datetime import UTC, datetime

from hypothesis import example, given
from hypothesis import strategies as st

from domain.auth import totp

# RFC 6238 Appendix B: the SHA-1 seed is the ASCII string "12345678901234567890".
RFC_SECRET = base64.b32encode(b"12345678901234567890").decode()
RFC_VECTORS = {59: "94287082", 1111111109: "07081804", 1234567890: "89005924"}


def test_codes_match_the_rfc_6238_vectors() -> None:
    for seconds, eight_digits in RFC_VECTORS.items():
        step = totp.step_at(datetime.fromtimestamp(seconds, UTC))
        assert totp.code_at(RFC_SECRET, step) == eight_digits[-6:]


def test_new_secrets_are_160_bit_base32_and_differ() -> None:
    first, second = totp.new_secret(), totp.new_secret()
    assert len(base64.b32decode(first)) == 20
    assert first != second


def test_the_provisioning_uri_names_issuer_and_account() -> None:
    uri = totp.provisioning_uri(RFC_SECRET, account="skola")
    assert uri.startswith("otpauth://totp/Samsyn:skola?")
    assert f"secret={RFC_SECRET}" in uri
    assert "issuer=Samsyn" in uri


def test_typed_codes_may_contain_spaces_but_nothing_else() -> None:
    assert totp.normalise(" 123 456 ") == "123456"
    assert totp.normalise("12345") is None
    assert totp.normalise("12345a") is None
    assert totp.normalise("１２３４５６") is None  # full-width digits are not ASCII


@given(
    moment=st.integers(min_value=10**9, max_value=4 * 10**9),
    offset=st.integers(min_value=-4, max_value=4),
)
def test_a_code_is_valid_one_step_either_side_of_now(moment: int, offset: int) -> None:
    now = datetime.fromtimestamp(moment, UTC)
    step = totp.step_at(now) + offset
    code = totp.code_at(RFC_SECRET, step)
    found = totp.matching_step(RFC_SECRET, code, now=now, last_step=None)
    if abs(offset) <= totp.DRIFT_STEPS:
        assert found is not None
        assert totp.code_at(RFC_SECRET, found) == code
    else:
        # Another step's code may equal it by chance (1 in a million): then only a step
        # inside the window may match, never the one outside it.
        assert found is None or abs(found - totp.step_at(now)) <= totp.DRIFT_STEPS


@given(moment=st.integers(min_value=10**9, max_value=4 * 10**9))
@example(moment=1_512_728_400)  # two adjacent steps share the code 070562 (CI found it)
def test_a_code_is_accepted_once(moment: int) -> None:
    now = datetime.fromtimestamp(moment, UTC)
    code = totp.code_at(RFC_SECRET, totp.step_at(now))
    step = totp.matching_step(RFC_SECRET, code, now=now, last_step=None)
    assert step is not None
    assert totp.matching_step(RFC_SECRET, code, now=now, last_step=step) is None
    # ... and a code from an earlier step than the last one used is refused as well.
    earlier = totp.code_at(RFC_SECRET, step - 1)
    assert totp.matching_step(RFC_SECRET, earlier, now=now, last_step=step) is None


def test_the_secret_is_grouped_for_typing() -> None:
    assert totp.grouped("ABCDEFGHIJ") == "ABCD EFGH IJ"
