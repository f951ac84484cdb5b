"""The sites service's internal API: a revision's manifest, and blob contents in bounded batches."""

import base64
import hashlib

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from files.revisions import revision_commit
from oasis_common.testing import error_of, user_token
from tests.conftest import client_for

INTERNAL = "/internal/v1/projects/"


def manifest_url(project: dict, revision="current") -> str:
    return f"{INTERNAL}{project['id']}/revisions/{revision}/manifest"


def blobs_url(project: dict) -> str:
    return f"{INTERNAL}{project['id']}/blobs"


def commit(project: dict, owner_id, files: dict[str, bytes]) -> int:
    done = revision_commit(project_id=project["id"], owner_id=owner_id, author_user_id=owner_id, writes=files)
    return done.revision.number


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def site_project(ada, project):
    commit(
        project,
        ada.user_id,
        {"index.html": b"<h1>One</h1>", "css/site.css": b"h1 {}", "logo.png": b"\x89PNG"},
    )
    commit(project, ada.user_id, {"index.html": b"<h1>Two</h1>"})
    return project


def test_the_manifest_of_the_current_revision_lists_every_file_with_its_hash_size_and_type(
    builder, ada, site_project
):
    response = builder.get(manifest_url(site_project), {"owner_id": str(ada.user_id)})

    assert response.status_code == 200
    body = response.json()
    assert (body["project_id"], body["revision"], body["file_count"]) == (site_project["id"], 2, 3)
    assert body["files"] == [
        {"path": "css/site.css", "sha256": sha(b"h1 {}"), "size": 5, "content_type": "text/css"},
        {"path": "index.html", "sha256": sha(b"<h1>Two</h1>"), "size": 12, "content_type": "text/html"},
        {"path": "logo.png", "sha256": sha(b"\x89PNG"), "size": 4, "content_type": "image/png"},
    ]
    assert body["size"] == 21


def test_the_manifest_of_an_earlier_revision_is_that_revisions_tree(builder, ada, site_project):
    body = builder.get(manifest_url(site_project, 1), {"owner_id": str(ada.user_id)}).json()

    assert body["revision"] == 1
    assert {file["path"]: file["sha256"] for file in body["files"]}["index.html"] == sha(b"<h1>One</h1>")


def test_the_manifest_takes_the_same_number_of_queries_for_many_files(builder, ada, project):
    commit(project, ada.user_id, {f"pages/{number}.html": b"page %d" % number for number in range(300)})
    commit(project, ada.user_id, {"index.html": b"home"})

    def queries(revision) -> int:
        with CaptureQueriesContext(connection) as captured:
            response = builder.get(manifest_url(project, revision), {"owner_id": str(ada.user_id)})
        assert response.status_code == 200
        return len(captured)

    # The project, then its tree: the same two queries for three files or three hundred.
    assert queries("current") == queries(1) == 2


def test_a_revision_that_does_not_exist_is_not_found(builder, ada, site_project):
    error_of(
        builder.get(manifest_url(site_project, 9), {"owner_id": str(ada.user_id)}), 404, "revision_not_found"
    )


@pytest.mark.parametrize("revision", ["latest", "-1", "1.5"])
def test_a_revision_that_is_not_a_number_or_current_is_refused(builder, ada, site_project, revision):
    error = error_of(builder.get(manifest_url(site_project, revision), {"owner_id": str(ada.user_id)}), 400)

    assert "revision" in error["details"]


def test_another_owners_project_has_no_manifest(builder, grace, site_project):
    error_of(builder.get(manifest_url(site_project), {"owner_id": str(grace.user_id)}), 404, "not_found")


def test_blobs_come_in_the_order_asked_within_the_byte_budget(builder, ada, site_project):
    wanted = [sha(b"<h1>One</h1>"), sha(b"h1 {}"), sha(b"\x89PNG")]

    response = builder.post(
        blobs_url(site_project),
        {"owner_id": str(ada.user_id), "sha256": wanted, "max_bytes": 17},
        format="json",
    )

    assert response.status_code == 200
    blobs = response.json()["blobs"]
    assert [(blob["sha256"], blob["size"]) for blob in blobs] == [(wanted[0], 12), (wanted[1], 5)]
    assert base64.b64decode(blobs[0]["content"]) == b"<h1>One</h1>"


def test_the_first_blob_comes_even_when_it_alone_is_over_the_budget(builder, ada, site_project):
    response = builder.post(
        blobs_url(site_project),
        {"owner_id": str(ada.user_id), "sha256": [sha(b"<h1>Two</h1>")], "max_bytes": 1},
        format="json",
    )

    assert [blob["size"] for blob in response.json()["blobs"]] == [12]


def test_a_blob_the_project_does_not_have_is_not_found(builder, ada, grace, site_project):
    other = builder.post(
        blobs_url(site_project), {"owner_id": str(grace.user_id), "sha256": [sha(b"h1 {}")]}, format="json"
    )
    unknown = builder.post(
        blobs_url(site_project), {"owner_id": str(ada.user_id), "sha256": ["0" * 64]}, format="json"
    )

    error_of(other, 404, "not_found")
    assert error_of(unknown, 404, "blob_not_found")["details"] == {"sha256": ["0" * 64]}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"sha256": []}, "sha256"),
        ({"sha256": ["not-a-hash"]}, "sha256"),
        ({"sha256": ["a" * 64] * 501}, "sha256"),
        ({"sha256": ["a" * 64], "max_bytes": 0}, "max_bytes"),
        ({"sha256": ["a" * 64], "owner_id": "nobody"}, "owner_id"),
    ],
)
def test_a_bad_blob_request_names_the_field(builder, ada, site_project, body, field):
    response = builder.post(blobs_url(site_project), {"owner_id": str(ada.user_id), **body}, format="json")

    assert field in error_of(response, 400, "validation_error")["details"]


@pytest.mark.parametrize("url", ["manifest", "blobs"])
def test_a_user_token_is_refused(ada, site_project, url):
    user = client_for(user_token(ada.user_id))
    if url == "manifest":
        response = user.get(manifest_url(site_project), {"owner_id": str(ada.user_id)})
    else:
        response = user.post(
            blobs_url(site_project), {"owner_id": str(ada.user_id), "sha256": ["a" * 64]}, format="json"
        )

    error_of(response, 401)
