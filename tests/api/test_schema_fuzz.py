"""Property-based fuzzing of the JSON API against its own OpenAPI description (schemathesis).

Every operation gets generated requests, valid and invalid (out-of-range and 64-bit-busting
integers, times without an offset, missing and malformed fields), sent in-process to the
ASGI app as a user who may call it. The checks: no server error, and every response is one
the schema documents (status, headers, body). Deterministic (derandomized) and bounded.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Unsatisfiable
from schemathesis import checks
from schemathesis.core.result import Ok

from tests.api.conftest import World, token_for

# Times as clients send them: with an offset, with "Z", and without any (naive): the last was
# a 500 in the auditor's filters.
_OFFSETS = st.sampled_from(["", "Z", "+00:00", "+01:00", "-05:00", "+14:00"])
_TIMES = st.builds(
    lambda moment, offset: moment.isoformat() + offset,
    st.datetimes(min_value=datetime(1, 1, 1), max_value=datetime(9999, 12, 31)),  # noqa: DTZ001
    _OFFSETS,
)
schemathesis.openapi.format("date-time", _TIMES)
MAX_EXAMPLES = 15  # per operation and mode: some seconds per database

# No server error, and every response as documented. Not checked: that schema-valid input is
# accepted (a personnummer's check digit or a consent's dates are domain rules the schema
# cannot state; their 422 is documented), nor that every schema-invalid input is refused
# (unknown query parameters are ignored, as HTTP APIs commonly do).
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_headers_conformance,
    checks.response_schema_conformance,
]


@pytest.fixture
def tokens(app: FastAPI, world: World) -> dict[str, dict[str, str]]:
    with TestClient(app) as client:
        return {
            role: token_for(client, world.usernames[role]) for role in ("social_worker", "auditor")
        }


def _operations(
    api: schemathesis.BaseSchema,
) -> Iterator[schemathesis.APIOperation[Any, Any, Any, Any]]:
    for result in api.get_all_operations():
        assert isinstance(result, Ok), result.err()  # the app's schema is itself valid
        yield result.ok()


def _caller(path: str) -> str:
    """A user who may call the operation, so generated input reaches past the role check."""
    return "auditor" if path.startswith("/api/v1/audit") else "social_worker"


@pytest.mark.parametrize("mode", list(schemathesis.GenerationMode), ids=lambda m: m.value)
def test_api_answers_every_generated_request_as_documented(
    app: FastAPI, tokens: dict[str, dict[str, str]], mode: schemathesis.GenerationMode
) -> None:
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    for operation in _operations(api):
        strategy = operation.as_strategy(generation_mode=mode)
        if problem := _run(strategy, tokens[_caller(operation.path)], MAX_EXAMPLES):
            failures.append(f"{operation.method.upper()} {operation.path}: {problem}")
    assert not failures, "\n\n".join(failures)


def _run(
    strategy: st.SearchStrategy[schemathesis.Case[Any]], headers: dict[str, str], examples: int
) -> str | None:
    """The failures found among `examples` derandomized cases, or None."""

    @given(case=strategy)
    @settings(
        max_examples=examples,
        derandomize=True,
        database=None,
        deadline=None,
        phases=[Phase.explicit, Phase.generate],
        suppress_health_check=list(HealthCheck),
    )
    def call(case: schemathesis.Case[Any]) -> None:
        case.call_and_validate(headers=headers, checks=CHECKS)

    try:
        call()
    except Unsatisfiable:
        return None  # nothing to make invalid (an operation without input, in negative mode)
    except (Exception, BaseExceptionGroup) as failure:  # report every operation's failures
        return str(failure)
    return None


# Values that reached the database and failed there: integers past 64 bits, times without an
# offset, and times at the calendar's edges that UTC cannot hold.
_EDGE_INTEGERS = (2**63, 2**64 + 1, -(2**63) - 1)
_EDGE_TIMES = ("2026-01-01T00:00:00", "0001-01-01T00:00:00+01:00", "9999-12-31T23:59:59-05:00")


def _edge_values(parameter: dict[str, Any]) -> tuple[object, ...]:
    schema = parameter.get("schema", {})
    kinds = [schema, *schema.get("anyOf", [])]
    if any(kind.get("type") == "integer" for kind in kinds):
        return _EDGE_INTEGERS
    if any(kind.get("format") == "date-time" for kind in kinds):
        return _EDGE_TIMES
    return ()


def test_api_refuses_edge_values_in_every_parameter(
    app: FastAPI, tokens: dict[str, dict[str, str]]
) -> None:
    """Each integer and date-time query parameter of every operation, set to each edge value
    in turn (the rest generated): a 4xx or a documented answer, never a server error."""
    api = schemathesis.openapi.from_asgi("/api/v1/openapi.json", app)
    failures: list[str] = []
    tried = 0
    for operation in _operations(api):
        spec = api.raw_schema["paths"][operation.path][operation.method.lower()]
        for parameter in spec.get("parameters", []):
            if parameter["in"] != "query":
                continue
            for value in _edge_values(parameter):
                tried += 1
                strategy = operation.as_strategy(query={parameter["name"]: value})
                if problem := _run(strategy, tokens[_caller(operation.path)], 2):
                    name = f"{operation.method.upper()} {operation.path} {parameter['name']}"
                    failures.append(f"{name}={value}: {problem}")
    assert tried > 20  # the audit filters, pages and proof sizes at least
    assert not failures, "\n\n".join(failures)


def test_an_unsupported_method_is_405_naming_the_allowed_ones(client: TestClient) -> None:
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for path, operations in paths.items():
        documented = {method.upper() for method in operations}
        concrete = re.sub(r"\{[^}]+\}", "00000000-0000-4000-8000-000000000000", path)
        unsupported = next(m for m in ("PATCH", "PUT", "DELETE", "POST") if m not in documented)
        response = client.request(unsupported, concrete)
        assert response.status_code == 405, (unsupported, path)
        allowed = set(response.headers["Allow"].split(", "))
        assert allowed - {"HEAD"} == documented, path
        if path.startswith("/api/"):
            assert response.json()["error"] == "method_not_allowed"
