from __future__ import annotations

from fastapi import FastAPI
from fastapi.testclient import TestClient

from tests.api.conftest import api_routes


def test_every_api_route_is_described(client: TestClient, app: FastAPI) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    documented = {(path, method.upper()) for path, item in spec["paths"].items() for method in item}
    routes = {(path, method) for method, path in api_routes(app)}
    assert len(routes) > 20  # the route table is really read
    assert routes <= documented


def test_every_operation_documents_its_success_and_error_bodies(client: TestClient) -> None:
    spec = client.get("/api/v1/openapi.json").json()
    for path, item in spec["paths"].items():
        if not path.startswith("/api/"):
            continue
        for method, operation in item.items():
            statuses = set(operation["responses"])
            assert statuses & {"200", "201", "204"}, (method, path)
            assert "401" in statuses, (method, path)
            for status in statuses - {"204"}:
                assert "content" in operation["responses"][status], (method, path, status)
