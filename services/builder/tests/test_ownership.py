"""Another user's project, conversation or generation is a 404 wherever a URL names it, body unread.

One table holds every public endpoint whose URL names a project or a generation, each with a
request its owner would be refused for where the endpoint reads any input (so a 400 could
leak that the object exists). The stranger gets the `not_found` envelope, nothing is held,
queued or recorded; the owner, with the very same request, gets the answer the input
deserves. A rule checks that no endpoint is missing from the table.
"""

import copy
import json

import pytest
from asgiref.sync import async_to_sync
from django.test import AsyncClient
from django.urls import URLPattern, URLResolver, get_resolver

from generations import views
from generations.models import Conversation, Event, Generation, Message
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.testing import user_token

BASE = "/api/v1/builder"

# (url name, method, path with {project} or {generation}, query or body or None, the owner's answer
# to the same request). Where an endpoint reads nothing but its URL, the owner's answer is a success.
ENDPOINTS = [
    ("project-generations", "post", "projects/{project}/generations/", {"prompt": ""}, 400),
    (
        "project-generations",
        "post",
        "projects/{project}/generations/",
        {"prompt": "hi", "model": "gpt-17"},
        400,
    ),
    (
        "project-generations",
        "post",
        "projects/{project}/generations/",
        {"prompt": "hi", "max_credits": 1},
        400,
    ),
    ("project-generations", "post", "projects/{project}/generations/", b"{not json", 400),
    ("project-generations", "get", "projects/{project}/generations/", {"ordering": "bogus"}, 400),
    ("project-messages", "get", "projects/{project}/messages/", {"ordering": "bogus"}, 400),
    ("project-conversations", "get", "projects/{project}/conversations/", {"ordering": "bogus"}, 400),
    ("project-conversations", "get", "projects/{project}/conversations/", {"archived": "maybe"}, 400),
    ("project-conversations", "post", "projects/{project}/conversations/", {"title": "x" * 201}, 400),
    ("conversation", "get", "conversations/{conversation}/", None, 200),
    ("conversation", "patch", "conversations/{conversation}/", {"archived": "maybe"}, 400),
    # Its run is still queued: the owner is asked to wait.
    ("conversation", "delete", "conversations/{conversation}/", None, 409),
    ("conversation-messages", "get", "conversations/{conversation}/messages/", {"ordering": "bogus"}, 400),
    # Its run is still queued: the owner is asked to wait.
    ("message-rewind", "post", "conversations/{conversation}/messages/{message}/rewind/", None, 409),
    ("generation", "get", "generations/{generation}/", None, 200),
    ("generation-cancel", "post", "generations/{generation}/cancel/", b"{not json", 200),
    ("generation-events-ticket", "post", "generations/{generation}/events/ticket/", None, 201),
    # A queued run has no proposal yet: the owner is told so, as the stranger is.
    ("generation-proposal", "get", "generations/{generation}/proposal/", None, 404),
    ("proposal-accept", "post", "generations/{generation}/proposal/accept/", {"paths": []}, 400),
    ("proposal-dismiss", "post", "generations/{generation}/proposal/dismiss/", None, 404),
    # A stream of a run that is still queued would stay open: the owner's side is tested in test_streams.
    ("generation-events", "get", "generations/{generation}/events/", None, None),
]


@pytest.fixture
def owned(transactional_db, demo_catalog, fakes, api, user_id):
    """The owner's project, with one queued generation on it."""
    projects, _ = fakes
    project_id = projects.add(user_id)
    response = api.post(f"{BASE}/projects/{project_id}/generations/", {"prompt": "a site"}, format="json")
    assert response.status_code == 202, response.content
    body = response.json()
    message = Message.objects.get(generation_id=body["id"])
    return {
        "project": project_id,
        "generation": body["id"],
        "conversation": body["conversation_id"],
        "message": str(message.id),
    }


def send(client, user_id, method: str, url: str, data):
    if url.endswith("/events/"):
        # An async view: the sync test client cannot call it.
        headers = {"Authorization": f"Bearer {user_token(user_id)}"}
        return async_to_sync(AsyncClient().get)(url, headers=headers)
    if method == "get":
        return client.get(url, data)
    if isinstance(data, bytes):  # JSON that does not parse
        return client.generic(method.upper(), url, data, content_type="application/json")
    return getattr(client, method)(url, data, format="json")


def recorded(fakes) -> dict:
    """What the builder and its peers keep about runs, in a comparable form."""
    projects, payments = fakes
    return {
        "conversations": list(Conversation.objects.order_by("pk").values()),
        "generations": list(Generation.objects.order_by("pk").values()),
        "messages": list(Message.objects.order_by("pk").values()),
        "events": list(Event.objects.order_by("pk").values()),
        "holds": copy.deepcopy(payments.holds),
        "applied": copy.deepcopy(projects.applied),
    }


@pytest.mark.parametrize(
    ("method", "path", "data", "owner_status"),
    [endpoint[1:] for endpoint in ENDPOINTS],
    ids=[f"{method} {path} {data!r:.24}" for _, method, path, data, _ in ENDPOINTS],
)
def test_another_users_object_is_not_found_whatever_the_request_says(
    owned, fakes, api, other_api, user_id, other_user_id, method, path, data, owner_status
):
    url = f"{BASE}/{path.format(**owned)}"
    before = recorded(fakes)

    response = send(other_api, other_user_id, method, url, data)

    assert response.status_code == 404, response.content
    error = json.loads(response.content)["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["code"] == "not_found"
    assert recorded(fakes) == before
    if owner_status is not None:
        assert send(api, user_id, method, url, data).status_code == owner_status


def test_an_estimate_for_another_users_project_is_not_found_whatever_the_model(owned, fakes, other_api):
    body = {"project_id": owned["project"], "prompt": "hi", "model": "gpt-17"}
    before = recorded(fakes)

    response = other_api.post(f"{BASE}/estimate/", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert recorded(fakes) == before


def _routes_naming_an_object(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _routes_naming_an_object(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and any(
            name in route for name in ("project_id", "conversation_id", "generation_id")
        ):
            yield pattern


def test_every_endpoint_naming_an_object_loads_it_first_and_is_in_the_table():
    routes = list(_routes_naming_an_object(get_resolver().url_patterns))

    assert {route.name for route in routes} == {name for name, *_ in ENDPOINTS}
    for route in routes:
        if route.callback is views.generation_events:
            continue  # an async stream, which checks the owner itself before it reads anything else
        assert issubclass(route.callback.view_class, OwnedObjectMixin), route.name
