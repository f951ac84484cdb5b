"""sites → projects: the sites service's real client code (hosting.peers) against the contract.

Publishing asks projects whether the user owns the project, for a revision's manifest, and
for the bytes of the blobs the site store lacks. The provider state "a project of the
user" holds a known page (tests/contract/examples.SITE_INDEX), so the blob interaction
carries its real hash and contents, which the consumer checks against each other.
"""

from __future__ import annotations

import base64
import hashlib
import sys
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.test import override_settings
from pact import match

from oasis_common import client
from oasis_common.errors import NotFound
from tests.contract import examples, matchers
from tests.contract.consumers import REPO

# After the builder's folder, so `config` stays the builder's (the settings in use) and
# `hosting` is the sites service's app.
if str(REPO / "services" / "sites") not in sys.path:
    sys.path.append(str(REPO / "services" / "sites"))

from hosting import peers

JSON = "application/json"
OWNER = {"owner_id": examples.USER_ID}
SHA256 = r"^[0-9a-f]{64}$"
INDEX_SHA = hashlib.sha256(examples.SITE_INDEX).hexdigest()


@pytest.fixture(autouse=True)
def _service_token(monkeypatch):
    """The token from auth is another contract (test_services_auth); here it is an example."""
    monkeypatch.setattr(client, "service_token", lambda audience: examples.SERVICE_TOKEN)


@contextmanager
def projects_at(url: str):
    peers.projects.cache_clear()
    try:
        with override_settings(OASIS={**settings.OASIS, "PROJECTS_URL": url}):
            yield
    finally:
        peers.projects.cache_clear()


def test_sites_checks_that_the_user_owns_the_project(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a request from sites for a project's metadata on behalf of its owner")
        .given("a project of the user", OWNER)
        .with_request("GET", matchers.project_path())
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(200)
        .with_body(
            {
                "id": matchers.uuid(examples.PROJECT_ID),
                "owner_id": examples.USER_ID,
                "current_revision": match.int(1),
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, projects_at(url):
        project = peers.project_get(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID)

    assert project["owner_id"] == examples.USER_ID


def test_another_users_project_is_not_found_for_sites(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a request from sites for a project's metadata on behalf of someone else")
        .given("a project of another user")
        .with_request("GET", matchers.project_path())
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(404)
        .with_body(matchers.error("not_found"), content_type=JSON)
    )
    with pacts.serving(pact) as url, projects_at(url), pytest.raises(NotFound) as raised:
        peers.project_get(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID)

    assert raised.value.code == "project_not_found"


def test_sites_reads_the_manifest_of_the_current_revision(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a request for the manifest of a project's current revision")
        .given("a project of the user", OWNER)
        .with_request("GET", matchers.project_path("/revisions/current/manifest"))
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(200)
        .with_body(
            {
                "revision": match.int(1),
                "files": match.each_like(
                    {
                        "path": match.str("index.html"),
                        "sha256": match.regex(INDEX_SHA, regex=SHA256),
                        "size": match.int(len(examples.SITE_INDEX)),
                        "content_type": match.str("text/html"),
                    }
                ),
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, projects_at(url):
        manifest = peers.revision_manifest(
            project_id=examples.PROJECT_ID, owner_id=examples.USER_ID, revision=None
        )

    assert manifest.revision == 1
    assert manifest.files[0] == peers.ManifestFile(
        "index.html", INDEX_SHA, len(examples.SITE_INDEX), "text/html"
    )


def test_a_revision_that_does_not_exist_has_no_manifest(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a request for the manifest of a revision the project does not have")
        .given("a project of the user", OWNER)
        .with_request("GET", matchers.project_path("/revisions/9/manifest"))
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(404)
        .with_body(matchers.error("revision_not_found"), content_type=JSON)
    )
    with pacts.serving(pact) as url, projects_at(url), pytest.raises(NotFound) as raised:
        peers.revision_manifest(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID, revision=9)

    assert raised.value.code == "revision_not_found"


def test_sites_fetches_the_blobs_it_lacks_by_hash(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a request for a batch of blob contents by hash")
        .given("a project of the user", OWNER)
        .with_request("POST", matchers.project_path("/blobs"))
        .with_header("Authorization", matchers.service_token())
        .with_body(
            {"owner_id": examples.USER_ID, "sha256": [INDEX_SHA], "max_bytes": 8388608}, content_type=JSON
        )
        .will_respond_with(200)
        .with_body(
            {
                "blobs": match.each_like(
                    {
                        "sha256": INDEX_SHA,
                        "content": match.str(base64.b64encode(examples.SITE_INDEX).decode()),
                    }
                )
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, projects_at(url):
        blobs = peers.blobs_fetch(
            project_id=examples.PROJECT_ID, owner_id=examples.USER_ID, sha256s=[INDEX_SHA], max_bytes=8388608
        )

    assert blobs == {INDEX_SHA: examples.SITE_INDEX}


def publication_request(state: dict | None) -> dict:
    return {"site_id": examples.SITE_ID, "version": 1, "state": state}


LIVE = {
    "slug": "bakery",
    "url": examples.SITE["url"],
    "live_revision": 1,
    "status": "live",
}


def test_sites_tells_projects_what_a_site_serves(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("what one of a project's sites serves, from sites")
        .given("a project of the user", OWNER)
        .with_request("PUT", matchers.project_path("/publication"))
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .with_body(publication_request(LIVE), content_type=JSON)
        .will_respond_with(200)
        .with_body({"sites": [examples.SITE]}, content_type=JSON)
    )
    with pacts.serving(pact) as url, projects_at(url):
        peers.publication_put(
            project_id=examples.PROJECT_ID,
            owner_id=examples.USER_ID,
            site_id=examples.SITE_ID,
            version=1,
            state=LIVE,
        )


def test_sites_tells_projects_a_site_was_deleted(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("a deleted site of a project, from sites")
        .given("a project of the user published at revision 1", {**OWNER, "site_id": examples.SITE_ID})
        .with_request("PUT", matchers.project_path("/publication"))
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .with_body({**publication_request(None), "version": 2}, content_type=JSON)
        .will_respond_with(200)
        .with_body({"sites": []}, content_type=JSON)
    )
    with pacts.serving(pact) as url, projects_at(url):
        peers.publication_put(
            project_id=examples.PROJECT_ID,
            owner_id=examples.USER_ID,
            site_id=examples.SITE_ID,
            version=2,
            state=None,
        )


def test_another_users_project_takes_no_news_of_a_site(pacts):
    pact = pacts.new("sites", "projects")
    (
        pact.upon_receiving("what a site serves, for a project of someone else")
        .given("a project of another user")
        .with_request("PUT", matchers.project_path("/publication"))
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .with_body(publication_request(LIVE), content_type=JSON)
        .will_respond_with(404)
        .with_body(matchers.error("not_found"), content_type=JSON)
    )
    # Nothing to tell: a project that is not the owner's (or no longer exists) shows no site.
    with pacts.serving(pact) as url, projects_at(url):
        peers.publication_put(
            project_id=examples.PROJECT_ID,
            owner_id=examples.USER_ID,
            site_id=examples.SITE_ID,
            version=1,
            state=LIVE,
        )
