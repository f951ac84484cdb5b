"""Change sets: writes, deletes and renames as one revision, all or nothing, guarded by base_revision."""

import base64
import hashlib

import pytest

from files.models import Blob, FileChange, Revision
from oasis_common.testing import error_of
from tests.helpers import binary, change_set, file_url, files_of, text, write


def sha(content: bytes | str) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


@pytest.fixture
def site(ada, project):
    write(ada, project, "index.html", "<h1>Home</h1>\n")  # r1
    write(ada, project, "style.css", "body {}\n")  # r2
    write(ada, project, "logo.png", b"\x89PNG\x00old")  # r3
    return project


def test_a_change_set_applies_writes_deletes_and_renames_as_one_revision(ada, site):
    response = change_set(
        ada,
        site,
        base_revision=3,
        message="Restyle",
        writes=[text("index.html", "<h1>Hello</h1>\n"), binary("img/new.png", b"\x89PNG\x00new")],
        deletes=["logo.png"],
        renames=[{"from": "style.css", "to": "css/style.css"}],
    )

    assert response.status_code == 201
    body = response.json()
    assert body["number"] == 4
    assert body["parent"] == 3
    assert body["message"] == "Restyle"
    assert body["changes"] == [
        {"path": "css/style.css", "action": "created", "renamed_from": "style.css"},
        {"path": "img/new.png", "action": "created", "renamed_from": None},
        {"path": "index.html", "action": "modified", "renamed_from": None},
        {"path": "logo.png", "action": "deleted", "renamed_from": None},
        {"path": "style.css", "action": "deleted", "renamed_from": None},
    ]
    assert files_of(ada, site) == {
        "css/style.css": sha("body {}\n"),
        "img/new.png": sha(b"\x89PNG\x00new"),
        "index.html": sha("<h1>Hello</h1>\n"),
    }
    assert ada.get(file_url(site, "img/new.png")).content == b"\x89PNG\x00new"


def test_a_rename_stores_no_new_bytes(ada, site):
    blobs = Blob.objects.count()

    change_set(ada, site, renames=[{"from": "style.css", "to": "main.css"}])

    assert Blob.objects.count() == blobs


def test_a_failing_write_rolls_back_the_whole_set(ada, site, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 100}
    before = files_of(ada, site)

    response = change_set(
        ada,
        site,
        writes=[text("index.html", "changed"), text("new.html", "new"), text("huge.html", "x" * 101)],
        deletes=["logo.png"],
        renames=[{"from": "style.css", "to": "main.css"}],
    )

    error_of(response, 413, "file_too_large")
    assert files_of(ada, site) == before
    assert Revision.objects.count() == 3
    assert not FileChange.objects.filter(number=4).exists()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"deletes": ["index.html", "missing.html"]}, 404, "file_not_found"),
        ({"renames": [{"from": "missing.css", "to": "x.css"}]}, 404, "file_not_found"),
        ({"renames": [{"from": "style.css", "to": "index.html"}]}, 409, "file_exists"),
        ({"writes": [text("index.html/inner", "x")]}, 409, "path_conflict"),
        ({"writes": [text("a.txt", "1"), text("a.txt", "2")]}, 400, "duplicate_path"),
        ({"writes": [text("a.txt", "1")], "deletes": ["a.txt"]}, 400, "duplicate_path"),
        ({"writes": [text("caf\u00e9", "1"), text("cafe\u0301", "2")]}, 400, "duplicate_path"),
        ({"writes": [text("../escape", "x")]}, 400, "path_traversal"),
        ({"writes": [text("ok", "x")], "base_revision": 99}, 400, "invalid_base_revision"),
    ],
)
def test_a_refused_change_set_changes_nothing(ada, site, body, status, code):
    before = files_of(ada, site)

    error_of(change_set(ada, site, **{"writes": [text("fresh.html", "new")], **body}), status, code)

    assert files_of(ada, site) == before
    assert Revision.objects.count() == 3


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "non_field_errors"),
        ({"writes": []}, "non_field_errors"),
        ({"writes": [{"path": "a"}]}, "writes"),
        ({"writes": [{"path": "a", "text": "x", "base64": "eA=="}]}, "writes"),
        ({"writes": [{"path": "a", "base64": "not base64!"}]}, "writes"),
        ({"writes": [{"path": 5, "text": "x"}]}, "writes"),
        ({"writes": "nope"}, "writes"),
        ({"deletes": "a.txt"}, "deletes"),
        ({"renames": [{"from": "a"}]}, "renames"),
        ({"writes": [text("a", "x")], "base_revision": -1}, "base_revision"),
        ({"writes": [text("a", "x")], "message": "m" * 501}, "message"),
    ],
)
def test_a_malformed_change_set_is_a_validation_error(ada, site, body, field):
    error = error_of(change_set(ada, site, **body), 400, "validation_error")

    assert field in error["details"]
    assert Revision.objects.count() == 3


def test_a_change_set_conflicts_when_a_touched_path_changed_after_its_base(ada, site):
    write(ada, site, "index.html", "<h1>Someone else</h1>")  # r4

    error = error_of(
        change_set(ada, site, base_revision=3, writes=[text("index.html", "mine"), text("new.html", "n")]),
        409,
        "stale_base_revision",
    )

    assert error["details"] == {"paths": ["index.html"], "base_revision": 3, "current_revision": 4}
    assert ada.get(file_url(site, "index.html")).content == b"<h1>Someone else</h1>"
    error_of(ada.get(file_url(site, "new.html")), 404)


def test_a_change_set_conflicts_on_a_renamed_or_deleted_path_too(ada, site):
    ada.delete(file_url(site, "logo.png"))  # r4

    error = error_of(
        change_set(ada, site, base_revision=3, renames=[{"from": "style.css", "to": "logo.png"}]),
        409,
        "stale_base_revision",
    )

    assert error["details"]["paths"] == ["logo.png"]


def test_a_change_set_applies_when_only_other_paths_changed_after_its_base(ada, site):
    write(ada, site, "style.css", "body { color: red }")  # r4

    response = change_set(ada, site, base_revision=3, writes=[text("index.html", "mine")])

    assert response.status_code == 201
    assert response.json()["number"] == 5


def test_text_and_base64_contents_are_stored_as_their_bytes(ada, project):
    change_set(
        ada,
        project,
        writes=[
            text("unicode.txt", "h\u00e9llo \u2603\n"),
            {"path": "raw.bin", "base64": base64.b64encode(bytes(range(256))).decode()},
        ],
    )

    assert ada.get(file_url(project, "unicode.txt")).content == "h\u00e9llo \u2603\n".encode()
    assert ada.get(file_url(project, "raw.bin")).content == bytes(range(256))


def test_a_change_that_changes_nothing_still_records_one_revision(ada, site):
    response = change_set(ada, site, writes=[text("index.html", "<h1>Home</h1>\n")])

    assert response.status_code == 201
    assert response.json()["number"] == 4
    assert response.json()["changes"] == []


def test_another_users_project_takes_no_change_set(ada, grace, site):
    error_of(change_set(grace, site, writes=[text("x.html", "x")]), 404, "not_found")
    assert Revision.objects.count() == 3
