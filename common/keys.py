"""Key material: read from the environment or the key directory, generated when allowed.

Keys never enter the database or the logs. Each purpose has its own key:

- field encryption: ``field-encryption.json`` ``{"active": id, "keys": {id: base64url}}``
  or ``SAMSYN_FIELD_ENCRYPTION_KEYS`` with the same JSON;
- blind index: ``blind-index.key`` or ``SAMSYN_BLIND_INDEX_KEY``;
- session and CSRF signing: ``session.key`` or ``SAMSYN_SESSION_KEY``;
- audit checkpoint signing (Ed25519 private key, 32 bytes): ``audit-signing.key`` or
  ``SAMSYN_AUDIT_SIGNING_KEY``;
- statistics pseudonyms: ``statistics.key`` or ``SAMSYN_STATISTICS_KEY``.
"""

from __future__ import annotations

import dataclasses
import json
import os
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from common.clock import utcnow
from common.crypto import (
    BlindIndex,
    FieldKeyRing,
    KeyMaterialError,
    Pseudonymiser,
    decode_key,
    encode_key,
)
from common.files import private_directory

FIELD_KEYS_FILE = "field-encryption.json"
BLIND_INDEX_FILE = "blind-index.key"
SESSION_KEY_FILE = "session.key"
AUDIT_SIGNING_KEY_FILE = "audit-signing.key"
STATISTICS_KEY_FILE = "statistics.key"


@dataclass(frozen=True)
class KeySet:
    field: FieldKeyRing
    blind_index: BlindIndex
    session: bytes = dataclasses.field(repr=False)  # never in a traceback or a log line
    audit_signing: Ed25519PrivateKey
    statistics: Pseudonymiser


def _write_secret(path: Path, content: str) -> None:
    private_directory(path.parent)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(content)


def _parse_field_keys(text: str, source: str) -> FieldKeyRing:
    try:
        data = json.loads(text)
        keys = {str(k): decode_key(str(v)) for k, v in data["keys"].items()}
        return FieldKeyRing(keys=keys, active_id=str(data["active"]))
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise KeyMaterialError(
            f"{source}: not a valid field key ring ({type(exc).__name__})"
        ) from None


def _parse_single_key(text: str, source: str) -> bytes:
    # Lenient base64 decoding skips stray characters: "***" would be an empty signing key.
    try:
        key = decode_key(text)
    except ValueError:
        key = b""
    if len(key) < 32:
        raise KeyMaterialError(f"{source}: must be at least 32 bytes, base64url-encoded")
    return key


def _field_keys_json(ring: FieldKeyRing) -> str:
    keys = {k: encode_key(v) for k, v in ring.keys.items()}
    return json.dumps({"active": ring.active_id, "keys": keys}, indent=2) + "\n"


def new_field_key_id() -> str:
    return "k" + utcnow().strftime("%Y%m%d%H%M%S") + secrets.token_hex(2)


def load_keys(key_dir: Path, env: Mapping[str, str], *, generate: bool) -> KeySet:
    """Load every key; generate the missing ones only if `generate` (the embedded default)."""

    def single(env_name: str, file_name: str) -> bytes:
        if env.get(env_name):
            return _parse_single_key(env[env_name], env_name)
        path = key_dir / file_name
        if not path.exists():
            if not generate:
                raise KeyMaterialError(f"key missing: set {env_name} or provide {path}")
            _write_secret(path, encode_key(secrets.token_bytes(32)) + "\n")
        return _parse_single_key(path.read_text(encoding="utf-8"), str(path))

    field_env = env.get("SAMSYN_FIELD_ENCRYPTION_KEYS")
    if field_env:
        field = _parse_field_keys(field_env, "SAMSYN_FIELD_ENCRYPTION_KEYS")
    else:
        path = key_dir / FIELD_KEYS_FILE
        if not path.exists():
            if not generate:
                raise KeyMaterialError(
                    f"key missing: set SAMSYN_FIELD_ENCRYPTION_KEYS or provide {path}"
                )
            key_id = new_field_key_id()
            ring = FieldKeyRing(keys={key_id: secrets.token_bytes(32)}, active_id=key_id)
            _write_secret(path, _field_keys_json(ring))
        field = _parse_field_keys(path.read_text(encoding="utf-8"), str(path))

    return KeySet(
        field=field,
        blind_index=BlindIndex(single("SAMSYN_BLIND_INDEX_KEY", BLIND_INDEX_FILE)),
        session=single("SAMSYN_SESSION_KEY", SESSION_KEY_FILE),
        audit_signing=_ed25519(single("SAMSYN_AUDIT_SIGNING_KEY", AUDIT_SIGNING_KEY_FILE)),
        statistics=Pseudonymiser(single("SAMSYN_STATISTICS_KEY", STATISTICS_KEY_FILE)),
    )


def _ed25519(seed: bytes) -> Ed25519PrivateKey:
    if len(seed) != 32:
        raise KeyMaterialError("the audit signing key must be 32 bytes (an Ed25519 seed)")
    return Ed25519PrivateKey.from_private_bytes(seed)


def rotate_field_key(key_dir: Path) -> str:
    """Add a new field key to the key file and make it active; old keys stay for reading."""
    path = key_dir / FIELD_KEYS_FILE
    ring = _parse_field_keys(path.read_text(encoding="utf-8"), str(path))
    key_id = new_field_key_id()
    while key_id in ring.keys:  # the id has only four random hex digits per second
        key_id = new_field_key_id()
    rotated = FieldKeyRing(keys={**ring.keys, key_id: secrets.token_bytes(32)}, active_id=key_id)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    _write_secret(tmp, _field_keys_json(rotated))
    tmp.replace(path)
    return key_id
