from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine

from api.main import create_app
from api.settings import Settings
from common.db import new_session
from common.keys import KeySet
from common.roles import AgencyKind, Role
from domain.agencies.models import Agency
from tests.builders import PASSWORD, make_agency, make_user


@pytest.fixture
def app(engine: Engine, keys: KeySet, tmp_path: Path) -> FastAPI:
    """The production settings, but without TOTP: these tests are not about logging in
    (tests/api/test_second_factor.py is, with the requirement on)."""
    return create_app(
        Settings(data_dir=tmp_path),
        keys=keys,
        engine=engine,
        run_sequencer=False,
        run_consent_sweep=False,
        second_factor_required=False,
    )


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, raise_server_exceptions=False) as test_client:
        yield test_client


def token_for(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    response = client.post("/api/v1/auth/token", data={"username": username, "password": password})
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


@dataclass(frozen=True)
class World:
    """A small municipality: two social-services units, a school, and a user per role."""

    unit: Agency
    other_unit: Agency
    school: Agency
    usernames: dict[str, str]


@pytest.fixture
def world(engine: Engine, keys: KeySet) -> World:
    with new_session(engine) as session:
        unit = make_agency(session, name="Socialtjänsten Test, Barn och unga")
        other_unit = make_agency(session, name="Socialtjänsten Test, Vuxen")
        school = make_agency(session, AgencyKind.SCHOOL, name="Testskolan")
        specs = {
            "social_worker": (unit, Role.SOCIAL_WORKER),
            "other_social_worker": (other_unit, Role.SOCIAL_WORKER),
            "coordinator": (unit, Role.COORDINATOR),
            "school_contact": (school, Role.CONTACT_PERSON),
            "steering": (unit, Role.STEERING_GROUP),
            "administrator": (unit, Role.ADMINISTRATOR),
            "auditor": (unit, Role.AUDITOR),
        }
        names = {
            key: make_user(session, agency, role, username=key.replace("_", "-")).username
            for key, (agency, role) in specs.items()
        }
        session.commit()
    return World(unit=unit, other_unit=other_unit, school=school, usernames=names)


def app_routes(app: FastAPI, prefix: str) -> set[tuple[str, str]]:
    """(method, full path) of every route under `prefix`, from the app's own route table.

    FastAPI keeps included routers unflattened, so `app.routes` alone misses their routes.
    """
    found = set()
    for context in iter_route_contexts(app.routes):
        route, path = context.original_route, context.path or ""
        if isinstance(route, APIRoute) and path.startswith(prefix):
            found |= {(method, path) for method in route.methods or ()}
    return found


def api_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, full path) of every JSON API route."""
    return app_routes(app, "/api/")
