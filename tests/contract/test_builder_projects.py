"""builder → projects: the builder's real client code (generations.peers) against the contract."""

from __future__ import annotations

import pytest
from pact import match

from generations import peers
from generations.publication import publication_summary
from oasis_common import client
from oasis_common.errors import NotFound
from tests.contract import examples, matchers
from tests.contract.consumers import peers_at

JSON = "application/json"
OWNER = {"owner_id": examples.USER_ID}


@pytest.fixture(autouse=True)
def _service_token(monkeypatch):
    """The token from auth is another contract (test_services_auth); here it is an example."""
    monkeypatch.setattr(client, "service_token", lambda audience: examples.SERVICE_TOKEN)


def test_the_builder_reads_a_project_with_its_owner(pacts):
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a request for a project's metadata on behalf of its owner")
        .given("a project of the user", OWNER)
        .with_request("GET", matchers.project_path())
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(200)
        .with_body(
            {
                "id": matchers.uuid(examples.PROJECT_ID),
                "owner_id": examples.USER_ID,
                "name": match.str("Landing page"),
                "current_revision": match.int(1),
                "size": match.int(2048),
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, peers_at(projects=url):
        project = peers.project_get(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID)

    assert project["owner_id"] == examples.USER_ID
    assert (project["current_revision"], project["size"]) == (1, 2048)


def test_another_users_project_is_not_found_for_the_builder(pacts):
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a request for a project's metadata on behalf of someone else")
        .given("a project of another user")
        .with_request("GET", matchers.project_path())
        .with_query_parameter("owner_id", examples.USER_ID)
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(404)
        .with_body(matchers.error("not_found"), content_type=JSON)
    )
    with pacts.serving(pact) as url, peers_at(projects=url), pytest.raises(NotFound):
        peers.project_get(project_id=examples.PROJECT_ID, owner_id=examples.USER_ID)


def test_the_builder_takes_a_snapshot_of_the_files(pacts):
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a request for a snapshot of a project's files")
        .given("a project of the user", OWNER)
        .with_request("GET", matchers.project_path("/snapshot"))
        .with_query_parameters(
            {"owner_id": examples.USER_ID, "max_bytes": match.regex("200000", regex=r"^\d+$")}
        )
        .with_header("Authorization", matchers.service_token())
        .will_respond_with(200)
        .with_body(
            {
                "revision": match.int(1),
                "files": match.each_like(
                    {
                        "path": match.str("index.html"),
                        "sha256": match.regex("ab" * 32, regex=r"^[0-9a-f]{64}$"),
                        "size": match.int(38),
                        "is_text": match.bool(True),
                        "content": match.str("<!doctype html>\n<h1>Hello</h1>\n"),
                    }
                ),
                "publication": {"sites": []},
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, peers_at(projects=url):
        snapshot = peers.project_snapshot(
            project_id=examples.PROJECT_ID, owner_id=examples.USER_ID, max_bytes=200000
        )

    assert snapshot["revision"] == 1
    assert snapshot["files"][0]["path"] == "index.html"
    assert snapshot["publication"] == {"sites": []}


def changes_request(generation_id: str, path: str) -> dict:
    return {
        "owner_id": examples.USER_ID,
        "generation_id": generation_id,
        "base_revision": 1,
        "message": "Add a page",
        "writes": [{"path": path, "text": "<h1>New</h1>\n"}],
        "deletes": [],
        "renames": [],
    }


def apply(generation_id: str, path: str) -> dict:
    body = changes_request(generation_id, path)
    return peers.project_apply_changes(
        project_id=examples.PROJECT_ID,
        owner_id=examples.USER_ID,
        generation_id=generation_id,
        base_revision=body["base_revision"],
        message=body["message"],
        changes={key: body[key] for key in ("writes", "deletes", "renames")},
    )


def test_the_builder_applies_a_generations_changes_as_one_revision(pacts):
    generation = examples.GENERATIONS["changes"]
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a generation's change set")
        .given("a project of the user", OWNER)
        .with_request("POST", matchers.project_path("/changes"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"generation:{generation}")
        .with_body(changes_request(generation, "about.html"), content_type=JSON)
        .will_respond_with(201)
        .with_body({"number": match.int(2)}, content_type=JSON)
    )
    with pacts.serving(pact) as url, peers_at(projects=url):
        revision = apply(generation, "about.html")

    assert revision["number"] == 2


def test_a_stale_base_revision_is_a_conflict_for_the_builder(pacts):
    generation = examples.GENERATIONS["conflict"]
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a generation's change set to a file that changed since its base revision")
        .given("a project changed since revision 1", {**OWNER, "path": "index.html"})
        .with_request("POST", matchers.project_path("/changes"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"generation:{generation}")
        .with_body(changes_request(generation, "index.html"), content_type=JSON)
        .will_respond_with(409)
        .with_body(
            matchers.error("stale_base_revision", {"paths": match.each_like("index.html")}), content_type=JSON
        )
    )
    with pacts.serving(pact) as url, peers_at(projects=url), pytest.raises(peers.ChangeConflict) as conflict:
        apply(generation, "index.html")

    assert conflict.value.paths == ["index.html"]


def test_the_builder_learns_the_publication_when_it_lands_a_revision(pacts):
    generation = examples.GENERATIONS["published"]
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a generation's change set to a project one of whose sites serves revision 1")
        .given("a project of the user published at revision 1", {**OWNER, "site_id": examples.SITE_ID})
        .with_request("POST", matchers.project_path("/changes"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"generation:{generation}")
        .with_body(changes_request(generation, "about.html"), content_type=JSON)
        .will_respond_with(201)
        .with_body(
            {
                "number": match.int(2),
                "publication": {
                    "sites": match.each_like(
                        {
                            "id": matchers.uuid(examples.SITE_ID),
                            "slug": match.str("bakery"),
                            "url": match.str(examples.SITE["url"]),
                            "live_revision": match.int(1),
                            "status": "live",
                        }
                    )
                },
            },
            content_type=JSON,
        )
    )
    with pacts.serving(pact) as url, peers_at(projects=url):
        revision = apply(generation, "about.html")

    summary = publication_summary(publication=revision["publication"], revision=revision["number"])
    assert summary == {
        "publication": {"sites": [examples.SITE]},
        "published_revision": 1,
        "revision_is_live": False,
    }


def test_the_builder_rewinds_a_conversation_by_restoring_the_revision_its_run_started_from(pacts):
    pact = pacts.new("builder", "projects")
    (
        pact.upon_receiving("a restore of revision 1 on behalf of the owner, for a conversation's rewind")
        .given("a project changed since revision 1", {**OWNER, "path": "index.html"})
        .with_request("POST", matchers.project_path("/restore"))
        .with_header("Authorization", matchers.service_token())
        .with_body(
            {"owner_id": examples.USER_ID, "revision": 1, "message": "Rewind to before: a bakery"},
            content_type=JSON,
        )
        .will_respond_with(201)
        .with_body({"number": match.int(3)}, content_type=JSON)
    )
    with pacts.serving(pact) as url, peers_at(projects=url):
        landed, created = peers.project_restore(
            project_id=examples.PROJECT_ID,
            owner_id=examples.USER_ID,
            revision=1,
            message="Rewind to before: a bakery",
        )

    assert (landed["number"], created) == (3, True)
