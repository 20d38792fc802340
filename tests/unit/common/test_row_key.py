"""How an encrypted column's reader takes the row id the database gives it as text: the id's
16 bytes for exactly the spellings SQLite and PostgreSQL use, nothing for anything else (the
value is then refused as read without its row id). And a value read as stored (`Sealed`)
opens like the column's own reads: for its row and column only."""

from __future__ import annotations

import uuid

import pytest
from hypothesis import given
from hypothesis import strategies as st

from common.crypto import KeyMaterialError
from common.db import Sealed, _row_key
from common.keys import KeySet


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


def test_a_sealed_value_opens_for_its_own_row_only_and_never_shows(keys: KeySet) -> None:
    row_id, other = uuid.uuid4(), uuid.uuid4()
    stored = keys.field.encrypt("Norra Demo", context="young_person.home_area", row_id=row_id)
    sealed = Sealed("young_person.home_area", stored, row_id.hex)
    assert "Norra" not in repr(sealed)
    assert sealed.open() == "Norra Demo"
    assert sealed.open() == "Norra Demo"  # kept once opened
    assert "Norra" not in repr(sealed)
    with pytest.raises(KeyMaterialError):
        Sealed("young_person.home_area", stored, str(other)).open()
    with pytest.raises(KeyMaterialError):
        Sealed("young_person.first_name", stored, str(row_id)).open()
    with pytest.raises(KeyMaterialError):
        Sealed("young_person.home_area", stored, "not an id").open()
