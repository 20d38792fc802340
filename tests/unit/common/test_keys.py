"""Loading, generating and rotating key material (files and environment)."""

from __future__ import annotations

import json
import re
import secrets
import uuid
from pathlib import Path

import pytest

from common import keys as keys_module
from common.crypto import KEY_ID_PATTERN, FieldKeyRing, KeyMaterialError, encode_key
from common.keys import (
    AUDIT_SIGNING_KEY_FILE,
    BLIND_INDEX_FILE,
    FIELD_KEYS_FILE,
    SESSION_KEY_FILE,
    STATISTICS_KEY_FILE,
    KeySet,
    load_keys,
    rotate_field_key,
)

ALL_FILES = (
    FIELD_KEYS_FILE,
    BLIND_INDEX_FILE,
    SESSION_KEY_FILE,
    AUDIT_SIGNING_KEY_FILE,
    STATISTICS_KEY_FILE,
)
CONTEXT = "young_person.first_name"
ROW = uuid.UUID("00000000-0000-4000-8000-000000000001")


@pytest.fixture
def key_dir(tmp_path: Path) -> Path:
    return tmp_path / "keys"


def generated(key_dir: Path) -> KeySet:
    return load_keys(key_dir, {}, generate=True)


def env_keys() -> tuple[dict[str, str], bytes, bytes, bytes]:
    field_key, blind_key, session_key = (secrets.token_bytes(32) for _ in range(3))
    env = {
        "SAMSYN_FIELD_ENCRYPTION_KEYS": json.dumps(
            {"active": "envkey", "keys": {"envkey": encode_key(field_key)}}
        ),
        "SAMSYN_BLIND_INDEX_KEY": encode_key(blind_key),
        "SAMSYN_SESSION_KEY": encode_key(session_key),
        "SAMSYN_AUDIT_SIGNING_KEY": encode_key(secrets.token_bytes(32)),
        "SAMSYN_STATISTICS_KEY": encode_key(secrets.token_bytes(32)),
    }
    return env, field_key, blind_key, session_key


def field_env(payload: object) -> dict[str, str]:
    env, _, _, _ = env_keys()
    env["SAMSYN_FIELD_ENCRYPTION_KEYS"] = json.dumps(payload)
    return env


class TestGeneration:
    def test_generate_creates_every_key_file_readable_only_by_the_owner(
        self, key_dir: Path
    ) -> None:
        generated(key_dir)

        for name in ALL_FILES:
            assert (key_dir / name).stat().st_mode & 0o777 == 0o600, name
        assert key_dir.stat().st_mode & 0o077 == 0

    def test_generated_keys_are_32_random_bytes_each(self, key_dir: Path) -> None:
        key_set = generated(key_dir)

        [(key_id, field_key)] = key_set.field.keys.items()
        assert key_set.field.active_id == key_id
        assert KEY_ID_PATTERN.fullmatch(key_id)
        assert len(field_key) == 32
        assert len(key_set.blind_index.key) == 32
        assert len(key_set.session) == 32
        assert len({field_key, key_set.blind_index.key, key_set.session}) == 3

    def test_second_load_returns_the_same_keys(self, key_dir: Path) -> None:
        first = generated(key_dir)

        again = generated(key_dir)
        without_generating = load_keys(key_dir, {}, generate=False)

        for second in (again, without_generating):
            assert dict(second.field.keys) == dict(first.field.keys)
            assert second.field.active_id == first.field.active_id
            assert second.blind_index.key == first.blind_index.key
            assert second.session == first.session

    def test_values_written_before_a_restart_still_open(self, key_dir: Path) -> None:
        stored = generated(key_dir).field.encrypt("Åsa", context=CONTEXT, row_id=ROW)

        reloaded = load_keys(key_dir, {}, generate=False)

        assert reloaded.field.decrypt(stored, context=CONTEXT, row_id=ROW) == "Åsa"

    def test_two_key_directories_get_different_keys(self, tmp_path: Path) -> None:
        first = generated(tmp_path / "a")
        second = generated(tmp_path / "b")

        assert first.session != second.session
        assert first.blind_index.key != second.blind_index.key

    def test_only_missing_files_are_generated(self, key_dir: Path) -> None:
        first = generated(key_dir)
        (key_dir / SESSION_KEY_FILE).unlink()

        second = generated(key_dir)

        assert dict(second.field.keys) == dict(first.field.keys)
        assert second.blind_index.key == first.blind_index.key
        assert second.session != first.session


class TestMissingKeys:
    def test_without_generate_nothing_is_created(self, key_dir: Path) -> None:
        with pytest.raises(KeyMaterialError):
            load_keys(key_dir, {}, generate=False)

        assert not key_dir.exists()

    def test_missing_field_keys_name_the_variable_and_the_file(self, key_dir: Path) -> None:
        with pytest.raises(KeyMaterialError) as raised:
            load_keys(key_dir, {}, generate=False)

        assert "SAMSYN_FIELD_ENCRYPTION_KEYS" in str(raised.value)
        assert FIELD_KEYS_FILE in str(raised.value)

    @pytest.mark.parametrize(
        ("file_name", "env_name"),
        [
            (FIELD_KEYS_FILE, "SAMSYN_FIELD_ENCRYPTION_KEYS"),
            (BLIND_INDEX_FILE, "SAMSYN_BLIND_INDEX_KEY"),
            (SESSION_KEY_FILE, "SAMSYN_SESSION_KEY"),
            (AUDIT_SIGNING_KEY_FILE, "SAMSYN_AUDIT_SIGNING_KEY"),
            (STATISTICS_KEY_FILE, "SAMSYN_STATISTICS_KEY"),
        ],
    )
    def test_each_missing_key_is_named(self, key_dir: Path, file_name: str, env_name: str) -> None:
        generated(key_dir)
        (key_dir / file_name).unlink()

        with pytest.raises(KeyMaterialError) as raised:
            load_keys(key_dir, {}, generate=False)

        assert env_name in str(raised.value)
        assert file_name in str(raised.value)
        assert not (key_dir / file_name).exists()


class TestEnvironment:
    def test_environment_works_without_files_or_generation(self, key_dir: Path) -> None:
        env, field_key, blind_key, session_key = env_keys()

        key_set = load_keys(key_dir, env, generate=False)

        assert dict(key_set.field.keys) == {"envkey": field_key}
        assert key_set.field.active_id == "envkey"
        assert key_set.blind_index.key == blind_key
        assert key_set.session == session_key
        assert not key_dir.exists()

    def test_environment_takes_precedence_over_files(self, key_dir: Path) -> None:
        from_files = generated(key_dir)
        env, field_key, blind_key, session_key = env_keys()

        key_set = load_keys(key_dir, env, generate=True)

        assert dict(key_set.field.keys) == {"envkey": field_key}
        assert key_set.blind_index.key == blind_key
        assert key_set.session == session_key
        assert key_set.session != from_files.session

    @pytest.mark.parametrize(
        "env_name", ["SAMSYN_BLIND_INDEX_KEY", "SAMSYN_SESSION_KEY", "SAMSYN_FIELD_ENCRYPTION_KEYS"]
    )
    def test_each_variable_overrides_only_its_own_file(self, key_dir: Path, env_name: str) -> None:
        from_files = generated(key_dir)
        env, field_key, blind_key, session_key = env_keys()

        key_set = load_keys(key_dir, {env_name: env[env_name]}, generate=False)

        field_from_env = env_name == "SAMSYN_FIELD_ENCRYPTION_KEYS"
        expected_field = {"envkey": field_key} if field_from_env else dict(from_files.field.keys)
        assert dict(key_set.field.keys) == expected_field
        blind_from_env = env_name == "SAMSYN_BLIND_INDEX_KEY"
        expected_blind = blind_key if blind_from_env else from_files.blind_index.key
        assert key_set.blind_index.key == expected_blind
        session_from_env = env_name == "SAMSYN_SESSION_KEY"
        assert key_set.session == (session_key if session_from_env else from_files.session)

    def test_empty_variables_count_as_unset(self, key_dir: Path) -> None:
        from_files = generated(key_dir)
        env = dict.fromkeys(
            ("SAMSYN_FIELD_ENCRYPTION_KEYS", "SAMSYN_BLIND_INDEX_KEY", "SAMSYN_SESSION_KEY"), ""
        )

        key_set = load_keys(key_dir, env, generate=False)

        assert key_set.session == from_files.session

    def test_environment_key_ring_may_hold_several_keys(self, key_dir: Path) -> None:
        old, new = secrets.token_bytes(32), secrets.token_bytes(32)
        env = field_env({"active": "new", "keys": {"old": encode_key(old), "new": encode_key(new)}})

        ring = load_keys(key_dir, env, generate=False).field

        assert ring.active_id == "new"
        assert dict(ring.keys) == {"old": old, "new": new}

    @pytest.mark.parametrize(
        "text",
        [
            "not json",
            "",
            "[]",
            "null",
            "{}",
            '{"active": "a"}',
            '{"keys": {"a": "AAAA"}}',
            '{"active": "a", "keys": []}',
            '{"active": "a", "keys": "a"}',
        ],
    )
    def test_malformed_field_key_json_is_refused(self, key_dir: Path, text: str) -> None:
        env, _, _, _ = env_keys()
        env["SAMSYN_FIELD_ENCRYPTION_KEYS"] = text
        if not text:  # empty means unset, and there is no file
            with pytest.raises(KeyMaterialError, match="key missing"):
                load_keys(key_dir, env, generate=False)
            return

        with pytest.raises(KeyMaterialError, match="SAMSYN_FIELD_ENCRYPTION_KEYS"):
            load_keys(key_dir, env, generate=False)

    @pytest.mark.parametrize(
        "payload",
        [
            {"active": "b", "keys": {"a": encode_key(b"\x01" * 32)}},  # active not in ring
            {"active": "a", "keys": {"a": encode_key(b"\x01" * 16)}},  # AES-128 key
            {"active": "a", "keys": {"a": "***"}},  # not base64url
            {"active": "a.b", "keys": {"a.b": encode_key(b"\x01" * 32)}},  # bad id
        ],
    )
    def test_invalid_field_key_ring_is_refused(self, key_dir: Path, payload: object) -> None:
        with pytest.raises(KeyMaterialError):
            load_keys(key_dir, field_env(payload), generate=False)

    def test_error_does_not_reveal_the_key(self, key_dir: Path) -> None:
        secret = encode_key(secrets.token_bytes(32))
        env = field_env({"active": "missing", "keys": {"a": secret}})

        with pytest.raises(KeyMaterialError) as raised:
            load_keys(key_dir, env, generate=False)

        assert secret not in str(raised.value)

    def test_malformed_key_file_is_refused_naming_the_file(self, key_dir: Path) -> None:
        generated(key_dir)
        (key_dir / FIELD_KEYS_FILE).write_text("{not json", encoding="utf-8")

        with pytest.raises(KeyMaterialError, match=re.escape(FIELD_KEYS_FILE)):
            load_keys(key_dir, {}, generate=True)

    @pytest.mark.parametrize("env_name", ["SAMSYN_BLIND_INDEX_KEY", "SAMSYN_SESSION_KEY"])
    @pytest.mark.parametrize("value", ["***", "AAAA", encode_key(b"\x01" * 31)])
    def test_single_key_shorter_than_32_bytes_is_refused(
        self, key_dir: Path, env_name: str, value: str
    ) -> None:
        env, _, _, _ = env_keys()
        env[env_name] = value

        with pytest.raises(KeyMaterialError, match=env_name):
            load_keys(key_dir, env, generate=False)

    @pytest.mark.parametrize("file_name", [BLIND_INDEX_FILE, SESSION_KEY_FILE])
    def test_key_file_shorter_than_32_bytes_is_refused(self, key_dir: Path, file_name: str) -> None:
        generated(key_dir)
        (key_dir / file_name).write_text("c2hvcnQ\n", encoding="utf-8")

        with pytest.raises(KeyMaterialError, match=re.escape(file_name)):
            load_keys(key_dir, {}, generate=False)


class TestRotation:
    def test_rotation_adds_an_active_key_and_keeps_the_old_one(self, key_dir: Path) -> None:
        before = generated(key_dir)
        [old_id] = before.field.keys

        new_id = rotate_field_key(key_dir)
        after = load_keys(key_dir, {}, generate=False)

        assert new_id != old_id
        assert KEY_ID_PATTERN.fullmatch(new_id)
        assert after.field.active_id == new_id
        assert set(after.field.keys) == {old_id, new_id}
        assert after.field.keys[old_id] == before.field.keys[old_id]
        assert len(after.field.keys[new_id]) == 32

    def test_values_written_before_rotation_still_open(self, key_dir: Path) -> None:
        before = generated(key_dir).field
        stored = before.encrypt("Åsa Öberg", context=CONTEXT, row_id=ROW)

        new_id = rotate_field_key(key_dir)
        after = load_keys(key_dir, {}, generate=False).field
        written_after = after.encrypt("Åsa Öberg", context=CONTEXT, row_id=ROW)

        assert after.decrypt(stored, context=CONTEXT, row_id=ROW) == "Åsa Öberg"
        assert FieldKeyRing.key_id_of(written_after) == new_id
        assert after.decrypt(written_after, context=CONTEXT, row_id=ROW) == "Åsa Öberg"

    def test_repeated_rotation_keeps_every_key(self, key_dir: Path) -> None:
        first = generated(key_dir).field
        stored = first.encrypt("Anna", context=CONTEXT, row_id=ROW)

        ids = {rotate_field_key(key_dir) for _ in range(3)}
        after = load_keys(key_dir, {}, generate=False).field

        assert len(ids) == 3
        assert set(after.keys) == set(first.keys) | ids
        assert after.decrypt(stored, context=CONTEXT, row_id=ROW) == "Anna"

    def test_key_file_stays_private_and_no_temporary_file_is_left(self, key_dir: Path) -> None:
        generated(key_dir)

        rotate_field_key(key_dir)

        assert (key_dir / FIELD_KEYS_FILE).stat().st_mode & 0o777 == 0o600
        assert sorted(path.name for path in key_dir.iterdir()) == sorted(ALL_FILES)

    def test_rotation_never_replaces_an_existing_key(
        self, key_dir: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        before = generated(key_dir).field
        [old_id] = before.keys
        stored = before.encrypt("Anna", context=CONTEXT, row_id=ROW)
        # The id is a timestamp plus four hex digits: the same id can come up twice.
        proposals = iter([old_id, "kfresh"])
        monkeypatch.setattr(keys_module, "new_field_key_id", lambda: next(proposals))

        new_id = rotate_field_key(key_dir)
        after = load_keys(key_dir, {}, generate=False).field

        assert new_id == "kfresh"
        assert after.keys[old_id] == before.keys[old_id]
        assert after.decrypt(stored, context=CONTEXT, row_id=ROW) == "Anna"

    def test_rotation_without_a_key_file_fails(self, key_dir: Path) -> None:
        key_dir.mkdir()

        with pytest.raises(FileNotFoundError):
            rotate_field_key(key_dir)
