"""How an encrypted column's reader takes the row id the database gives it as text: the id's
16 bytes for exactly the spellings SQLite and PostgreSQL use, nothing for anything else (the
value is then refused as read without its row id)."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.db import _row_key


@given(st.uuids())
def test_both_databases_spellings_give_the_ids_bytes(row_id: uuid.UUID) -> None:
    assert _row_key(row_id.hex) == row_id.bytes  # SQLite: CHAR(32)
    assert _row_key(str(row_id)) == row_id.bytes  # PostgreSQL: uuid as text
    assert _row_key(str(row_id).upper()) == row_id.bytes


@pytest.mark.parametrize(
    "text",
    [
        "",
        "12345",
        "0" * 31,
        "0" * 33,
        "g" * 32,
        "00 112233445566778899aabbccddeef",  # 32 characters: `bytes.fromhex` skips the space
        "{" + "0" * 32 + "}",
        "0" * 30 + "\n0",
    ],
)
def test_anything_else_gives_nothing(text: str) -> None:
    assert _row_key(text) is None
