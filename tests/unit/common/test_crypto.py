"""Field encryption (AES-GCM with key id and context) and the blind index."""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import string
import uuid

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from hypothesis import given
from hypothesis import strategies as st

from common import crypto
from common.crypto import (
    BlindIndex,
    FieldKeyRing,
    KeyMaterialError,
    Pseudonymiser,
    decode_key,
    encode_key,
    field_keyring,
    install_field_keyring,
)

OLD_KEY = bytes(range(32))
NEW_KEY = bytes(range(100, 132))
CONTEXT = "young_person.first_name"
ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")
BASE64URL = string.ascii_letters + string.digits + "-_"
STORED = re.compile(r"^v2\.(?P<key_id>[A-Za-z0-9_-]{1,32})\.(?P<body>[A-Za-z0-9_-]+)$")

texts = st.text(max_size=200)


def ring(active: str = "old", **keys: bytes) -> FieldKeyRing:
    return FieldKeyRing(keys=keys or {"old": OLD_KEY}, active_id=active)


def split(stored: str) -> tuple[str, str]:
    """(prefix "v2.<id>.", body)"""
    prefix, _, body = stored.rpartition(".")
    return prefix + ".", body


class TestRoundTrip:
    @given(texts)
    def test_decrypt_gives_back_what_was_encrypted(self, text: str) -> None:
        keys = ring()

        assert (
            keys.decrypt(
                keys.encrypt(text, context=CONTEXT, row_id=ROW), context=CONTEXT, row_id=ROW
            )
            == text
        )

    @pytest.mark.parametrize(
        "text", ["", "Åsa Öberg-Ärlig", "19811218-9876", "Ø æ ß 😀 \u0000 \n", "x" * 10_000]
    )
    def test_examples_round_trip(self, text: str) -> None:
        keys = ring()

        assert (
            keys.decrypt(
                keys.encrypt(text, context=CONTEXT, row_id=ROW), context=CONTEXT, row_id=ROW
            )
            == text
        )

    @given(texts)
    def test_stored_form_is_version_key_id_and_base64url(self, text: str) -> None:
        stored = ring().encrypt(text, context=CONTEXT, row_id=ROW)
        match = STORED.match(stored)

        assert match is not None, stored
        assert match["key_id"] == "old"
        assert FieldKeyRing.key_id_of(stored) == "old"
        # nonce (12) + ciphertext (as long as the UTF-8 text) + tag (16)
        raw = base64.urlsafe_b64decode(match["body"] + "=" * (-len(match["body"]) % 4))
        assert len(raw) == 12 + len(text.encode("utf-8")) + 16

    def test_plaintext_does_not_appear_in_the_stored_value(self) -> None:
        text = "Hemligt Namn Hemligt Namn"
        stored = ring().encrypt(text, context=CONTEXT, row_id=ROW)

        assert "Hemligt" not in stored
        assert base64.urlsafe_b64encode(text.encode()).decode()[:12] not in stored

    @given(texts)
    def test_two_encryptions_of_the_same_text_differ(self, text: str) -> None:
        keys = ring()
        first = keys.encrypt(text, context=CONTEXT, row_id=ROW)
        second = keys.encrypt(text, context=CONTEXT, row_id=ROW)

        assert first != second
        assert keys.decrypt(first, context=CONTEXT, row_id=ROW) == keys.decrypt(
            second, context=CONTEXT, row_id=ROW
        )


class TestRefusal:
    @given(texts, st.text(max_size=40))
    def test_wrong_context_fails(self, text: str, other_context: str) -> None:
        keys = ring()
        stored = keys.encrypt(text, context=CONTEXT, row_id=ROW)

        if other_context == CONTEXT:
            assert keys.decrypt(stored, context=other_context, row_id=ROW) == text
        else:
            with pytest.raises(KeyMaterialError):
                keys.decrypt(stored, context=other_context, row_id=ROW)

    def test_value_copied_to_another_column_fails(self) -> None:
        keys = ring()
        stored = keys.encrypt("Anna", context="young_person.first_name", row_id=ROW)

        with pytest.raises(KeyMaterialError, match=re.escape("young_person.last_name")):
            keys.decrypt(stored, context="young_person.last_name", row_id=ROW)

    def test_same_key_from_another_ring_with_a_different_key_fails(self) -> None:
        stored = ring().encrypt("Anna", context=CONTEXT, row_id=ROW)
        impostor = ring(old=NEW_KEY)

        with pytest.raises(KeyMaterialError, match="'old'"):
            impostor.decrypt(stored, context=CONTEXT, row_id=ROW)

    @pytest.mark.parametrize("text", ["", "a", "ab", "abc", "Åsa", "Öberg-Ärlig"])
    def test_changing_any_character_of_the_body_fails(self, text: str) -> None:
        keys = ring()
        stored = keys.encrypt(text, context=CONTEXT, row_id=ROW)
        prefix, body = split(stored)
        replacements = BASE64URL + "=+/. é"

        for index, original in enumerate(body):
            for char in replacements:
                if char == original:
                    continue
                tampered = prefix + body[:index] + char + body[index + 1 :]
                with pytest.raises(KeyMaterialError):
                    keys.decrypt(tampered, context=CONTEXT, row_id=ROW)

    @given(texts, st.data())
    def test_dropping_or_adding_body_characters_fails(self, text: str, data: st.DataObject) -> None:
        keys = ring()
        prefix, body = split(keys.encrypt(text, context=CONTEXT, row_id=ROW))
        cut = data.draw(st.integers(min_value=0, max_value=len(body) - 1), label="cut")
        extra = data.draw(st.text(alphabet=BASE64URL, min_size=1, max_size=4), label="extra")

        for tampered in (body[:cut] + body[cut + 1 :], body + extra, body[:cut]):
            with pytest.raises(KeyMaterialError):
                keys.decrypt(prefix + tampered, context=CONTEXT, row_id=ROW)

    @pytest.mark.parametrize(
        "stored",
        [
            "",
            "plain text",
            "v1",
            "v1.old",
            "v1.old.",
            "v1.old.A",
            "v1.old.AAAA",
            "v1.old." + "A" * 38,  # long enough to hold nonce and tag, but wrong
            "v1.old.!!!!",
            "v2.old.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "v3.old.AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            "v0.Norra Demo",  # a migration's mark on a value still in clear
            "v0.",
        ],
    )
    def test_malformed_values_fail_with_key_material_error(self, stored: str) -> None:
        with pytest.raises(KeyMaterialError):
            ring().decrypt(stored, context=CONTEXT, row_id=ROW)

    def test_value_relabelled_with_another_key_id_fails(self) -> None:
        keys = ring("old", old=OLD_KEY, new=NEW_KEY)
        stored = keys.encrypt("Anna", context=CONTEXT, row_id=ROW)

        with pytest.raises(KeyMaterialError):
            keys.decrypt(stored.replace("v2.old.", "v2.new.", 1), context=CONTEXT, row_id=ROW)


def legacy_v1(key_id: str, key: bytes, plaintext: str, *, context: str) -> str:
    """A value as written before v2: AES-GCM with the column alone as associated data."""
    nonce = bytes(range(12))
    sealed = AESGCM(key).encrypt(nonce, plaintext.encode(), context.encode())
    body = base64.urlsafe_b64encode(nonce + sealed).rstrip(b"=").decode()
    return f"v1.{key_id}.{body}"


class TestRowBinding:
    """v2 binds the key id, the column and the row: a copied value opens nowhere else."""

    @given(st.uuids(), st.uuids())
    def test_value_copied_to_another_row_fails(self, row: uuid.UUID, other: uuid.UUID) -> None:
        keys = ring()
        stored = keys.encrypt("Anna", context=CONTEXT, row_id=row)

        if other == row:
            assert keys.decrypt(stored, context=CONTEXT, row_id=other) == "Anna"
        else:
            with pytest.raises(KeyMaterialError, match=f"of row {other}"):
                keys.decrypt(stored, context=CONTEXT, row_id=other)

    def test_associated_data_is_length_prefixed_so_parts_cannot_shift(self) -> None:
        row = uuid.UUID(int=1)
        # Moving a character from the key id into the column must not give the same bytes.
        first = crypto.associated_data("ab", context="c.d", row_id=row)
        second = crypto.associated_data("a", context="bc.d", row_id=row)

        assert first != second
        assert first == (
            b"\x00\x00\x00\x02v2"
            + b"\x00\x00\x00\x02ab"
            + b"\x00\x00\x00\x03c.d"
            + b"\x00\x00\x00\x10"
            + row.bytes
        )

    def test_key_id_is_bound_even_where_two_ids_hold_the_same_key(self) -> None:
        keys = ring("old", old=OLD_KEY, twin=OLD_KEY)
        stored = keys.encrypt("Anna", context=CONTEXT, row_id=ROW)

        with pytest.raises(KeyMaterialError):
            keys.decrypt(stored.replace("v2.old.", "v2.twin.", 1), context=CONTEXT, row_id=ROW)

    def test_v1_values_still_open_in_any_row_of_their_column(self) -> None:
        stored = legacy_v1("old", OLD_KEY, "Åsa", context=CONTEXT)

        assert ring().decrypt(stored, context=CONTEXT, row_id=ROW) == "Åsa"
        assert ring().decrypt(stored, context=CONTEXT, row_id=uuid.UUID(int=7)) == "Åsa"
        with pytest.raises(KeyMaterialError):
            ring().decrypt(stored, context="young_person.last_name", row_id=ROW)

    def test_only_v2_under_the_active_key_is_current(self) -> None:
        keys = ring("new", old=OLD_KEY, new=NEW_KEY)

        assert keys.is_current(keys.encrypt("a", context=CONTEXT, row_id=ROW))
        assert not keys.is_current(ring("old").encrypt("a", context=CONTEXT, row_id=ROW))
        assert not keys.is_current(legacy_v1("new", NEW_KEY, "a", context=CONTEXT))
        assert not keys.is_current("v0.new")


def test_key_material_never_shows_in_a_repr() -> None:
    """Tracebacks that print locals and log lines that print objects must not carry keys."""
    keys = ring("old", old=OLD_KEY, new=NEW_KEY)

    for shown in (repr(keys), repr(BlindIndex(NEW_KEY))):
        assert repr(OLD_KEY) not in shown
        assert repr(NEW_KEY) not in shown
        assert encode_key(NEW_KEY) not in shown


class TestRotation:
    def test_rotated_ring_reads_old_values_and_writes_with_the_new_key(self) -> None:
        before = ring("old", old=OLD_KEY)
        written_before = before.encrypt("Åsa", context=CONTEXT, row_id=ROW)
        after = ring("new", old=OLD_KEY, new=NEW_KEY)

        written_after = after.encrypt("Åsa", context=CONTEXT, row_id=ROW)

        assert FieldKeyRing.key_id_of(written_before) == "old"
        assert FieldKeyRing.key_id_of(written_after) == "new"
        assert after.decrypt(written_before, context=CONTEXT, row_id=ROW) == "Åsa"
        assert after.decrypt(written_after, context=CONTEXT, row_id=ROW) == "Åsa"

    def test_ring_without_the_old_key_names_the_missing_key_id(self) -> None:
        written = ring("old", old=OLD_KEY).encrypt("Åsa", context=CONTEXT, row_id=ROW)
        only_new = ring("new", new=NEW_KEY)

        with pytest.raises(KeyMaterialError, match="'old'"):
            only_new.decrypt(written, context=CONTEXT, row_id=ROW)

    def test_old_ring_cannot_read_values_written_with_the_new_key(self) -> None:
        written = ring("new", old=OLD_KEY, new=NEW_KEY).encrypt("Åsa", context=CONTEXT, row_id=ROW)

        with pytest.raises(KeyMaterialError, match="'new'"):
            ring("old", old=OLD_KEY).decrypt(written, context=CONTEXT, row_id=ROW)


class TestRingValidation:
    def test_active_key_must_be_in_the_ring(self) -> None:
        with pytest.raises(KeyMaterialError, match="'missing'"):
            FieldKeyRing(keys={"old": OLD_KEY}, active_id="missing")

    @pytest.mark.parametrize("length", [0, 16, 24, 31, 33, 64])
    def test_keys_must_be_32_bytes(self, length: int) -> None:
        with pytest.raises(KeyMaterialError, match="32 bytes"):
            FieldKeyRing(keys={"k": b"\x01" * length}, active_id="k")

    def test_inactive_keys_are_checked_too(self) -> None:
        with pytest.raises(KeyMaterialError, match="'short'"):
            FieldKeyRing(keys={"k": OLD_KEY, "short": b"\x01" * 16}, active_id="k")

    @pytest.mark.parametrize("key_id", ["", "a.b", "a b", "x" * 33, "å", "a/b", "k\n"])
    def test_key_ids_are_short_and_plain(self, key_id: str) -> None:
        with pytest.raises(KeyMaterialError, match="key id"):
            FieldKeyRing(keys={key_id: OLD_KEY}, active_id=key_id)

    @pytest.mark.parametrize("key_id", ["k", "k20250101120000ab12", "A-_9", "x" * 32])
    def test_plain_key_ids_are_accepted(self, key_id: str) -> None:
        keys = FieldKeyRing(keys={key_id: OLD_KEY}, active_id=key_id)

        assert FieldKeyRing.key_id_of(keys.encrypt("a", context=CONTEXT, row_id=ROW)) == key_id


class TestBlindIndex:
    def test_same_key_and_input_give_the_same_index(self) -> None:
        assert BlindIndex(OLD_KEY).of("198112189876") == BlindIndex(OLD_KEY).of("198112189876")

    def test_different_keys_give_different_indexes(self) -> None:
        assert BlindIndex(OLD_KEY).of("198112189876") != BlindIndex(NEW_KEY).of("198112189876")

    @given(st.text(), st.text())
    def test_different_inputs_give_different_indexes(self, first: str, second: str) -> None:
        index = BlindIndex(OLD_KEY)

        assert (index.of(first) == index.of(second)) == (first == second)

    def test_index_is_hex_sha256_hmac(self) -> None:
        # RFC 4231 test case 6: a 131-byte key of 0xaa.
        index = BlindIndex(b"\xaa" * 131)

        assert index.of("Test Using Larger Than Block-Size Key - Hash Key First") == (
            "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"
        )

    def test_index_does_not_contain_the_input(self) -> None:
        assert "198112189876" not in BlindIndex(OLD_KEY).of("198112189876")

    @pytest.mark.parametrize("length", [0, 1, 16, 31])
    def test_keys_shorter_than_32_bytes_are_refused(self, length: int) -> None:
        with pytest.raises(KeyMaterialError, match="32 bytes"):
            BlindIndex(b"\x01" * length)

    @pytest.mark.parametrize("length", [32, 64])
    def test_keys_of_32_bytes_or_more_are_accepted(self, length: int) -> None:
        assert len(BlindIndex(b"\x01" * length).of("x")) == 64


class TestKeyEncoding:
    @given(st.binary(max_size=128))
    def test_encode_decode_round_trip(self, key: bytes) -> None:
        encoded = encode_key(key)

        assert decode_key(encoded) == key
        assert decode_key(encoded + "\n") == key
        assert "=" not in encoded
        assert set(encoded) <= set(BASE64URL)


class TestInstalledKeyRing:
    def test_no_key_ring_installed_is_an_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(crypto, "_keyring", None)

        with pytest.raises(KeyMaterialError, match="no field key ring"):
            field_keyring()

    def test_installed_key_ring_is_returned(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(crypto, "_keyring", None)
        keys = ring()

        install_field_keyring(keys)

        assert field_keyring() is keys


class TestPseudonyms:
    INDEX = BlindIndex(OLD_KEY).of("200901012384")

    def test_stable_within_one_agreement_across_its_periods(self) -> None:
        stats = Pseudonymiser(NEW_KEY)
        first = stats.scoped("young_people", "agreement-1").of(self.INDEX)
        again = Pseudonymiser(NEW_KEY).scoped("young_people", "agreement-1").of(self.INDEX)
        assert first == again
        assert len(first) == 16

    def test_unlinkable_across_agreements_domains_and_keys(self) -> None:
        stats = Pseudonymiser(NEW_KEY)
        seen = {
            stats.scoped("young_people", "agreement-1").of(self.INDEX),
            stats.scoped("young_people", "agreement-2").of(self.INDEX),
            stats.scoped("guardians", "agreement-1").of(self.INDEX),
            Pseudonymiser(OLD_KEY).scoped("young_people", "agreement-1").of(self.INDEX),
        }
        assert len(seen) == 4
        assert all(p.hex() not in self.INDEX for p in seen)

    def test_the_key_is_hkdf_then_hmac_sha256(self) -> None:
        # Computed independently with the standard library (RFC 5869 HKDF, RFC 2104 HMAC).
        info = b"samsyn-statistics|young_people|agreement-1"
        prk = hmac.new(b"\x00" * 32, NEW_KEY, hashlib.sha256).digest()
        okm = hmac.new(prk, info + b"\x01", hashlib.sha256).digest()
        expected = hmac.new(okm, self.INDEX.encode(), hashlib.sha256).digest()[:16]
        scope = Pseudonymiser(NEW_KEY).scoped("young_people", "agreement-1")
        assert scope.of(self.INDEX) == expected

    def test_short_keys_are_refused(self) -> None:
        with pytest.raises(KeyMaterialError):
            Pseudonymiser(b"short")
