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
        self._ids: dict[Any, str] = {None: "null"}
        self._texts: dict[Any, str] = {None: "null"}
        self._bases: dict[Any, str] = {None: "null"}

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
        (and always on other dialects than SQLite, and when the event row is gone)."""
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
        ids, texts = self._ids, self._texts
        user = ids.get(row[_USER]) or self._id_text(row[_USER])
        agency = ids.get(row[_AGENCY]) or self._id_text(row[_AGENCY])
        case = ids.get(row[_CASE]) or self._id_text(row[_CASE])
        role = texts.get(row[_ROLE]) or self._text(row[_ROLE])
        action = texts.get(row[_ACTION]) or self._text(row[_ACTION])
        resource_type = texts.get(row[_TYPE]) or self._text(row[_TYPE])
        resource = texts.get(row[_RESOURCE]) or self._text(row[_RESOURCE])
        outcome = texts.get(row[_OUTCOME]) or self._text(row[_OUTCOME])
        basis = self._bases.get(row[_BASIS]) or self._basis_text(row[_BASIS])
        request_id = row[_REQUEST]
        if request_id is None:
            request = "null"
        elif type(request_id) is str:
            request = encode_basestring(request_id)
        else:
            return None
        if not (user and agency and case and role and action and resource_type):
            return None
        if not (resource and outcome and basis):
            return None
        micros = (occurred - _EPOCH) // _MICROSECOND
        payload = _PAYLOAD % (
            action,
            agency,
            basis,
            case,
            _uuid_json(event_id),
            micros,
            outcome,
            request,
            resource,
            resource_type,
            role,
            user,
        )
        return id_bytes, micros, payload.encode()

    def _id_text(self, stored: Any) -> str:
        """JSON text of a stored id in its written form (32 lower-case hex digits); "" if
        it is not in that form."""
        if type(stored) is not str or len(stored) != 32:
            return ""
        try:
            if bytes.fromhex(stored).hex() != stored:
                return ""
        except ValueError:
            return ""
        return _remember(self._ids, stored, _uuid_json(stored))

    def _text(self, stored: Any) -> str:
        """JSON text of a stored string; "" if it is not a string."""
        if type(stored) is not str:
            return ""
        return _remember(self._texts, stored, encode_basestring(stored))

    def _basis_text(self, stored: Any) -> str:
        """Canonical JSON text of the stored basis, read as its column type reads it; "" if
        it is not text or does not read."""
        if type(stored) is not str or self._basis_processor is None:
            return ""
        try:
            value = self._basis_processor(stored)
            text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError):
            return ""
        return _remember(self._bases, stored, text)


def _uuid_json(hex_digits: str) -> str:
    """JSON text of `str(uuid.UUID(hex_digits))` for 32 lower-case hex digits."""
    h = hex_digits
    return f'"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}"'


def _remember(cache: dict[Any, str], stored: str, text: str) -> str:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
        cache[None] = "null"
    cache[stored] = text
    return text
