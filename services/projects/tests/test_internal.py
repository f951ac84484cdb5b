"""The builder's internal API: project metadata, revision snapshots, idempotent change sets, restores."""

import base64
import uuid

import pytest

from files.models import Revision
from files.revisions import revision_commit
from oasis_common.testing import error_of, service_token_for, user_token
from tests.conftest import client_for
from tests.helpers import file_url, files_of, text, write

INTERNAL = "/internal/v1/projects/"


def internal_url(project: dict, suffix: str = "") -> str:
    return f"{INTERNAL}{project['id']}{suffix}"


def apply(builder, project, owner_id, *, key: str | None = None, **body):
    payload = {"owner_id": str(owner_id), "base_revision": 0, "generation_id": "gen-1", **body}
    return builder.post(
        internal_url(project, "/changes"),
        payload,
        format="json",
        HTTP_IDEMPOTENCY_KEY=key or uuid.uuid4().hex,
    )


# ---- metadata ----


def test_the_builder_reads_a_projects_metadata_with_its_owner(builder, ada, landing):
    response = builder.get(internal_url(landing), {"owner_id": str(ada.user_id)})

    assert response.status_code == 200
    assert response.json() == {**landing, "owner_id": str(ada.user_id)}


def test_a_project_of_another_owner_is_not_found(builder, grace, landing):
    error_of(builder.get(internal_url(landing), {"owner_id": str(grace.user_id)}), 404, "not_found")


@pytest.mark.parametrize("params", [{}, {"owner_id": "not-a-uuid"}])
def test_the_owner_is_required(builder, landing, params):
    error = error_of(builder.get(internal_url(landing), params), 400, "validation_error")

    assert "owner_id" in error["details"]


@pytest.mark.parametrize(
    ("token", "status"),
    [
        (None, 401),
        ("user", 401),
        ("wrong-audience", 401),
    ],
)
def test_the_internal_api_takes_only_a_service_token_for_this_service(ada, landing, token, status):
    tokens = {
        None: None,
        "user": user_token(ada.user_id),
        "wrong-audience": service_token_for("builder", "payments"),
    }
    client = client_for(tokens[token])

    for response in (
        client.get(internal_url(landing), {"owner_id": str(ada.user_id)}),
        client.get(internal_url(landing, "/snapshot"), {"owner_id": str(ada.user_id)}),
        apply(client, landing, ada.user_id, writes=[text("x", "x")]),
        client.post(internal_url(landing, "/restore"), {"owner_id": str(ada.user_id), "revision": 1}),
    ):
        error_of(response, status)
    assert Revision.objects.count() == 1


# ---- snapshot ----


def test_a_snapshot_lists_every_file_with_text_contents(builder, ada, landing):
    write(ada, landing, "logo.png", b"\x89PNG\x00\x01")

    response = builder.get(internal_url(landing, "/snapshot"), {"owner_id": str(ada.user_id)})

    assert response.status_code == 200
    body = response.json()
    assert body["project_id"] == landing["id"]
    assert body["revision"] == 2
    files = {file["path"]: file for file in body["files"]}
    assert list(files) == sorted(files)
    assert set(files) == set(files_of(ada, landing))
    index = files["index.html"]
    assert set(index) == {"path", "sha256", "size", "content_type", "is_text", "content", "omitted"}
    assert index["content"] == ada.get(file_url(landing, "index.html")).content.decode()
    assert index["content_type"] == "text/html"
    assert (index["is_text"], index["omitted"]) == (True, False)
    logo = files["logo.png"]
    assert (logo["is_text"], logo["content"], logo["omitted"]) == (False, None, False)
    assert body["content_bytes"] == sum(file["size"] for file in body["files"] if file["is_text"])


def test_a_snapshot_stays_within_its_byte_budget_and_flags_what_it_left_out(builder, ada, project):
    write(ada, project, "a.txt", "a" * 60)
    write(ada, project, "b.txt", "b" * 50)
    write(ada, project, "c.txt", "c" * 30)

    body = builder.get(
        internal_url(project, "/snapshot"), {"owner_id": str(ada.user_id), "max_bytes": 100}
    ).json()

    files = {file["path"]: file for file in body["files"]}
    assert body["budget"] == 100
    assert body["content_bytes"] == 90
    assert files["a.txt"]["content"] == "a" * 60
    assert (files["b.txt"]["content"], files["b.txt"]["omitted"]) == (None, True)
    assert files["c.txt"]["content"] == "c" * 30


def test_the_budget_is_capped_by_the_setting(builder, ada, project, settings):
    settings.OASIS = {**settings.OASIS, "SNAPSHOT_MAX_BYTES": 10}
    write(ada, project, "a.txt", "a" * 20)

    body = builder.get(
        internal_url(project, "/snapshot"), {"owner_id": str(ada.user_id), "max_bytes": 10**9}
    ).json()

    assert body["budget"] == 10
    assert body["files"][0]["omitted"] is True


def test_a_snapshot_of_an_older_revision(builder, ada, project):
    write(ada, project, "a.txt", "one")
    write(ada, project, "a.txt", "two")

    body = builder.get(
        internal_url(project, "/snapshot"), {"owner_id": str(ada.user_id), "revision": 1}
    ).json()

    assert body["revision"] == 1
    assert body["files"][0]["content"] == "one"


@pytest.mark.parametrize(
    ("params", "status"), [({"revision": 9}, 404), ({"revision": -1}, 400), ({"max_bytes": "x"}, 400)]
)
def test_a_snapshot_with_bad_parameters_is_refused(builder, ada, landing, params, status):
    error_of(
        builder.get(internal_url(landing, "/snapshot"), {"owner_id": str(ada.user_id), **params}), status
    )


def test_a_snapshot_for_another_owner_is_not_found(builder, grace, landing):
    error_of(builder.get(internal_url(landing, "/snapshot"), {"owner_id": str(grace.user_id)}), 404)


def test_a_2000_file_snapshot_takes_a_constant_number_of_queries(
    builder, ada, project, django_assert_num_queries
):
    revision_commit(
        project_id=project["id"],
        owner_id=ada.user_id,
        author_user_id=ada.user_id,
        writes={f"pages/{index:04}.html": f"<p>{index}</p>".encode() for index in range(2000)},
    )
    write(ada, project, "pages/0001.html", "<p>edited</p>")
    params = {"owner_id": str(ada.user_id)}

    with django_assert_num_queries(4):  # the project, its tree, the chosen contents, its sites
        now = builder.get(internal_url(project, "/snapshot"), params)
    with django_assert_num_queries(4):
        then = builder.get(internal_url(project, "/snapshot"), {**params, "revision": 1})

    assert len(now.json()["files"]) == len(then.json()["files"]) == 2000
    assert now.json()["files"][1]["content"] == "<p>edited</p>"
    assert then.json()["files"][1]["content"] == "<p>1</p>"


# ---- change sets ----


def test_the_builder_applies_a_change_set_authored_by_its_generation(builder, ada, landing):
    response = apply(
        builder,
        landing,
        ada.user_id,
        base_revision=1,
        message="Make it blue",
        generation_id="gen-42",
        writes=[
            text("style.css", "body { color: blue }\n"),
            {"path": "img/dot.png", "base64": base64.b64encode(b"\x89PNG\x00").decode()},
        ],
        deletes=["script.js"],
        renames=[{"from": "favicon.svg", "to": "icons/favicon.svg"}],
    )

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 2
    assert body["message"] == "Make it blue"
    assert body["author"] == {"type": "generation", "user_id": str(ada.user_id), "generation_id": "gen-42"}
    assert ada.get(file_url(landing, "style.css")).content == b"body { color: blue }\n"
    assert ada.get(file_url(landing, "img/dot.png")).content == b"\x89PNG\x00"
    assert "script.js" not in files_of(ada, landing)
    history = ada.get(f"/api/v1/projects/{landing['id']}/revisions/").json()["results"]
    assert history[0]["author"]["generation_id"] == "gen-42"


def test_the_same_generation_applied_twice_returns_the_same_revision(builder, ada, landing):
    first = apply(builder, landing, ada.user_id, base_revision=1, writes=[text("a.txt", "1")])
    again = apply(builder, landing, ada.user_id, base_revision=1, writes=[text("a.txt", "1")])

    assert (first.status_code, again.status_code) == (201, 200)
    assert again.json() == first.json()
    assert Revision.objects.filter(generation_id="gen-1").count() == 1


def test_a_repeated_idempotency_key_replays_the_first_answer(builder, ada, landing):
    first = apply(builder, landing, ada.user_id, key="k-1", base_revision=1, writes=[text("a.txt", "1")])
    replay = apply(builder, landing, ada.user_id, key="k-1", base_revision=1, writes=[text("a.txt", "1")])

    assert replay.status_code == 201
    assert replay["Idempotent-Replayed"] == "true"
    assert replay.json() == first.json()
    assert Revision.objects.count() == 2


def test_an_idempotency_key_reused_for_another_body_is_refused(builder, ada, landing):
    apply(builder, landing, ada.user_id, key="k-1", base_revision=1, writes=[text("a.txt", "1")])

    response = apply(builder, landing, ada.user_id, key="k-1", base_revision=1, writes=[text("a.txt", "2")])

    error_of(response, 422, "idempotency_key_reused")


def test_a_change_set_needs_an_idempotency_key(builder, ada, landing):
    response = builder.post(
        internal_url(landing, "/changes"),
        {"owner_id": str(ada.user_id), "base_revision": 1, "generation_id": "g", "writes": [text("a", "1")]},
        format="json",
    )

    error_of(response, 400, "idempotency_key_required")


def test_a_stale_base_revision_is_a_409_naming_the_paths(builder, ada, landing):
    write(ada, landing, "index.html", "user edit")  # r2

    response = apply(
        builder,
        landing,
        ada.user_id,
        base_revision=1,
        writes=[text("index.html", "ai"), text("new.html", "n")],
    )

    error = error_of(response, 409, "stale_base_revision")
    assert error["details"]["paths"] == ["index.html"]
    assert ada.get(file_url(landing, "index.html")).content == b"user edit"
    assert not Revision.objects.filter(generation_id="gen-1").exists()


def test_a_change_set_for_another_owner_is_not_found(builder, grace, landing):
    error_of(apply(builder, landing, grace.user_id, base_revision=1, writes=[text("a", "1")]), 404)
    assert Revision.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"generation_id": ""}, "generation_id"),
        ({"generation_id": "g" * 101}, "generation_id"),
        ({"base_revision": None}, "base_revision"),
        ({"owner_id": "nobody"}, "owner_id"),
        ({"writes": []}, "non_field_errors"),
    ],
)
def test_a_malformed_internal_change_set_is_refused(builder, ada, landing, body, field):
    payload = {
        "owner_id": str(ada.user_id),
        "base_revision": 1,
        "generation_id": "g",
        "writes": [text("a", "1")],
    }
    response = builder.post(
        internal_url(landing, "/changes"), {**payload, **body}, format="json", HTTP_IDEMPOTENCY_KEY="k"
    )

    error = error_of(response, 400, "validation_error")

    assert field in error["details"]
    assert Revision.objects.count() == 1


# ---- restore (a conversation's rewind) ----


def restore(builder, project, owner_id, revision, **body):
    payload = {"owner_id": str(owner_id), "revision": revision, **body}
    return builder.post(internal_url(project, "/restore"), payload, format="json")


def test_the_builder_restores_an_earlier_revision_as_a_new_one(builder, ada, landing):
    first = files_of(ada, landing)
    apply(builder, landing, ada.user_id, base_revision=1, writes=[text("extra.html", "<p>later</p>")])

    response = restore(builder, landing, ada.user_id, 1, message="Rewind to before: add a page")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["number"] == 3
    assert body["message"] == "Rewind to before: add a page"
    assert "publication" in body
    assert files_of(ada, landing) == first


def test_restoring_what_is_already_there_makes_no_revision(builder, ada, landing):
    response = restore(builder, landing, ada.user_id, 1)

    assert response.status_code == 200
    assert response.json()["number"] == 1
    assert Revision.objects.count() == 1


def test_a_restore_for_another_owner_or_of_a_missing_revision_is_not_found(builder, ada, grace, landing):
    error_of(restore(builder, landing, grace.user_id, 1), 404, "not_found")
    error_of(restore(builder, landing, ada.user_id, 9), 404, "revision_not_found")
    assert Revision.objects.count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"revision": -1}, "revision"),
        ({"revision": "one"}, "revision"),
        ({"owner_id": "x", "revision": 1}, "owner_id"),
    ],
)
def test_a_malformed_restore_is_refused(builder, ada, landing, body, field):
    payload = {"owner_id": str(ada.user_id), **body}

    error = error_of(
        builder.post(internal_url(landing, "/restore"), payload, format="json"), 400, "validation_error"
    )

    assert field in error["details"]


def test_restoring_revision_0_empties_the_project_and_an_empty_one_stays_as_it_is(
    builder, ada, landing, project
):
    emptied = restore(builder, landing, ada.user_id, 0)
    untouched = restore(builder, project, ada.user_id, 0)

    assert emptied.status_code == 201, emptied.content
    assert emptied.json()["number"] == 2
    assert files_of(ada, landing) == {}
    assert untouched.status_code == 200, untouched.content
    assert untouched.json()["number"] == 0
    assert Revision.objects.filter(project_id=project["id"]).count() == 0
