"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes (Ed25519).

Besides round trips, two outside anchors: the signed-note example of golang.org/x/mod
sumdb/note (key hash, verifier key text and signature bytes), and two real signed tree
heads of sum.golang.org, which must parse and verify under its published key.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from hypothesis import given, settings
from hypothesis import strategies as st

from audit.checkpoints import (
    Checkpoint,
    CheckpointError,
    NoteSignature,
    SignedCheckpoint,
    key_hash,
    parse_note,
    parse_public_key_text,
    public_key_text,
    sign_checkpoint,
    verify_signed,
)
from audit.merkle import EMPTY_ROOT

ORIGIN = "samsyn.example/audit"
ROOT = bytes(range(32))
ROOT_B64 = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="
EM_DASH = "\u2014"
ED25519 = bytes([1])  # signature type byte
URL_SAFE_ROOT = base64.urlsafe_b64encode(bytes([0xFB]) * 32).decode()  # has '-' and '_'

PRIVATE_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"samsyn test key").digest())
PUBLIC_KEY = PRIVATE_KEY.public_key()
OTHER_KEY = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"another key").digest())
CHECKPOINT = Checkpoint(ORIGIN, 12345, ROOT)
SIGNED = sign_checkpoint(CHECKPOINT, PRIVATE_KEY, ORIGIN)
NOTE = SIGNED.to_note()


def first_line_changed(signed: SignedCheckpoint, **changes: object) -> SignedCheckpoint:
    line = dataclasses.replace(signed.signatures[0], **changes)  # type: ignore[arg-type]
    return SignedCheckpoint(signed.checkpoint, (line, *signed.signatures[1:]))


def raw(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


# --- outside anchors -----------------------------------------------------------------------

# golang.org/x/mod/sumdb/note, package documentation example.
GO_SIGNER = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz"
GO_VERIFIER = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"
GO_TEXT = (
    b"If you think cryptography is the answer to your problem,\n"
    b"then you don't know what your problem is.\n"
)
GO_SIGNATURE = (
    "x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM="
)

# sum.golang.org: its verifier key (cmd/go) and two signed tree heads it served.
SUMDB_KEY = "sum.golang.org+033de0ae+Ac4zctda0e5eza+HJyk9SxEdh+s3Ux18htTTAD8OuAn8"
SUMDB_NOTES = [
    "go.sum database tree\n31700353\nqINS1GRFhWHwdkUeqLEoP4yEMkTBBzxBkGwGQlVlVcs=\n\n"
    "— sum.golang.org Az3grnmrIUEDFqHzAElIQCPNoRFRAAdFo47fooyWKMHb89k11GJh5zHIfNCOBmwn"
    "/C3YI8oW9/C8DJ87F61QqspBYwM=\n",
    "go.sum database tree\n65209736\n5+uGFjx6xBZG8ip1+wi77v+grwbhhukIrxEUS8PXvRo=\n\n"
    "— sum.golang.org Az3grnbssgK7ubgFX36gVETtNv0U23qxyAhAMai2QUfeGa3nB/akvkMdlUErfcZz7l"
    "/R3cVtYspg3dxXABkGZZKdsQ8=\n",
]


class TestOutsideAnchors:
    def test_go_note_example(self) -> None:
        seed = base64.b64decode(GO_SIGNER.split("+", 4)[4])
        assert seed[0] == 0x01
        private_key = Ed25519PrivateKey.from_private_bytes(seed[1:])
        public_key = private_key.public_key()
        assert key_hash("PeterNeumann", public_key) == bytes.fromhex("c74f20a3")
        assert public_key_text(public_key, "PeterNeumann") == GO_VERIFIER
        hash_and_signature = key_hash("PeterNeumann", public_key) + private_key.sign(GO_TEXT)
        assert b64(hash_and_signature) == GO_SIGNATURE
        name, parsed = parse_public_key_text(GO_VERIFIER)
        assert (name, raw(parsed)) == ("PeterNeumann", raw(public_key))

    @pytest.mark.parametrize("note", SUMDB_NOTES)
    def test_real_sum_golang_org_checkpoints_verify(self, note: str) -> None:
        name, public_key = parse_public_key_text(SUMDB_KEY)  # its base64 holds '+'
        assert name == "sum.golang.org"
        signed = parse_note(note)
        assert signed.checkpoint.origin == "go.sum database tree"
        assert signed.key_name == "sum.golang.org"
        assert signed.key_hash == bytes.fromhex("033de0ae")
        assert verify_signed(signed, public_key)
        assert signed.to_note() == note
        moved = dataclasses.replace(signed.checkpoint, size=signed.checkpoint.size + 1)
        assert not verify_signed(dataclasses.replace(signed, checkpoint=moved), public_key)


# --- format --------------------------------------------------------------------------------


class TestFormat:
    def test_body_is_exactly_three_lines(self) -> None:
        assert CHECKPOINT.body() == f"{ORIGIN}\n12345\n{ROOT_B64}\n".encode()
        empty = Checkpoint(ORIGIN, 0, EMPTY_ROOT)
        empty_b64 = "47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="
        assert empty.body() == f"{ORIGIN}\n0\n{empty_b64}\n".encode()

    def test_body_is_utf8(self) -> None:
        body = Checkpoint("kommun.example/logg-ö", 1, ROOT).body()
        assert body.startswith("kommun.example/logg-\u00f6\n".encode())
        assert b"logg-\xc3\xb6\n" in body

    def test_note_layout(self) -> None:
        blob = b64(SIGNED.key_hash + SIGNED.signature)
        expected = f"{ORIGIN}\n12345\n{ROOT_B64}\n\n{EM_DASH} {ORIGIN} {blob}\n"
        assert expected == NOTE
        assert NOTE.encode().startswith(CHECKPOINT.body() + b"\n\xe2\x80\x94 ")
        assert len(base64.b64decode(blob)) == 68

    def test_signature_is_over_the_body(self) -> None:
        PUBLIC_KEY.verify(SIGNED.signature, CHECKPOINT.body())  # raises if not

    def test_key_hash_definition(self) -> None:
        material = b"some.name\n\x01" + raw(PUBLIC_KEY)
        assert key_hash("some.name", PUBLIC_KEY) == hashlib.sha256(material).digest()[:4]
        assert key_hash("some.name", PUBLIC_KEY) != key_hash("other.name", PUBLIC_KEY)

    def test_public_key_text_layout(self) -> None:
        text = public_key_text(PUBLIC_KEY, ORIGIN)
        hash_hex = key_hash(ORIGIN, PUBLIC_KEY).hex()
        assert text == f"{ORIGIN}+{hash_hex}+{b64(ED25519 + raw(PUBLIC_KEY))}"


# --- round trips and verification ----------------------------------------------------------


class TestRoundTrip:
    def test_sign_note_parse_verify(self) -> None:
        parsed = parse_note(NOTE)
        assert parsed == SIGNED
        assert parsed.checkpoint == CHECKPOINT
        assert verify_signed(parsed, PUBLIC_KEY)
        assert parsed.to_note() == NOTE

    @given(
        origin=st.text(st.characters(exclude_categories=["Cs", "Cc"]), min_size=1, max_size=40),
        size=st.integers(0, 2**64 - 1),
        root=st.binary(min_size=32, max_size=32),
    )
    @settings(max_examples=100, deadline=None)
    def test_any_checkpoint_round_trips(self, origin: str, size: int, root: bytes) -> None:
        signed = sign_checkpoint(Checkpoint(origin, size, root), PRIVATE_KEY, "k.example")
        parsed = parse_note(signed.to_note())
        assert parsed == signed
        assert verify_signed(parsed, PUBLIC_KEY)

    def test_public_key_text_round_trips(self) -> None:
        for name in (ORIGIN, "a", "kommun.example/revision-ö", "x" * 200):
            for private_key in (PRIVATE_KEY, OTHER_KEY):
                public_key = private_key.public_key()
                parsed_name, parsed = parse_public_key_text(public_key_text(public_key, name))
                assert parsed_name == name
                assert raw(parsed) == raw(public_key)


class TestVerifySigned:
    def test_wrong_key(self) -> None:
        assert not verify_signed(SIGNED, OTHER_KEY.public_key())

    def test_wrong_key_even_with_its_key_hash(self) -> None:
        """A key hash is only an identifier: the signature must still verify."""
        forged = first_line_changed(SIGNED, key_hash=key_hash(ORIGIN, OTHER_KEY.public_key()))
        assert not verify_signed(forged, OTHER_KEY.public_key())

    def test_right_key_wrong_key_hash_or_name(self) -> None:
        assert not verify_signed(first_line_changed(SIGNED, key_hash=b"\x00" * 4), PUBLIC_KEY)
        assert not verify_signed(first_line_changed(SIGNED, key_name="other.name"), PUBLIC_KEY)

    @pytest.mark.parametrize(
        "changed",
        [
            Checkpoint(ORIGIN, 12346, ROOT),
            Checkpoint(ORIGIN, 12344, ROOT),
            Checkpoint(ORIGIN, 0, ROOT),
            Checkpoint(ORIGIN, 12345, bytes([1]) + ROOT[1:]),
            Checkpoint(ORIGIN, 12345, EMPTY_ROOT),
            Checkpoint(ORIGIN + "x", 12345, ROOT),
            Checkpoint("samsyn.example/other", 12345, ROOT),
        ],
    )
    def test_altered_checkpoint(self, changed: Checkpoint) -> None:
        assert not verify_signed(dataclasses.replace(SIGNED, checkpoint=changed), PUBLIC_KEY)

    def test_every_altered_signature_bit(self) -> None:
        for bit in range(64 * 8):
            signature = bytearray(SIGNED.signature)
            signature[bit // 8] ^= 1 << (bit % 8)
            altered = first_line_changed(SIGNED, signature=bytes(signature))
            assert not verify_signed(altered, PUBLIC_KEY)

    def test_altered_note_text_still_parses_but_fails(self) -> None:
        for old, new in [("12345", "12346"), (ORIGIN, "samsyn.example/audiT"), ("AAEC", "AAED")]:
            altered = parse_note(NOTE.replace(old, new, 1))
            assert not verify_signed(altered, PUBLIC_KEY)

    @given(data=st.data())
    @settings(max_examples=300, deadline=None)
    def test_any_single_edit_of_the_note_is_refused(self, data: st.DataObject) -> None:
        """Replace, insert or delete one character: the note no longer parses or verifies."""
        position = data.draw(st.integers(0, len(NOTE)), label="position")
        char = data.draw(st.characters(), label="char")
        kind = data.draw(st.sampled_from(["replace", "insert", "delete"]), label="kind")
        if kind == "insert":
            edited = NOTE[:position] + char + NOTE[position:]
        elif kind == "delete":
            edited = NOTE[:position] + NOTE[position + 1 :]
        else:
            edited = NOTE[:position] + char + NOTE[position + 1 :]
        if edited == NOTE:
            return
        try:
            parsed = parse_note(edited)
        except CheckpointError:
            return
        assert parsed.to_note() == edited, "only canonical notes parse"
        assert not verify_signed(parsed, PUBLIC_KEY)


# --- malformed input -----------------------------------------------------------------------

SIG_LINE = NOTE.split("\n")[-2]
BODY = CHECKPOINT.body().decode()
BLOB = SIG_LINE.split(" ")[2]


def note_with(body: str = BODY, signature_lines: str = SIG_LINE + "\n") -> str:
    return f"{body}\n{signature_lines}"


MALFORMED_NOTES = {
    "empty": "",
    "only a newline": "\n",
    "no final newline": NOTE[:-1],
    "extra final newline": NOTE + "\n",
    "no blank line": BODY + SIG_LINE + "\n",
    "no signature line": BODY + "\n",
    "signature line blank": note_with(signature_lines="\n"),
    "the same signature line twice": note_with(signature_lines=f"{SIG_LINE}\n{SIG_LINE}\n"),
    "extension line": note_with(body=BODY + "extension\n"),
    "two time lines": note_with(body=BODY + "time 1\ntime 1\n"),
    "time with a leading zero": note_with(body=BODY + "time 01\n"),
    "negative time": note_with(body=BODY + "time -1\n"),
    "time past int64": note_with(body=BODY + f"time {2**63}\n"),
    "time with two spaces": note_with(body=BODY + "time  1\n"),
    "time before the root": note_with(body=f"{ORIGIN}\n12345\ntime 1\n{ROOT_B64}\n"),
    "missing root line": note_with(body=f"{ORIGIN}\n12345\n"),
    "blank line in body": note_with(body=f"{ORIGIN}\n\n12345\n{ROOT_B64}\n"),
    "empty origin": note_with(body=f"\n12345\n{ROOT_B64}\n"),
    "leading zero": note_with(body=f"{ORIGIN}\n012345\n{ROOT_B64}\n"),
    "plus sign": note_with(body=f"{ORIGIN}\n+12345\n{ROOT_B64}\n"),
    "negative size": note_with(body=f"{ORIGIN}\n-1\n{ROOT_B64}\n"),
    "spaced size": note_with(body=f"{ORIGIN}\n 12345\n{ROOT_B64}\n"),
    "hex size": note_with(body=f"{ORIGIN}\n0x10\n{ROOT_B64}\n"),
    "arabic-indic digits": note_with(body=f"{ORIGIN}\n١٢\n{ROOT_B64}\n"),
    "underscore size": note_with(body=f"{ORIGIN}\n12_345\n{ROOT_B64}\n"),
    "empty size": note_with(body=f"{ORIGIN}\n\n{ROOT_B64}\n"),
    "size past uint64": note_with(body=f"{ORIGIN}\n{2**64}\n{ROOT_B64}\n"),
    "root not base64": note_with(body=f"{ORIGIN}\n12345\n{'!' * 44}\n"),
    "root too short": note_with(body=f"{ORIGIN}\n12345\n{b64(ROOT[:31])}\n"),
    "root too long": note_with(body=f"{ORIGIN}\n12345\n{b64(ROOT + b'!')}\n"),
    "root without padding": note_with(body=f"{ORIGIN}\n12345\n{ROOT_B64[:-1]}\n"),
    "root url-safe base64": note_with(body=f"{ORIGIN}\n12345\n{URL_SAFE_ROOT}\n"),
    "root non-canonical": note_with(body=f"{ORIGIN}\n12345\n{ROOT_B64[:-2]}9=\n"),
    "hyphen for em dash": NOTE.replace(EM_DASH, "-"),
    "en dash for em dash": NOTE.replace(EM_DASH, "\u2013"),
    "no space after dash": NOTE.replace(f"{EM_DASH} ", EM_DASH),
    "two spaces": NOTE.replace(f"{ORIGIN} {BLOB}", f"{ORIGIN}  {BLOB}"),
    "missing blob": note_with(signature_lines=f"{EM_DASH} {ORIGIN}\n"),
    "missing name": note_with(signature_lines=f"{EM_DASH} {BLOB}\n"),
    "extra field": note_with(signature_lines=f"{SIG_LINE} extra\n"),
    "plus in key name": note_with(signature_lines=f"{EM_DASH} a+b {BLOB}\n"),
    "blob only a key hash": note_with(signature_lines=f"{EM_DASH} k {b64(b'x' * 4)}\n"),
    "a good line and a bad one": note_with(signature_lines=f"{SIG_LINE}\n{EM_DASH} k\n"),
    "blob not base64": note_with(signature_lines=f"{EM_DASH} k {'*' * 92}\n"),
    "crlf": NOTE.replace("\n", "\r\n"),
    "tab": NOTE.replace(ORIGIN, ORIGIN + "\t"),
    "nul": NOTE.replace(ORIGIN, ORIGIN + "\x00"),
    "lone surrogate": NOTE.replace(ORIGIN, ORIGIN + "\ud800"),
    "non-breaking space in name": NOTE.replace(f"{EM_DASH} {ORIGIN}", f"{EM_DASH} a\u00a0b"),
    "garbage": "\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
    "decoded latin-1 bytes": bytes(range(256)).decode("latin-1"),
}


class TestMalformed:
    @pytest.mark.parametrize("text", MALFORMED_NOTES.values(), ids=MALFORMED_NOTES.keys())
    def test_note_is_refused(self, text: str) -> None:
        with pytest.raises(CheckpointError):
            parse_note(text)

    @pytest.mark.parametrize("value", [NOTE.encode(), None, 12345])
    def test_note_that_is_not_text(self, value: object) -> None:
        with pytest.raises(CheckpointError):
            parse_note(value)  # type: ignore[arg-type]

    @given(st.text(max_size=300))
    @settings(max_examples=300, deadline=None)
    def test_random_text_raises_only_checkpoint_error(self, text: str) -> None:
        with contextlib.suppress(CheckpointError):
            parse_note(text)

    def test_checkpoint_error_is_a_value_error(self) -> None:
        assert issubclass(CheckpointError, ValueError)

    @pytest.mark.parametrize(
        ("origin", "size", "root"),
        [
            ("", 0, ROOT),
            ("two\nlines", 0, ROOT),
            ("tab\there", 0, ROOT),
            ("surrogate\udc80", 0, ROOT),
            (ORIGIN, -1, ROOT),
            (ORIGIN, 2**64, ROOT),
            (ORIGIN, True, ROOT),
            (ORIGIN, 1, ROOT[:31]),
            (ORIGIN, 1, ROOT + b"\x00"),
            (ORIGIN, 1, ROOT_B64),
        ],
    )
    def test_checkpoint_refuses(self, origin: str, size: int, root: bytes) -> None:
        with pytest.raises(CheckpointError):
            Checkpoint(origin, size, root)

    def test_checkpoint_allows_spaces_in_origin(self) -> None:
        assert Checkpoint("go.sum database tree", 2**64 - 1, ROOT).size == 2**64 - 1

    @pytest.mark.parametrize(
        ("key_name", "hash_bytes", "signature"),
        [
            ("", b"\x00" * 4, b"\x00" * 64),
            ("a b", b"\x00" * 4, b"\x00" * 64),
            ("a+b", b"\x00" * 4, b"\x00" * 64),
            ("a\u2003b", b"\x00" * 4, b"\x00" * 64),
            ("k", b"\x00" * 3, b"\x00" * 64),
            ("k", b"\x00" * 5, b"\x00" * 64),
            ("k", b"\x00" * 4, b""),
        ],
    )
    def test_signed_checkpoint_refuses(
        self, key_name: str, hash_bytes: bytes, signature: bytes
    ) -> None:
        with pytest.raises(CheckpointError):
            SignedCheckpoint(CHECKPOINT, (NoteSignature(key_name, hash_bytes, signature),))

    @pytest.mark.parametrize("key_name", ["", "a b", "a+b", "a\nb", "a\u3000b"])
    def test_bad_key_names_are_refused_for_signing(self, key_name: str) -> None:
        with pytest.raises(CheckpointError):
            sign_checkpoint(CHECKPOINT, PRIVATE_KEY, key_name)
        with pytest.raises(CheckpointError):
            public_key_text(PUBLIC_KEY, key_name)


def bad_key_texts() -> dict[str, str]:
    good = public_key_text(PUBLIC_KEY, ORIGIN)
    name, hash_hex, key_b64 = good.split("+", 2)
    other = OTHER_KEY.public_key()
    return {
        "empty": "",
        "no fields": name,
        "two fields": f"{name}+{hash_hex}",
        "empty name": f"+{hash_hex}+{key_b64}",
        "space in name": f"a b+{hash_hex}+{key_b64}",
        "wrong hash": f"{name}+00000000+{key_b64}",
        "upper-case hash": f"{name}+{hash_hex.upper()}+{key_b64}",
        "short hash": f"{name}+{hash_hex[:7]}+{key_b64}",
        "other key's hash": f"{name}+{key_hash(name, other).hex()}+{key_b64}",
        "other name's hash": f"{name}+{key_hash('other', PUBLIC_KEY).hex()}+{key_b64}",
        "type byte 0x02": f"{name}+{hash_hex}+{b64(bytes([2]) + raw(PUBLIC_KEY))}",
        "no type byte": f"{name}+{hash_hex}+{b64(raw(PUBLIC_KEY))}",
        "key too short": f"{name}+{hash_hex}+{b64(ED25519 + raw(PUBLIC_KEY)[:31])}",
        "key too long": f"{name}+{hash_hex}+{b64(ED25519 + raw(PUBLIC_KEY) + bytes(1))}",
        "not base64": f"{name}+{hash_hex}+{'!' * 44}",
        "extra padding": f"{name}+{hash_hex}+{key_b64}=",
        "last character changed": f"{name}+{hash_hex}+{key_b64[:-1]}M",
        "trailing newline": good + "\n",
        "trailing space": good + " ",
    }


BAD_KEY_TEXTS = bad_key_texts()


class TestPublicKeyTextMalformed:
    @pytest.mark.parametrize("text", BAD_KEY_TEXTS.values(), ids=BAD_KEY_TEXTS.keys())
    def test_refused(self, text: str) -> None:
        with pytest.raises(CheckpointError):
            parse_public_key_text(text)

    @given(st.text(max_size=120))
    @settings(max_examples=200, deadline=None)
    def test_random_text_raises_only_checkpoint_error(self, text: str) -> None:
        with contextlib.suppress(CheckpointError):
            parse_public_key_text(text)


class TestSignedTime:
    def test_time_is_an_extension_line_inside_the_signed_body(self) -> None:
        timed = Checkpoint(ORIGIN, 12345, ROOT, time=1_764_720_000)
        assert timed.body().decode() == f"{ORIGIN}\n12345\n{ROOT_B64}\ntime 1764720000\n"
        note = sign_checkpoint(timed, PRIVATE_KEY, ORIGIN).to_note()
        parsed = parse_note(note)
        assert parsed.checkpoint == timed
        assert parsed.to_note() == note
        assert verify_signed(parsed, PUBLIC_KEY)

    def test_moving_the_time_breaks_the_signature(self) -> None:
        note = sign_checkpoint(
            Checkpoint(ORIGIN, 12345, ROOT, time=1_764_720_000), PRIVATE_KEY, ORIGIN
        ).to_note()
        moved = parse_note(note.replace("time 1764720000", "time 1764710000"))
        assert not verify_signed(moved, PUBLIC_KEY)
        dropped = parse_note(note.replace("time 1764720000\n", ""))
        assert not verify_signed(dropped, PUBLIC_KEY)

    def test_the_previous_size_follows_the_time(self) -> None:
        chained = Checkpoint(ORIGIN, 12345, ROOT, time=1_764_720_000, previous=12000)
        assert chained.body().decode().endswith("\ntime 1764720000\nprevious 12000\n")
        note = sign_checkpoint(chained, PRIVATE_KEY, ORIGIN).to_note()
        assert parse_note(note).checkpoint == chained
        with pytest.raises(CheckpointError):
            parse_note(note.replace("time 1764720000\nprevious 12000", "previous 12000\ntime 1"))
        with pytest.raises(CheckpointError):
            Checkpoint(ORIGIN, 12345, ROOT, previous=12345)  # a previous tree is smaller

    def test_a_note_without_a_time_still_verifies(self) -> None:
        parsed = parse_note(NOTE)
        assert parsed.checkpoint.time is None
        assert verify_signed(parsed, PUBLIC_KEY)


class TestCosignatures:
    WITNESS = Ed25519PrivateKey.from_private_bytes(hashlib.sha256(b"witness").digest())

    def cosigned_note(self) -> str:
        witness = sign_checkpoint(CHECKPOINT, self.WITNESS, "witness.example")
        # A tlog-cosignature is longer than an Ed25519 note signature (timestamp + signature).
        other = NoteSignature("other.witness", b"\x01\x02\x03\x04", bytes(72))
        return SIGNED.cosigned(witness.signatures[0], other).to_note()

    def test_a_witness_cosigned_note_parses_and_verifies_for_both_keys(self) -> None:
        parsed = parse_note(self.cosigned_note())
        assert len(parsed.signatures) == 3
        assert parsed.to_note() == self.cosigned_note()
        assert verify_signed(parsed, PUBLIC_KEY, ORIGIN)
        assert verify_signed(parsed, self.WITNESS.public_key(), "witness.example")

    def test_the_logs_line_may_come_after_the_witness(self) -> None:
        parsed = parse_note(self.cosigned_note())
        reordered = SignedCheckpoint(parsed.checkpoint, parsed.signatures[::-1])
        assert verify_signed(parse_note(reordered.to_note()), PUBLIC_KEY, ORIGIN)

    def test_only_unknown_signatures_do_not_verify(self) -> None:
        witness_only = sign_checkpoint(CHECKPOINT, self.WITNESS, "witness.example")
        assert not verify_signed(witness_only, PUBLIC_KEY, ORIGIN)

    def test_a_bad_line_of_the_logs_key_fails_even_beside_a_good_one(self) -> None:
        bad = NoteSignature(ORIGIN, SIGNED.key_hash, bytes(64))
        assert not verify_signed(SIGNED.cosigned(bad), PUBLIC_KEY, ORIGIN)
