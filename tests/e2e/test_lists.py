"""Lists through the gateway: page links the client can follow, and the orderings each list offers."""

from __future__ import annotations

import time
from datetime import datetime

import pytest
from routes import ROUTES

from oasis_common.testing import list_operations, ordering_parameter
from tests.e2e.conftest import Client, bearer, fresh_ip, register, sign_in
from tests.e2e.system import REPO

# Every list of the public API; a new one needs a row here (see the last test).
LISTS = (
    "/api/v1/auth/api-keys/",
    "/api/v1/projects/",
    "/api/v1/projects/templates/",
    "/api/v1/projects/{project_id}/revisions/",
    "/api/v1/payments/ledger/",
    "/api/v1/payments/packs/",
    "/api/v1/builder/models/",
    "/api/v1/builder/projects/{project_id}/generations/",
    "/api/v1/builder/projects/{project_id}/messages/",
    "/api/v1/builder/projects/{project_id}/conversations/",
    "/api/v1/builder/conversations/{conversation_id}/messages/",
    "/api/v1/sites/",
    "/api/v1/sites/{site_id}/deployments/",
    "/api/v1/sites/{site_id}/domains/",
)
# Lists with at least two items for the owner below, one or more per service that pages.
PAGED = (
    "/api/v1/projects/",
    "/api/v1/projects/{project_id}/revisions/",
    "/api/v1/payments/ledger/",
    "/api/v1/builder/projects/{project_id}/messages/",
    "/api/v1/builder/projects/{project_id}/conversations/",
    "/api/v1/builder/conversations/{conversation_id}/messages/",
    "/api/v1/sites/{site_id}/deployments/",
)


def documented_lists() -> dict[str, dict]:
    """The lists of every public document the gateway publishes."""
    lists = {}
    for route in ROUTES:
        document = REPO / "services" / route.service / "openapi.yaml"
        if document.exists():
            lists.update(list_operations(document.read_text()))
    return lists


def documented_orderings() -> list[tuple[str, str]]:
    return [
        (path, choice)
        for path, operation in documented_lists().items()
        for choice in (ordering_parameter(operation) or {}).get("schema", {}).get("enum", [])
    ]


@pytest.fixture(scope="module")
def owner(system) -> dict:
    """A user with API keys, three projects (one with two revisions, both published), a finished chat."""
    client = Client(system.url, source_ip=fresh_ip())
    user = register(client)
    auth = bearer(sign_in(client, user["email"])["access"])
    for name in ("beta", "alpha"):
        assert client.post("/api/v1/auth/api-keys/", json={"name": name}, headers=auth).status_code == 201
    projects = {}
    for name, extra in (("cedar", {}), ("aspen", {"template": "landing"}), ("birch", {})):
        response = client.post("/api/v1/projects/", json={"name": name, **extra}, headers=auth)
        assert response.status_code == 201, response.text
        projects[name] = response.json()
    project = projects["aspen"]
    changed = client.put(f"/api/v1/projects/{project['id']}/files/notes.txt", data=b"Hours\n", headers=auth)
    assert changed.status_code in (200, 201), changed.text
    chat = client.post(
        f"/api/v1/builder/projects/{project['id']}/generations/",
        json={"prompt": "What does my site say?", "mode": "chat"},
        headers=auth,
    )
    assert chat.status_code == 202, chat.text
    wait_until_done(client, auth, chat.json()["id"])
    # A second conversation, started after the chat's: the project has two, in order of activity.
    other = client.post(
        f"/api/v1/builder/projects/{project['id']}/conversations/", json={"title": "Later"}, headers=auth
    )
    assert other.status_code == 201, other.text
    site = client.post(
        "/api/v1/sites/", json={"project_id": project["id"], "slug": f"aspen-{time.time_ns()}"}, headers=auth
    )
    assert site.status_code == 201, site.text
    for revision in (1, 2):
        published = client.post(
            f"/api/v1/sites/{site.json()['id']}/deployments/", json={"revision": revision}, headers=auth
        )
        assert published.status_code == 201, published.text
    for hostname in ("www.aspen.example", "aspen.example"):
        added = client.post(
            f"/api/v1/sites/{site.json()['id']}/domains/", json={"hostname": hostname}, headers=auth
        )
        assert added.status_code == 201, added.text
    return {
        "auth": auth,
        "project_id": project["id"],
        "site_id": site.json()["id"],
        "conversation_id": chat.json()["conversation_id"],
    }


def url_of(path: str, owner: dict) -> str:
    return path.format(
        project_id=owner["project_id"], site_id=owner["site_id"], conversation_id=owner["conversation_id"]
    )


def wait_until_done(client: Client, auth: dict, generation_id: str, timeout: float = 30) -> None:
    """The chat has answered, so the conversation holds two messages."""
    deadline = time.monotonic() + timeout
    while True:
        status = client.get(f"/api/v1/builder/generations/{generation_id}/", headers=auth).json()["status"]
        if status not in ("queued", "running"):
            break
        assert time.monotonic() < deadline, f"the chat is still {status}"
        time.sleep(0.1)
    assert status == "done"


def items_of(body) -> list[dict]:
    return body["results"] if isinstance(body, dict) else body


def sort_key(value):
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


# ---- page links ----


@pytest.mark.parametrize("path", PAGED)
def test_next_leads_to_page_two_and_previous_back(system, gateway, owner, path):
    url = url_of(path, owner)

    first = gateway.get(f"{url}?page_size=1", headers=owner["auth"]).json()
    second = gateway.get(first["next"], headers=owner["auth"])

    assert first["next"] == f"{system.url}{url}?page=2&page_size=1"
    assert second.status_code == 200
    assert second.json()["previous"] == f"{system.url}{url}?page_size=1"
    assert second.json()["results"] != first["results"]
    assert second.json()["count"] == first["count"]


def test_links_name_the_host_and_port_the_client_called(system, gateway, owner):
    called = {**owner["auth"], "Host": "oasis.example.test:8443"}

    first = gateway.get("/api/v1/projects/?page_size=1", headers=called).json()
    # The test cannot resolve that name: follow the link at the gateway's address, with its Host.
    second = gateway.get(first["next"].replace("http://oasis.example.test:8443", system.url), headers=called)

    assert first["next"] == "http://oasis.example.test:8443/api/v1/projects/?page=2&page_size=1"
    assert second.status_code == 200
    assert second.json()["previous"] == "http://oasis.example.test:8443/api/v1/projects/?page_size=1"


def test_behind_a_tls_terminating_proxy_links_are_https(system, owner):
    # As deployed behind a load balancer: OASIS_GATEWAY_FORWARDED_PROTO=$http_x_forwarded_proto.
    url = system.start_extra_gateway("gateway-behind-tls", forwarded_proto="$http_x_forwarded_proto")
    client = Client(url, source_ip=fresh_ip())
    headers = {**owner["auth"], "Host": "oasis.example.test", "X-Forwarded-Proto": "https"}

    body = client.get("/api/v1/projects/?page_size=1", headers=headers).json()

    assert body["next"] == "https://oasis.example.test/api/v1/projects/?page=2&page_size=1"


def test_a_client_cannot_point_the_links_elsewhere(system, gateway, owner):
    forged = {**owner["auth"], "X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}

    body = gateway.get("/api/v1/projects/?page_size=1", headers=forged).json()

    assert body["next"] == f"{system.url}/api/v1/projects/?page=2&page_size=1"


# ---- ordering ----


@pytest.mark.parametrize(("path", "ordering"), documented_orderings())
def test_a_list_is_sorted_by_each_ordering_it_documents(gateway, owner, path, ordering):
    url = url_of(path, owner)

    response = gateway.get(url, params={"ordering": ordering, "page_size": 200}, headers=owner["auth"])

    assert response.status_code == 200, response.text
    items = items_of(response.json())
    field = ordering.lstrip("-")
    values = [sort_key(item[field]) for item in items if field in item]
    assert values == sorted(values, reverse=ordering.startswith("-"))


@pytest.mark.parametrize("path", LISTS)
def test_a_list_refuses_an_ordering_it_does_not_offer_naming_those_it_does(gateway, owner, path):
    choices = ordering_parameter(documented_lists()[path])["schema"]["enum"]

    response = gateway.get(url_of(path, owner), params={"ordering": "sideways"}, headers=owner["auth"])

    assert response.status_code == 400, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["ordering"]
    assert all(choice in error["details"]["ordering"][0] for choice in choices)
    assert error["request_id"] == response.headers["X-Request-ID"]


def test_another_users_project_is_not_found_whatever_the_ordering(gateway, owner):
    stranger = bearer(sign_in(gateway, register(gateway)["email"])["access"])

    response = gateway.get(
        f"/api/v1/projects/{owner['project_id']}/revisions/",
        params={"ordering": "sideways"},
        headers=stranger,
    )

    assert response.status_code == 404


def test_every_list_of_the_public_api_is_in_the_table():
    assert set(documented_lists()) == set(LISTS)
