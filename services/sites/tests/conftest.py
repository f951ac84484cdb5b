"""Fixtures for the sites tests: callers with tokens, projects faked over HTTP, a fresh site store."""

import uuid

import pytest
import responses
from django.test import TestCase
from rest_framework.test import APIClient

from hosting.store import store
from oasis_common import client
from oasis_common.testing import clear_cache, user_token
from tests import peers
from tests.dns_server import FakeDns

SITE_FILES = {
    "index.html": b"<!doctype html>\n<h1>Hello</h1>\n" + b"<p>Welcome to the site.</p>\n" * 60,
    "css/site.css": b"h1 { color: teal; }\n",
    "img/dot.png": b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 8,
}


@pytest.fixture(autouse=True)
def _clean_cache(request):
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


@pytest.fixture(autouse=True)
def site_store(settings, tmp_path):
    """Each test gets an empty store of its own."""
    settings.SITES = {**settings.SITES, "STORE": tmp_path / "store"}
    return store()


@pytest.fixture(autouse=True)
def _fresh_service_tokens():
    client.reset_token_cache()
    yield
    client.reset_token_cache()


@pytest.fixture
def user_id():
    return uuid.uuid4()


@pytest.fixture
def other_user_id():
    return uuid.uuid4()


class CommittingClient(APIClient):
    """Runs each request's on-commit callbacks, as the commit of a real request would."""

    def request(self, **request):
        with TestCase.captureOnCommitCallbacks(execute=True):
            return super().request(**request)


def client_for(user_id) -> APIClient:
    api = CommittingClient()
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user_id)}")
    return api


@pytest.fixture
def api(db, user_id):
    return client_for(user_id)


@pytest.fixture
def other_api(db, other_user_id):
    return client_for(other_user_id)


@pytest.fixture
def anonymous(db):
    return APIClient()


@pytest.fixture
def projects():
    """Projects (and auth's service tokens) as sites reaches them over HTTP."""
    fake = peers.FakeProjects()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        peers.install(mock, fake)
        yield fake


@pytest.fixture
def project_id(projects, user_id):
    """A project of the user at revision 1."""
    return projects.add(user_id, SITE_FILES)


@pytest.fixture
def site(api, project_id):
    response = api.post("/api/v1/sites/", {"project_id": project_id, "slug": "my-site"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture
def published(api, site):
    response = api.post(f"/api/v1/sites/{site['id']}/deployments/", {}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


@pytest.fixture(scope="session")
def _dns_server():
    server = FakeDns()
    server.start()
    yield server
    server.stop()


@pytest.fixture
def dns(_dns_server, settings):
    """A DNS server the domain checks ask; each test starts with no records."""
    _dns_server.resolver.records.clear()
    settings.SITES = {**settings.SITES, "DNS_NAMESERVERS": [_dns_server.address], "DNS_TIMEOUT_SECONDS": 2.0}
    return _dns_server
