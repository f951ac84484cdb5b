"""Another user's project is a 404 on every endpoint under it, before anything in the request is judged.

One table holds every public endpoint under `/api/v1/projects/{id}/`, each with a request its
owner would be refused for (so a 400 could leak that the project exists). The stranger gets
the `not_found` envelope and changes nothing; the owner, with the very same request, gets the
answer the input deserves. A rule checks that no endpoint is missing from the table.
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver

from files.models import Blob, FileChange, Revision, TreeEntry
from oasis_common.testing import error_of
from projects.models import Project
from projects.ownership import OwnedProjectView
from tests.helpers import project_url

# (url name, method, path under the project, query or body or None, the owner's answer to the same
# request). Where an endpoint reads nothing but its URL, the owner's answer is a success.
ENDPOINTS = [
    ("project", "get", "", None, 200),
    ("project", "patch", "", {"name": ""}, 400),
    ("project", "patch", "", b'{"name": ', 400),
    ("project", "delete", "", None, 204),
    ("project-export", "get", "export/", {"revision": "x"}, 400),
    ("files", "get", "files/", {"revision": "-1"}, 400),
    ("file", "get", "files/index.html", {"revision": "x"}, 400),
    ("file", "put", "files/a//b.html", b"<p>", 400),
    ("file", "delete", "files/../index.html", None, 400),
    ("changes", "post", "changes/", {"writes": "not a list"}, 400),
    ("changes", "post", "changes/", b"{not json", 400),
    ("revisions", "get", "revisions/", {"ordering": "bogus"}, 400),
    ("revision", "get", "revisions/1/", None, 200),
    ("revision-diff", "get", "revisions/diff/", {"from": "x"}, 400),
    ("revision-restore", "post", "revisions/1/restore/", {"message": "x" * 501}, 400),
    ("preview-create", "post", "preview/", {"expires_in": 1}, 400),
]


def send(client, method: str, url: str, data):
    if method == "get":
        return client.get(url, data)
    if method == "put":
        return client.generic("PUT", url, data, content_type="application/octet-stream")
    if isinstance(data, bytes):  # JSON that does not parse
        return client.generic(method.upper(), url, data, content_type="application/json")
    return getattr(client, method)(url, data, format="json")


def stored() -> dict:
    """Everything the service keeps, in a comparable form."""
    return {
        model.__name__: list(model.objects.order_by("pk").values(*fields))
        for model, fields in [
            (Project, ()),
            (Revision, ()),
            (FileChange, ()),
            (TreeEntry, ()),
            (Blob, ("pk", "project_id", "sha256")),
        ]
    }


@pytest.mark.parametrize(
    ("method", "suffix", "data", "owner_status"),
    [endpoint[1:] for endpoint in ENDPOINTS],
    ids=[f"{method} {suffix or '/'} {data!r:.20}" for _, method, suffix, data, _ in ENDPOINTS],
)
def test_another_users_project_is_not_found_whatever_the_request_says(
    ada, grace, landing, method, suffix, data, owner_status
):
    url = project_url(landing, suffix)
    before = stored()

    error_of(send(grace, method, url, data), 404, "not_found")

    assert stored() == before
    answer = send(ada, method, url, data)
    if owner_status >= 400:
        error_of(answer, owner_status)
    else:
        assert answer.status_code == owner_status


def test_a_stranger_sending_a_file_over_the_size_limit_is_told_not_found(ada, grace, landing, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 10}
    url = project_url(landing, "files/big.bin")

    error_of(send(grace, "put", url, b"x" * 11), 404, "not_found")
    error_of(send(ada, "put", url, b"x" * 11), 413, "file_too_large")


def _public_project_routes(patterns, prefix: str = ""):
    for pattern in patterns:
        route = prefix + str(pattern.pattern)
        if isinstance(pattern, URLResolver):
            yield from _public_project_routes(pattern.url_patterns, route)
        elif isinstance(pattern, URLPattern) and route.startswith("api/v1/") and "project_id" in route:
            yield pattern


def test_every_endpoint_under_a_project_loads_it_first_and_is_in_the_table():
    routes = list(_public_project_routes(get_resolver().url_patterns))

    assert {route.name for route in routes} == {name for name, *_ in ENDPOINTS}
    for route in routes:
        assert issubclass(route.callback.view_class, OwnedProjectView), route.name
