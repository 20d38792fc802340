"""Signed checkpoints: C2SP tlog-checkpoint bodies in C2SP signed notes, Ed25519 only.

A checkpoint states a log's origin, tree size and RFC 6962 root. The note text is
``origin\\nsize\\nbase64(root)\\n`` followed by up to two extension lines, in this order
(C2SP tlog-checkpoint allows extension lines between the root hash and the blank line):
- ``time <unix seconds>``: the moment the log signed this tree head;
- ``previous <size>``: the size of the checkpoint the log signed before this one (0 for the
  first), so that a deleted checkpoint is missed by its successor.
Both are inside the signed text, so nobody without the key can move or drop them; notes
written before the lines existed still parse and verify. No other extension line is accepted.

A note carries one or more signature lines, ``— name base64(key_hash || signature)``: the
log's own, and perhaps cosignatures of witnesses. A verifier looks only at the lines that
carry its key's name and key hash and ignores the rest (C2SP signed-note).

Everything parsed is held to the canonical form this module writes, so a parsed checkpoint
re-serialises to the very bytes that were signed.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from audit.merkle import HASH_SIZE

ED25519_TYPE = b"\x01"
KEY_HASH_SIZE = 4
SIGNATURE_SIZE = 64
PUBLIC_KEY_SIZE = 32
MAX_TREE_SIZE = 2**64 - 1  # the size is a uint64 in every other implementation
MAX_TIME = 2**63 - 1
MAX_SIGNATURES = 100  # as golang.org/x/mod/sumdb/note
TIME_PREFIX = "time "
PREVIOUS_PREFIX = "previous "
SIGNATURE_PREFIX = "\u2014 "  # EM DASH, space

_DECIMAL = re.compile(r"0|[1-9][0-9]*")
_KEY_HASH_HEX = re.compile(r"[0-9a-f]{8}")


class CheckpointError(ValueError):
    """A checkpoint, note or key that is malformed; never raised for a bad signature."""


def _check_text(text: str, what: str) -> None:
    """Signed notes are UTF-8 with no ASCII control characters other than newline."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise CheckpointError(f"{what} is not valid UTF-8") from exc
    if any(ch < " " and ch != "\n" for ch in text):
        raise CheckpointError(f"{what} contains control characters")


def _check_key_name(name: str) -> None:
    """Non-empty, no Unicode spaces, no '+' (it separates the fields of a verifier key)."""
    if not isinstance(name, str) or not name:
        raise CheckpointError("key name must be a non-empty string")
    _check_text(name, "key name")
    if "+" in name or any(ch.isspace() for ch in name):
        raise CheckpointError(f"key name {name!r} contains a space or '+'")


def _b64decode(text: str, what: str) -> bytes:
    """Standard base64 with padding, canonical only: it must re-encode to the same text."""
    try:
        raw = base64.b64decode(text.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise CheckpointError(f"{what} is not base64") from exc
    if base64.b64encode(raw).decode("ascii") != text:
        raise CheckpointError(f"{what} is not canonical base64")
    return raw


def _b64encode(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def _raw_public_key(public_key: Ed25519PublicKey) -> bytes:
    return public_key.public_bytes(Encoding.Raw, PublicFormat.Raw)


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: non-empty single-line origin, 0 <= size < 2**64, 32-byte root, and the
    signing time in whole Unix seconds and the size of the log's checkpoint before this one
    (each None in notes written before the log signed them)."""

    origin: str
    size: int
    root: bytes
    time: int | None = None
    previous: int | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.origin, str) or not self.origin:
            raise CheckpointError("origin must be a non-empty string")
        _check_text(self.origin, "origin")
        if "\n" in self.origin:
            raise CheckpointError("origin must be a single line")
        if (
            not isinstance(self.size, int)
            or isinstance(self.size, bool)
            or not 0 <= self.size <= MAX_TREE_SIZE
        ):
            raise CheckpointError(f"invalid tree size {self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise CheckpointError(f"root must be {HASH_SIZE} bytes")
        if self.time is not None and (
            not isinstance(self.time, int)
            or isinstance(self.time, bool)
            or not 0 <= self.time <= MAX_TIME
        ):
            raise CheckpointError(f"invalid time {self.time!r}")
        if self.previous is not None and (
            not isinstance(self.previous, int)
            or isinstance(self.previous, bool)
            or not 0 <= self.previous < max(self.size, 1)
        ):
            raise CheckpointError(f"invalid previous size {self.previous!r}")

    def body(self) -> bytes:
        """The signed note text, UTF-8: ``origin\\nsize\\nbase64(root)\\n`` and the
        extension lines ``time t\\n`` and ``previous p\\n`` where set."""
        extension = "" if self.time is None else f"{TIME_PREFIX}{self.time}\n"
        if self.previous is not None:
            extension += f"{PREVIOUS_PREFIX}{self.previous}\n"
        return f"{self.origin}\n{self.size}\n{_b64encode(self.root)}\n{extension}".encode()


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, 4-byte key hash and the signature bytes. An Ed25519
    signature is 64 bytes; other kinds (a witness's cosignature) may have other lengths."""

    key_name: str
    key_hash: bytes
    signature: bytes

    def __post_init__(self) -> None:
        _check_key_name(self.key_name)
        if not isinstance(self.key_hash, bytes) or len(self.key_hash) != KEY_HASH_SIZE:
            raise CheckpointError(f"key hash must be {KEY_HASH_SIZE} bytes")
        if not isinstance(self.signature, bytes) or not self.signature:
            raise CheckpointError("a signature must not be empty")

    def line(self) -> str:
        return f"{SIGNATURE_PREFIX}{self.key_name} {_b64encode(self.key_hash + self.signature)}"


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signature lines, in note order (at least one).

    Construction checks only the shape; `verify_signed` checks a signature. `key_name`,
    `key_hash` and `signature` are the first line's, which this log always writes itself.
    """

    checkpoint: Checkpoint
    signatures: tuple[NoteSignature, ...]

    def __post_init__(self) -> None:
        if not isinstance(self.checkpoint, Checkpoint):
            raise CheckpointError("checkpoint must be a Checkpoint")
        if not isinstance(self.signatures, tuple) or not self.signatures:
            raise CheckpointError("a signed note needs at least one signature")
        if len(self.signatures) > MAX_SIGNATURES:
            raise CheckpointError(f"more than {MAX_SIGNATURES} signatures")
        if not all(isinstance(s, NoteSignature) for s in self.signatures):
            raise CheckpointError("signatures must be NoteSignature")
        if len({s.line() for s in self.signatures}) != len(self.signatures):
            raise CheckpointError("a signature line appears twice")

    @property
    def key_name(self) -> str:
        return self.signatures[0].key_name

    @property
    def key_hash(self) -> bytes:
        return self.signatures[0].key_hash

    @property
    def signature(self) -> bytes:
        return self.signatures[0].signature

    def cosigned(self, *others: NoteSignature) -> SignedCheckpoint:
        """The same note with more signature lines appended (a witness's cosignature)."""
        return SignedCheckpoint(self.checkpoint, (*self.signatures, *others))

    def to_note(self) -> str:
        """Body, blank line, the signature lines."""
        lines = "".join(f"{s.line()}\n" for s in self.signatures)
        return f"{self.checkpoint.body().decode()}\n{lines}"


def key_hash(key_name: str, public_key: Ed25519PublicKey) -> bytes:
    """``SHA-256(key_name || 0x0A || 0x01 || raw public key)[:4]`` (C2SP signed-note)."""
    _check_key_name(key_name)
    material = key_name.encode() + b"\n" + ED25519_TYPE + _raw_public_key(public_key)
    return hashlib.sha256(material).digest()[:KEY_HASH_SIZE]


def sign_checkpoint(
    checkpoint: Checkpoint, private_key: Ed25519PrivateKey, key_name: str
) -> SignedCheckpoint:
    line = NoteSignature(
        key_name=key_name,
        key_hash=key_hash(key_name, private_key.public_key()),
        signature=private_key.sign(checkpoint.body()),
    )
    return SignedCheckpoint(checkpoint=checkpoint, signatures=(line,))


def verify_signed(
    signed: SignedCheckpoint, public_key: Ed25519PublicKey, key_name: str | None = None
) -> bool:
    """True iff the note carries a signature line of this key under `key_name` (default: the
    first line's name) and every such line verifies. Lines of other keys are ignored, as
    C2SP signed-note asks: a witness may cosign with a key this verifier does not know."""
    name = signed.key_name if key_name is None else key_name
    try:
        expected = key_hash(name, public_key)
    except CheckpointError:
        return False
    mine = [s for s in signed.signatures if s.key_name == name and s.key_hash == expected]
    if not mine:
        return False
    body = signed.checkpoint.body()
    for line in mine:
        if len(line.signature) != SIGNATURE_SIZE:
            return False
        try:
            public_key.verify(line.signature, body)
        except InvalidSignature:
            return False
    return True


def _parse_body(text: str) -> Checkpoint:
    lines = text.split("\n")
    if not 4 <= len(lines) <= 6 or lines[-1] != "":
        raise CheckpointError(
            "checkpoint body must be origin, size and root lines, then at most a time and a "
            "previous line"
        )
    origin, size_text, root_text = lines[:3]
    if not _DECIMAL.fullmatch(size_text):
        raise CheckpointError("tree size must be decimal digits without leading zeros")
    root = _b64decode(root_text, "root hash")
    values: dict[str, int] = {}
    expected = [TIME_PREFIX, PREVIOUS_PREFIX]  # each optional, in this order
    for extension in lines[3:-1]:
        prefix = next((p for p in expected if extension.startswith(p)), None)
        if prefix is None or not _DECIMAL.fullmatch(extension[len(prefix) :]):
            raise CheckpointError(
                "extension lines are 'time <decimal>' and then 'previous <decimal>'"
            )
        values[prefix] = int(extension[len(prefix) :])
        expected = expected[expected.index(prefix) + 1 :]
    return Checkpoint(
        origin=origin,
        size=int(size_text),
        root=root,
        time=values.get(TIME_PREFIX),
        previous=values.get(PREVIOUS_PREFIX),
    )


def _parse_signature_line(line: str) -> NoteSignature:
    if not line.startswith(SIGNATURE_PREFIX):
        raise CheckpointError("signature line must start with an em dash and a space")
    fields = line[len(SIGNATURE_PREFIX) :].split(" ")
    if len(fields) != 2:
        raise CheckpointError("signature line must be '— name signature'")
    name, blob_text = fields
    _check_key_name(name)
    blob = _b64decode(blob_text, "signature")
    if len(blob) <= KEY_HASH_SIZE:
        raise CheckpointError("signature must be a 4-byte key hash and the signature bytes")
    return NoteSignature(name, blob[:KEY_HASH_SIZE], blob[KEY_HASH_SIZE:])


def parse_note(text: str) -> SignedCheckpoint:
    """Parse a signed checkpoint note; does not verify the signature (see `verify_signed`)."""
    if not isinstance(text, str):
        raise CheckpointError("a note is text")
    _check_text(text, "note")
    separator = text.rfind("\n\n")
    if separator < 0 or not text.endswith("\n"):
        raise CheckpointError("note must be text, a blank line and signature lines")
    body, signatures = text[: separator + 1], text[separator + 2 :]
    signature_lines = signatures[:-1].split("\n")
    if len(signature_lines) > MAX_SIGNATURES:
        raise CheckpointError(f"more than {MAX_SIGNATURES} signature lines")
    lines = tuple(_parse_signature_line(line) for line in signature_lines)
    checkpoint = _parse_body(body)
    if checkpoint.body() != body.encode():
        raise CheckpointError("checkpoint body is not in canonical form")
    return SignedCheckpoint(checkpoint, lines)


def public_key_text(public_key: Ed25519PublicKey, key_name: str) -> str:
    """Verifier key ``name+hex(key hash)+base64(0x01 || raw public key)``."""
    hash_hex = key_hash(key_name, public_key).hex()
    return f"{key_name}+{hash_hex}+{_b64encode(ED25519_TYPE + _raw_public_key(public_key))}"


def parse_public_key_text(text: str) -> tuple[str, Ed25519PublicKey]:
    """Inverse of `public_key_text`; the stated key hash must match the key and name."""
    if not isinstance(text, str):
        raise CheckpointError("a verifier key is text")
    fields = text.split("+", 2)  # the base64 field may itself contain '+'
    if len(fields) != 3:
        raise CheckpointError("verifier key must be name+keyhash+key")
    name, hash_hex, key_text = fields
    _check_key_name(name)
    if not _KEY_HASH_HEX.fullmatch(hash_hex):
        raise CheckpointError("key hash must be 8 lowercase hex digits")
    raw = _b64decode(key_text, "public key")
    if len(raw) != 1 + PUBLIC_KEY_SIZE or raw[:1] != ED25519_TYPE:
        raise CheckpointError("public key must be type 0x01 (Ed25519) and 32 bytes")
    try:
        public_key = Ed25519PublicKey.from_public_bytes(raw[1:])
    except ValueError as exc:
        raise CheckpointError("not an Ed25519 public key") from exc
    if key_hash(name, public_key).hex() != hash_hex:
        raise CheckpointError("key hash does not match the key")
    return name, public_key
