"""structlog set-up: JSON in production, readable in development, request id on every line.

Log lines carry ids (request, user, case) and never personal data; code logs ids only.

Two rules hold for every line, ours and those of the libraries (uvicorn, alembic) that are
routed through the same processors:

- An exception is rendered as its type, message and a bounded traceback, never with local
  variables. Rich's pretty tracebacks (structlog's default for the console when rich is
  installed) print every frame's locals: megabytes per error, including the request's
  headers, and rendered in the event loop, where they stopped the whole server for half a
  minute per error.
- Secrets are redacted: authorization headers, cookies, tokens, passwords, TOTP codes and
  form secrets, whether they arrive as a key of the event or inside a string.
"""

from __future__ import annotations

import logging
import re
import sys
import traceback
from collections.abc import Mapping
from typing import Any

import structlog
from structlog.types import EventDict, ExcInfo, WrappedLogger

REDACTED = "[redacted]"
MAX_TRACEBACK_FRAMES = 25  # the innermost frames of each exception in a chain
MAX_EXCEPTION_CHARS = 8_000

# Keys whose value is a secret wherever they appear (event keys, nested dicts, headers).
_SECRET_KEY = re.compile(
    r"authorization|cookie|token|passw|secret|totp|csrf|api[-_]?key|credential|private[-_]?key"
    r"|^(code|kod|otp|pin)$",
    re.IGNORECASE,
)
_SECRET_NAME = "|".join(  # names of secrets, not a secret
    (
        r"[\w.-]*(?:authorization|cookie|token|passw\w*|secret|totp|csrf|api[-_]?key",
        r"credential|session|samsyn_\w+)[\w.-]*",
        "code",
        "kod",
        "otp",
    )
)
# Secrets inside text: schemes with credentials, JWTs, name=value pairs (query strings, form
# bodies, Cookie headers) and quoted pairs (reprs of dicts, header lists and JSON).
_SECRET_TEXT = (
    (re.compile(r"(?i)\b(bearer|basic|digest)(\s+)[A-Za-z0-9._~+/=-]+"), rf"\1\2{REDACTED}"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{4,}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*"), REDACTED),
    (
        re.compile(rf"(?i)(\b(?:{_SECRET_NAME})\s*=\s*)[^&;,\s'\"]+"),
        rf"\1{REDACTED}",
    ),
    (
        re.compile(rf"(?i)([\"']\s*(?:{_SECRET_NAME})\s*[\"']\s*[:,]\s*b?)([\"'])(?:(?!\2).)*\2"),
        rf"\1\2{REDACTED}\2",
    ),
)


def redact_text(text: str) -> str:
    for pattern, replacement in _SECRET_TEXT:
        text = pattern.sub(replacement, text)
    return text


def _redact(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, bytes):
        return redact_text(value.decode("utf-8", "replace"))
    if depth > 5:
        return value
    if isinstance(value, Mapping):
        return {
            key: REDACTED
            if isinstance(key, str | bytes) and _is_secret_key(key)
            else _redact(item, depth + 1)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        items = [_redact(item, depth + 1) for item in value]
        if (
            isinstance(value, tuple)  # a (name, value) header pair
            and len(value) == 2
            and isinstance(value[0], str | bytes)
            and _is_secret_key(value[0])
        ):
            items[1] = REDACTED
        return items if isinstance(value, list) else tuple(items)
    return value


def _is_secret_key(key: str | bytes) -> bool:
    name = key.decode("latin-1") if isinstance(key, bytes) else key
    return bool(_SECRET_KEY.search(name))


def redact_secrets(_logger: WrappedLogger, _name: str, event_dict: EventDict) -> EventDict:
    """A processor: no secret leaves in a log line, under a telling key or inside a text."""
    return {
        key: REDACTED if _is_secret_key(key) else _redact(value)
        for key, value in event_dict.items()
    }


def format_exception(exc_info: ExcInfo) -> str:
    """Type, message and the innermost frames of each exception in the chain; never locals."""
    _, exc, _tb = exc_info
    lines = traceback.TracebackException.from_exception(
        exc, limit=-MAX_TRACEBACK_FRAMES, capture_locals=False
    ).format()
    text = "".join(lines)
    if len(text) > MAX_EXCEPTION_CHARS:
        half = MAX_EXCEPTION_CHARS // 2
        text = f"{text[:half]}\n… ({len(text) - 2 * half} characters left out) …\n{text[-half:]}"
    return text


def _plain_exception(sio: Any, exc_info: ExcInfo) -> None:
    """The console's exception formatter, in case an `exc_info` reaches it: the same text."""
    sio.write("\n" + format_exception(exc_info))


def processors(*, json: bool) -> tuple[list[structlog.types.Processor], structlog.types.Processor]:
    """The chain every line goes through (structlog's own and the standard library's), and
    the renderer that ends it."""
    shared: list[structlog.types.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        structlog.processors.ExceptionRenderer(format_exception),
        redact_secrets,
    ]
    renderer: structlog.types.Processor = (
        structlog.processors.JSONRenderer()
        if json
        else structlog.dev.ConsoleRenderer(colors=False, exception_formatter=_plain_exception)
    )
    return shared, renderer


def configure_logging(*, json: bool, level: str = "INFO") -> None:
    shared, renderer = processors(json=json)
    structlog.configure(
        processors=[*shared, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Route the standard library's loggers (uvicorn, alembic) through the same processors.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error"):
        logging.getLogger(name).handlers = []
        logging.getLogger(name).propagate = True
    # Our middleware logs each request with its id; uvicorn's own access line would not have one.
    logging.getLogger("uvicorn.access").disabled = True
    # fpdf2 subsets the report's font with fontTools, which tells every table it prunes.
    logging.getLogger("fontTools").setLevel(logging.WARNING)
