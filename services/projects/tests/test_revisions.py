"""Revisions: the history list, one revision, exact diffs, and restores that never rewrite history."""

import pytest

from files.models import Blob, Revision
from files.revisions import revision_commit
from oasis_common.testing import error_of
from projects.models import Project
from tests.helpers import change_set, contents_of, file_url, files_of, project_url, text, write


@pytest.fixture
def history(ada, project):
    write(ada, project, "index.html", "<h1>One</h1>\n")  # r1
    write(ada, project, "style.css", "body {}\n")  # r2
    change_set(  # r3
        ada,
        project,
        message="Second draft",
        writes=[text("index.html", "<h1>Two</h1>\n<p>more</p>\n")],
        renames=[{"from": "style.css", "to": "css/style.css"}],
    )
    return project


def test_the_history_lists_revisions_newest_first(ada, history):
    response = ada.get(project_url(history, "revisions/"))

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3
    assert [revision["number"] for revision in body["results"]] == [3, 2, 1]
    latest = body["results"][0]
    assert set(latest) == {
        "number",
        "parent",
        "message",
        "author",
        "restored_from",
        "file_count",
        "size",
        "created_at",
        "changes",
    }
    assert latest["parent"] == 2
    assert latest["message"] == "Second draft"
    assert latest["author"] == {"type": "user", "user_id": str(ada.user_id), "generation_id": None}
    assert latest["file_count"] == 2
    assert [change["path"] for change in latest["changes"]] == ["css/style.css", "index.html", "style.css"]
    assert body["results"][2]["parent"] is None


def test_the_history_costs_the_same_queries_for_many_revisions(ada, project, django_assert_num_queries):
    for index in range(20):
        write(ada, project, f"f{index % 3}.txt", str(index))

    with django_assert_num_queries(4):  # project, count, page, changes
        response = ada.get(project_url(project, "revisions/"))

    assert response.json()["count"] == 20


def test_one_revision_is_read_by_number(ada, history):
    response = ada.get(project_url(history, "revisions/2/"))

    assert response.status_code == 200
    assert response.json()["number"] == 2
    assert response.json()["changes"] == [{"path": "style.css", "action": "created", "renamed_from": None}]


@pytest.mark.parametrize("number", [0, 4, 999])
def test_a_missing_revision_is_not_found(ada, history, number):
    error_of(ada.get(project_url(history, f"revisions/{number}/")), 404, "revision_not_found")


def test_the_diff_is_a_unified_diff_per_changed_file(ada, history):
    response = ada.get(project_url(history, "revisions/diff/"), {"from": 1, "to": 3})

    assert response.status_code == 200
    body = response.json()
    assert (body["from"], body["to"]) == (1, 3)
    by_path = {entry["path"]: entry for entry in body["files"]}
    assert list(by_path) == ["css/style.css", "index.html"]
    assert by_path["index.html"]["action"] == "modified"
    assert by_path["index.html"]["diff"] == (
        "--- a/index.html\n+++ b/index.html\n@@ -1 +1,2 @@\n-<h1>One</h1>\n+<h1>Two</h1>\n+<p>more</p>\n"
    )
    assert by_path["css/style.css"]["action"] == "created"
    assert by_path["css/style.css"]["diff"] == "--- /dev/null\n+++ b/css/style.css\n@@ -0,0 +1 @@\n+body {}\n"
    assert by_path["css/style.css"]["old_sha256"] is None


def test_the_diff_without_a_trailing_slash_works_too(ada, history):
    response = ada.get(project_url(history, "revisions/diff"), {"from": 2, "to": 3})

    assert response.status_code == 200
    assert {entry["action"] for entry in response.json()["files"]} == {"created", "deleted", "modified"}


def test_the_diff_defaults_to_the_last_revision_against_its_parent(ada, history):
    body = ada.get(project_url(history, "revisions/diff/")).json()

    assert (body["from"], body["to"]) == (2, 3)


def test_a_deleted_file_diffs_against_dev_null(ada, history):
    ada.delete(file_url(history, "index.html"))

    [entry] = ada.get(project_url(history, "revisions/diff/")).json()["files"]

    assert entry["action"] == "deleted"
    assert entry["new_sha256"] is None
    assert entry["diff"].startswith("--- a/index.html\n+++ /dev/null\n")


def test_a_missing_final_newline_is_marked(ada, project):
    write(ada, project, "a.txt", "one\ntwo")
    write(ada, project, "a.txt", "one\nthree")

    [entry] = ada.get(project_url(project, "revisions/diff/")).json()["files"]

    assert entry["diff"].endswith(
        "-two\n\\ No newline at end of file\n+three\n\\ No newline at end of file\n"
    )


def test_binary_files_get_a_marker_instead_of_a_diff(ada, project):
    write(ada, project, "logo.png", b"\x89PNG\x00one")
    write(ada, project, "logo.png", b"\x89PNG\x00two")

    [entry] = ada.get(project_url(project, "revisions/diff/")).json()["files"]

    assert entry["binary"] is True
    assert entry["diff"] == "Binary files a/logo.png and b/logo.png differ\n"


def test_a_diff_between_equal_trees_is_empty(ada, history):
    assert ada.get(project_url(history, "revisions/diff/"), {"from": 3, "to": 3}).json()["files"] == []


@pytest.mark.parametrize(("params", "status"), [({"from": 9}, 404), ({"to": 9}, 404), ({"from": "x"}, 400)])
def test_a_diff_with_bad_revisions_is_refused(ada, history, params, status):
    error_of(ada.get(project_url(history, "revisions/diff/"), params), status)


def test_the_diff_reads_a_constant_number_of_queries(ada, project, django_assert_num_queries):
    revision_commit(
        project_id=project["id"],
        owner_id=ada.user_id,
        author_user_id=ada.user_id,
        writes={f"{index}.txt": f"{index}\n".encode() for index in range(200)},
    )
    change_set(ada, project, writes=[text(f"{index}.txt", "changed\n") for index in range(0, 200, 2)])

    with django_assert_num_queries(4):  # project, old tree, new tree, the changed blobs
        response = ada.get(project_url(project, "revisions/diff/"), {"from": 1, "to": 2})

    assert len(response.json()["files"]) == 100


def test_restoring_makes_a_new_revision_equal_to_the_old_one(ada, history):
    before = contents_of(ada, history, revision=1)
    blobs = Blob.objects.count()

    response = ada.post(project_url(history, "revisions/1/restore/"), {}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert body["number"] == 4
    assert body["restored_from"] == 1
    assert body["message"] == "Restore revision 1"
    assert contents_of(ada, history) == before
    assert files_of(ada, history) == files_of(ada, history, revision=1)
    assert [revision.number for revision in Revision.objects.all()] == [4, 3, 2, 1]
    assert Blob.objects.count() == blobs


def test_a_restore_takes_a_message_and_can_itself_be_undone(ada, history):
    latest = files_of(ada, history)
    ada.post(project_url(history, "revisions/1/restore/"), {"message": "Back to one"}, format="json")

    response = ada.post(project_url(history, "revisions/3/restore/"), {}, format="json")

    assert response.json()["number"] == 5
    assert files_of(ada, history) == latest
    assert ada.get(project_url(history, "revisions/4/")).json()["message"] == "Back to one"


def test_restoring_the_current_revision_answers_it_and_makes_nothing(ada, history):
    current = ada.get(project_url(history, "revisions/3/")).json()
    project = Project.objects.get(pk=history["id"])

    responses = [ada.post(project_url(history, "revisions/3/restore/"), {}, format="json") for _ in range(2)]

    assert [response.status_code for response in responses] == [200, 200]
    assert [response.json() for response in responses] == [current, current]
    assert [revision.number for revision in Revision.objects.all()] == [3, 2, 1]
    assert Project.objects.get(pk=history["id"]).updated_at == project.updated_at


def test_restoring_an_older_revision_equal_to_the_current_tree_makes_nothing(ada, history):
    assert ada.post(project_url(history, "revisions/1/restore/"), {}, format="json").status_code == 201

    response = ada.post(project_url(history, "revisions/1/restore/"), {}, format="json")

    assert response.status_code == 200
    assert response.json()["number"] == 4
    assert Revision.objects.count() == 4


@pytest.mark.parametrize("number", [0, 4])
def test_restoring_a_missing_revision_is_not_found(ada, history, number):
    error_of(ada.post(project_url(history, f"revisions/{number}/restore/"), {}, format="json"), 404)

    assert Revision.objects.count() == 3


@pytest.mark.parametrize(
    ("method", "suffix"),
    [
        ("get", "revisions/"),
        ("get", "revisions/1/"),
        ("get", "revisions/diff/"),
        ("post", "revisions/1/restore/"),
    ],
)
def test_another_users_history_is_not_found(ada, grace, history, method, suffix):
    error_of(getattr(grace, method)(project_url(history, suffix), format="json"), 404, "not_found")

    assert Revision.objects.count() == 3
