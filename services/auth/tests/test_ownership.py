"""Every auth endpoint that names an object answers 404 for another user's, whatever the body says.

Ownership is checked before the body is validated: a 400 for someone else's object would
tell its id exists. One table of auth's object endpoints, each asked by its owner and by
another user, with a valid and an invalid body.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from apikeys.models import ApiKey
from tests.helpers import error_of

KEY = "/api/v1/auth/api-keys/{id}/"

# (method, path, body, the owner's status)
OBJECT_ENDPOINTS = [
    ("get", KEY, None, 200),
    ("patch", KEY, {"name": "renamed"}, 200),
    ("patch", KEY, {"name": ""}, 400),
    ("patch", KEY, {"name": ["not", "a", "name"]}, 400),
    ("patch", KEY, {}, 400),
    ("delete", KEY, None, 204),
    ("delete", KEY, {"unexpected": ["body"]}, 204),
]
IDS = [f"{method}-{body}" for method, _, body, _ in OBJECT_ENDPOINTS]


@pytest.fixture
def their_key(authed):
    response = authed.post("/api/v1/auth/api-keys/", {"name": "owned"}, format="json")
    assert response.status_code == 201, response.content
    return ApiKey.objects.get(pk=response.json()["id"])


def call(client, method, path, key, body):
    return getattr(client, method)(path.format(id=key.pk), body, format="json")


@pytest.mark.parametrize(("method", "path", "body", "owner_status"), OBJECT_ENDPOINTS, ids=IDS)
def test_the_owner_gets_an_answer_about_their_object(authed, their_key, method, path, body, owner_status):
    response = call(authed, method, path, their_key, body)

    assert response.status_code == owner_status, response.content


@pytest.mark.parametrize(("method", "path", "body", "owner_status"), OBJECT_ENDPOINTS, ids=IDS)
def test_another_user_gets_404_whatever_the_body(other_authed, their_key, method, path, body, owner_status):
    response = call(other_authed, method, path, their_key, body)

    error_of(response, 404, "not_found")
    assert ApiKey.objects.filter(pk=their_key.pk, name="owned").exists()


def _object_endpoints(patterns, prefix=""):
    """(path, method) of every handler behind a public route that names an object."""
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _object_endpoints(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/") and "<" in route:
            view = pattern.callback.view_class
            for method in view.http_method_names:
                if method not in ("head", "options") and hasattr(view, method):
                    yield "/" + route, method


def test_the_table_covers_every_object_endpoint_of_auth_and_each_of_its_methods():
    tabled = {(path.replace("{id}", "<uuid:key_id>"), method) for method, path, _, _ in OBJECT_ENDPOINTS}

    assert set(_object_endpoints(get_resolver().url_patterns)) == tabled
