"""Two real users through the gateway: one's project is a 404 to the other, whatever the request says.

Each request below is one its owner is refused for (a 400, or a 404 naming what is missing),
so a stranger answered anything but the `not_found` envelope would learn the project exists.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import bearer, register, sign_in
from tests.e2e.system import SERVICES

pytestmark = pytest.mark.skipif("projects" not in SERVICES, reason="the projects service is not started")

PROJECTS = "/api/v1/projects/"
BUILDER = "/api/v1/builder/"
NOT_JSON = {"data": b"{not json", "headers": {"Content-Type": "application/json"}}
needs_builder = pytest.mark.skipif("builder" not in SERVICES, reason="the builder service is not started")

# (method, URL with {id}, what the request carries, the owner's status and error code)
REQUESTS = [
    ("PATCH", PROJECTS + "{id}/", {"json": {"name": ""}}, 400, "validation_error"),
    ("POST", PROJECTS + "{id}/changes/", {"json": {"writes": "not a list"}}, 400, "validation_error"),
    ("POST", PROJECTS + "{id}/changes/", NOT_JSON, 400, "malformed_request"),
    ("DELETE", PROJECTS + "{id}/files/missing.html", {}, 404, "file_not_found"),
    ("GET", PROJECTS + "{id}/revisions/diff/", {"params": {"from": "x"}}, 400, "validation_error"),
    ("POST", PROJECTS + "{id}/revisions/9/restore/", {"json": {}}, 404, "revision_not_found"),
    ("POST", PROJECTS + "{id}/preview/", {"json": {"expires_in": 1}}, 400, "validation_error"),
    pytest.param(
        "POST",
        BUILDER + "projects/{id}/generations/",
        {"json": {"prompt": ""}},
        400,
        "validation_error",
        marks=needs_builder,
    ),
    pytest.param(
        "POST",
        BUILDER + "projects/{id}/generations/",
        {"json": {"prompt": "a bakery", "model": "no-such-model"}},
        400,
        "unknown_model",
        marks=needs_builder,
    ),
]


def user(gateway) -> dict:
    return bearer(sign_in(gateway, register(gateway)["email"])["access"])


@pytest.fixture
def owner(gateway) -> dict:
    return user(gateway)


@pytest.fixture
def stranger(gateway) -> dict:
    return user(gateway)


@pytest.fixture
def project(gateway, owner) -> dict:
    response = gateway.post(PROJECTS, json={"name": "Mine", "template": "landing"}, headers=owner)
    assert response.status_code == 201, response.text
    return response.json()


def seen_by(gateway, headers: dict, project: dict) -> dict:
    base = f"{PROJECTS}{project['id']}"
    return {
        "project": gateway.get(f"{base}/", headers=headers).json(),
        "files": gateway.get(f"{base}/files/", headers=headers).json(),
        "revisions": gateway.get(f"{base}/revisions/", headers=headers).json()["count"],
    }


def send(gateway, method: str, url: str, carries: dict, headers: dict):
    return gateway.request(method, url, **{**carries, "headers": {**carries.get("headers", {}), **headers}})


@pytest.mark.parametrize(("method", "url", "carries", "owner_status", "owner_code"), REQUESTS)
def test_another_users_project_is_not_found_before_the_request_is_judged(
    gateway, owner, stranger, project, method, url, carries, owner_status, owner_code
):
    url = url.format(id=project["id"])
    before = seen_by(gateway, owner, project)

    theirs = send(gateway, method, url, carries, stranger)

    assert theirs.status_code == 404, theirs.text
    assert theirs.json()["error"]["code"] == "not_found"
    assert seen_by(gateway, owner, project) == before
    mine = send(gateway, method, url, carries, owner)
    assert (mine.status_code, mine.json()["error"]["code"]) == (owner_status, owner_code)


@needs_builder
def test_a_strangers_refused_generation_leaves_no_trace_for_the_owner(gateway, owner, stranger, project):
    base = f"{BUILDER}projects/{project['id']}"

    theirs = gateway.post(f"{base}/generations/", json={"prompt": "", "max_credits": 0}, headers=stranger)

    assert theirs.status_code == 404
    assert gateway.get(f"{base}/generations/", headers=owner).json()["count"] == 0
    assert gateway.get(f"{base}/messages/", headers=owner).json()["count"] == 0
