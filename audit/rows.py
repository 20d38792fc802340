"""Verification rows as stored, read into what a leaf is recomputed from.

`AuditLogRepository.verification_rows` hands over every value exactly as the driver returns
it, before any column type processed it. `RowReader` reads such a row two ways:

- `typed` applies each column type's result processor, as SQLAlchemy does when it reads the
  column, and `respelled` names the columns whose stored value differs from the form the
  application writes for the value read (the column type's bind processor). Verify then builds
  the payload with `canonical.payload_of`. This is the general way; it holds on any dialect
  and for any row, however it was tampered with.
- `fast` (SQLite only) takes a row whose stored values are exactly in the form the
  application writes them (ids as 32 lower-case hex digits, the time as
  ``YYYY-MM-DD HH:MM:SS.ffffff``, text as text) and builds the same payload straight from the
  stored text, without making UUID and datetime objects or a dictionary per row. Any row not
  in that form gives None and goes the general way.

For every row `fast` accepts, the general way finds no re-spelled column and builds the very
same payload bytes, event id and time (`tests/unit/audit/test_rows.py` checks this against
the general way, spelling by spelling): `fast` is a shortcut, never a weaker check.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

from sqlalchemy.engine import Dialect

from audit.canonical import EVENT_COLUMNS
from audit.repository import LEAF_FIELDS, stored_form_columns, verification_columns

EVENT = len(LEAF_FIELDS)  # where the event's columns start in a verification row

# Naive, as SQLite's stored times are: UTC written without an offset.
_EPOCH = datetime(1970, 1, 1)  # noqa: DTZ001
_MICROSECOND = timedelta(microseconds=1)

# `canonical.payload_of`'s JSON with its keys in sorted order, each value already JSON text.
_PAYLOAD = (
    '{"action":%s,"agency_id":%s,"basis":%s,"case_id":%s,"id":%s,"occurred_at":%d,'
    '"outcome":%s,"request_id":%s,"resource_id":%s,"resource_type":%s,"role":%s,'
    '"user_id":%s}'
)

# The caches map a stored value to its JSON text; a value is cached only once it was found
# in the written form. Cleared when this large, so memory stays flat on any log.
_CACHE_LIMIT = 50_000


def _column(name: str) -> int:
    return EVENT + EVENT_COLUMNS.index(name)


_ID, _OCCURRED, _REQUEST, _USER, _AGENCY, _ROLE = map(
    _column, ("id", "occurred_at", "request_id", "user_id", "agency_id", "role")
)
_ACTION, _TYPE, _RESOURCE, _CASE, _OUTCOME, _BASIS = map(
    _column, ("action", "resource_type", "resource_id", "case_id", "outcome", "basis")
)


class RowReader:
    def __init__(self, dialect: Dialect) -> None:
        columns = verification_columns()
        impls = [column.type.dialect_impl(dialect) for column in columns]
        self._results = [impl.result_processor(dialect, None) for impl in impls]
        index = {(column.table.name, column.name): at for at, column in enumerate(columns)}
        self._forms = [
            (
                name,
                index[(column.table.name, column.name)],
                column.type.dialect_impl(dialect).bind_processor(dialect),
            )
            for name, column in stored_form_columns()
        ]
        self.fast_enabled = dialect.name == "sqlite"
        self._basis_processor = self._results[_BASIS]
        self._who: dict[Any, tuple[str, ...]] = {}
        self._what: dict[Any, tuple[str, ...]] = {}
        self._how: dict[Any, tuple[str, ...]] = {}

    # --- the general way ----------------------------------------------------------------

    def typed(self, row: Sequence[Any]) -> list[Any]:
        """The row's values as SQLAlchemy reads them through the column types."""
        return [
            value if process is None or value is None else process(value)
            for process, value in zip(self._results, row, strict=True)
        ]

    def respelled(self, row: Sequence[Any], typed: Sequence[Any]) -> list[str]:
        """The id and time columns whose stored form is not the form their value is written
        in: on SQLite one UUID or time has many spellings that parse alike."""
        out = []
        for name, at, process in self._forms:
            value = typed[at]
            written = value if value is None or process is None else process(value)
            if row[at] != written:
                out.append(name)
        return out

    # --- the shortcut for rows in the written form (SQLite) -----------------------------

    def fast(self, row: Sequence[Any]) -> tuple[bytes, int, bytes] | None:
        """(event id bytes, occurred_at in microseconds since the epoch, payload) of a row
        whose every value is stored in the form the application writes; None otherwise
        (and always on other dialects than SQLite, and when the event row is gone). The
        row's slices must be tuples, as those of the rows `verification_rows` streams."""
        if not self.fast_enabled:
            return None
        event_id = row[_ID]
        if type(event_id) is not str or len(event_id) != 32 or event_id != row[1]:
            return None
        stored_time = row[_OCCURRED]
        try:
            id_bytes = bytes.fromhex(event_id)
            occurred = datetime.fromisoformat(stored_time)
        except (TypeError, ValueError):
            return None
        if (
            id_bytes.hex() != event_id
            or occurred.tzinfo is not None
            or occurred.isoformat(" ", "microseconds") != stored_time
        ):
            return None
        # Who and what (user, agency, role, action, resource type), about what (resource,
        # case) and how (outcome, basis) repeat from event to event: their JSON texts are
        # cached by the stored values, each group under one key.
        who_key = row[_USER:_RESOURCE]
        who = self._who.get(who_key) or self._who_texts(who_key)
        what_key = row[_RESOURCE:_OUTCOME]
        what = self._what.get(what_key) or self._what_texts(what_key)
        how_key = row[_OUTCOME:]
        how = self._how.get(how_key) or self._how_texts(how_key)
        request_id = row[_REQUEST]
        if request_id is None:
            request = "null"
        elif type(request_id) is str:
            request = encode_basestring(request_id)
        else:
            return None
        if not (who and what and how):
            return None
        micros = (occurred - _EPOCH) // _MICROSECOND
        h = event_id
        payload = (
            _PAYLOAD
            % (
                who[3],  # action
                who[1],  # agency_id
                how[1],  # basis
                what[1],  # case_id
                f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"',
                micros,
                how[0],  # outcome
                request,
                what[0],  # resource_id
                who[4],  # resource_type
                who[2],  # role
                who[0],  # user_id
            )
        )
        return id_bytes, micros, payload.encode()

    def _who_texts(self, stored: Sequence[Any]) -> tuple[str, ...]:
        """JSON texts of user_id, agency_id, role, action and resource_type; () if one of
        them is not stored in its written form."""
        user, agency, role, action, resource_type = stored
        texts = (
            self._id_text(user),
            self._id_text(agency),
            self._text(role),
            self._text(action),
            self._text(resource_type),
        )
        return _remember(self._who, tuple(stored), texts) if all(texts) else ()

    def _what_texts(self, stored: Sequence[Any]) -> tuple[str, ...]:
        """JSON texts of resource_id and case_id; () if one of them is not stored in its
        written form."""
        resource, case = stored
        texts = (self._text(resource), self._id_text(case))
        return _remember(self._what, tuple(stored), texts) if all(texts) else ()

    def _how_texts(self, stored: Sequence[Any]) -> tuple[str, ...]:
        """JSON texts of outcome and basis; () if one of them is not stored in its written
        form."""
        outcome, basis = stored
        texts = (self._text(outcome), self._basis_text(basis))
        return _remember(self._how, tuple(stored), texts) if all(texts) else ()

    def _id_text(self, stored: Any) -> str:
        """JSON text of a stored id in its written form (32 lower-case hex digits) or null;
        "" if it is in another form."""
        if stored is None:
            return "null"
        if type(stored) is not str or len(stored) != 32:
            return ""
        try:
            if bytes.fromhex(stored).hex() != stored:
                return ""
        except ValueError:
            return ""
        return _uuid_json(stored)

    def _text(self, stored: Any) -> str:
        """JSON text of a stored string or null; "" if it is something else."""
        if stored is None:
            return "null"
        return encode_basestring(stored) if type(stored) is str else ""

    def _basis_text(self, stored: Any) -> str:
        """Canonical JSON text of the stored basis, read as its column type reads it; "" if
        it is not text or does not read."""
        if stored is None:
            return "null"
        if type(stored) is not str or self._basis_processor is None:
            return ""
        try:
            value = self._basis_processor(stored)
            return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            return ""


def _uuid_json(hex_digits: str) -> str:
    """JSON text of `str(uuid.UUID(hex_digits))` for 32 lower-case hex digits."""
    h = hex_digits
    return f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'


def _remember(
    cache: dict[Any, tuple[str, ...]], stored: tuple[Any, ...], texts: tuple[str, ...]
) -> tuple[str, ...]:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[stored] = texts
    return texts
