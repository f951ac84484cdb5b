"""Files: raw bytes in and out, ETags and If-Match, listings now and at older revisions, limits."""

import hashlib
import uuid

import pytest

from files.models import Blob, Revision
from files.revisions import revision_commit
from oasis_common.testing import error_of
from projects.models import Project
from tests.helpers import file_url, files_of, project_url, put_file, write

PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256))


def sha(content: bytes | str) -> str:
    return hashlib.sha256(content.encode() if isinstance(content, str) else content).hexdigest()


def test_putting_a_new_file_creates_it_in_a_new_revision(ada, project):
    response = put_file(ada, project, "index.html", "<h1>Hi</h1>")

    assert response.status_code == 201
    assert response.json() == {
        "path": "index.html",
        "size": 11,
        "sha256": sha("<h1>Hi</h1>"),
        "content_type": "text/html",
        "revision": 1,
    }
    assert response["ETag"] == f'"{sha("<h1>Hi</h1>")}"'
    assert ada.get(project_url(project)).json()["current_revision"] == 1


def test_putting_over_a_file_replaces_it(ada, project):
    write(ada, project, "index.html", "old")

    response = put_file(ada, project, "index.html", "new")

    assert response.status_code == 200
    assert response.json()["revision"] == 2
    assert ada.get(file_url(project, "index.html")).content == b"new"


def test_getting_a_file_returns_its_raw_bytes_with_type_and_etag(ada, project):
    write(ada, project, "img/logo.png", PNG)

    response = ada.get(file_url(project, "img/logo.png"))

    assert response.status_code == 200
    assert response.content == PNG
    assert response["Content-Type"] == "image/png"
    assert response["ETag"] == f'"{sha(PNG)}"'
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Content-Disposition"] == "attachment"
    assert response["Content-Security-Policy"] == "sandbox"


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("index.html", "text/html; charset=utf-8"),
        ("css/site.css", "text/css; charset=utf-8"),
        ("app.js", "text/javascript; charset=utf-8"),
        ("data.json", "application/json; charset=utf-8"),
        ("logo.svg", "image/svg+xml; charset=utf-8"),
        ("photo.JPG", "image/jpeg"),
        ("font.woff2", "font/woff2"),
        ("README", "application/octet-stream"),
        ("archive.css.gz", "application/gzip"),
    ],
)
def test_the_content_type_comes_from_the_extension_whatever_was_sent(ada, project, path, content_type):
    put_file(ada, project, path, b"x", CONTENT_TYPE="application/x-evil")

    assert ada.get(file_url(project, path))["Content-Type"] == content_type


def test_any_request_content_type_or_none_is_accepted(ada, project):
    for index, content_type in enumerate(["text/plain", "image/png", "multipart/form-data", ""]):
        response = ada.generic("PUT", file_url(project, f"f{index}.bin"), b"data", content_type=content_type)
        assert response.status_code == 201, response.content


def test_an_empty_body_makes_an_empty_file(ada, project):
    response = ada.generic("PUT", file_url(project, "empty.txt"), b"")

    assert response.status_code == 201
    assert response.json()["size"] == 0
    assert ada.get(file_url(project, "empty.txt")).content == b""


def test_any_accept_header_gets_the_bytes(ada, project):
    write(ada, project, "a.png", PNG)

    response = ada.get(file_url(project, "a.png"), HTTP_ACCEPT="image/png")

    assert response.status_code == 200
    assert response.content == PNG


def test_a_matching_if_none_match_is_not_modified(ada, project):
    written = write(ada, project, "a.txt", "same")

    response = ada.get(file_url(project, "a.txt"), HTTP_IF_NONE_MATCH=f'"{written["sha256"]}"')

    assert response.status_code == 304
    assert response.content == b""


def test_putting_with_the_current_etag_succeeds(ada, project):
    written = write(ada, project, "a.txt", "one")

    response = put_file(ada, project, "a.txt", "two", HTTP_IF_MATCH=f'"{written["sha256"]}"')

    assert response.status_code == 200


@pytest.mark.parametrize(
    "if_match", ['"0000"', f'W/"{sha("one")}"', "garbage", f'"{sha("two")}"', sha("one")]
)
def test_putting_with_a_stale_or_malformed_etag_is_412_and_changes_nothing(ada, project, if_match):
    write(ada, project, "a.txt", "one")

    error = error_of(
        put_file(ada, project, "a.txt", "mine", HTTP_IF_MATCH=if_match), 412, "precondition_failed"
    )

    assert error["details"] == {"path": "a.txt", "etag": f'"{sha("one")}"'}
    assert ada.get(file_url(project, "a.txt")).content == b"one"
    assert Revision.objects.count() == 1


def test_if_match_lists_and_star(ada, project):
    written = write(ada, project, "a.txt", "one")

    assert (
        put_file(ada, project, "a.txt", "two", HTTP_IF_MATCH=f'"x", "{written["sha256"]}"').status_code == 200
    )
    assert put_file(ada, project, "a.txt", "three", HTTP_IF_MATCH="*").status_code == 200
    error_of(put_file(ada, project, "new.txt", "x", HTTP_IF_MATCH="*"), 412, "precondition_failed")


def test_if_none_match_star_creates_only(ada, project):
    assert put_file(ada, project, "a.txt", "one", HTTP_IF_NONE_MATCH="*").status_code == 201

    error = error_of(put_file(ada, project, "a.txt", "two", HTTP_IF_NONE_MATCH="*"), 412, "file_exists")

    assert error["message"] == "A file already exists at this path (If-None-Match: * creates only)."
    assert error["details"] == {"path": "a.txt", "etag": f'"{sha("one")}"'}
    assert ada.get(file_url(project, "a.txt")).content == b"one"


def test_if_match_on_a_missing_file_says_there_is_no_file(ada, project):
    error = error_of(
        put_file(ada, project, "new.txt", "x", HTTP_IF_MATCH='"0000"'), 412, "precondition_failed"
    )

    assert error["message"] == "There is no file at this path (If-Match needs one)."
    assert error["details"] == {"path": "new.txt", "etag": None}
    assert not Revision.objects.exists()


def test_deleting_a_file_makes_a_revision_without_it(ada, project):
    write(ada, project, "a.txt", "one")
    write(ada, project, "b.txt", "two")

    response = ada.delete(file_url(project, "a.txt"))

    assert response.status_code == 200
    assert response.json()["number"] == 3
    assert response.json()["changes"] == [{"path": "a.txt", "action": "deleted", "renamed_from": None}]
    assert files_of(ada, project) == {"b.txt": sha("two")}
    error_of(ada.get(file_url(project, "a.txt")), 404, "file_not_found")


def test_deleting_with_a_stale_etag_is_412(ada, project):
    write(ada, project, "a.txt", "one")

    error_of(ada.delete(file_url(project, "a.txt"), HTTP_IF_MATCH='"stale"'), 412, "precondition_failed")

    assert files_of(ada, project) == {"a.txt": sha("one")}


def test_deleting_a_missing_file_is_not_found(ada, project):
    error = error_of(ada.delete(file_url(project, "nope.txt")), 404, "file_not_found")

    assert error["details"] == {"paths": ["nope.txt"]}
    assert not Revision.objects.exists()


def test_reading_a_missing_file_is_not_found(ada, project):
    error_of(ada.get(file_url(project, "nope.txt")), 404, "file_not_found")


def test_a_folder_is_not_a_file(ada, project):
    write(ada, project, "css/site.css", "a")

    error_of(ada.get(file_url(project, "css")), 404, "file_not_found")


def test_a_file_cannot_also_be_a_folder(ada, project):
    write(ada, project, "css/site.css", "a")
    write(ada, project, "page", "b")

    error_of(put_file(ada, project, "css", "x"), 409, "path_conflict")
    error_of(put_file(ada, project, "page/inner.html", "x"), 409, "path_conflict")
    assert set(files_of(ada, project)) == {"css/site.css", "page"}


def test_the_file_list_shows_path_size_hash_type_and_last_change(ada, project):
    write(ada, project, "b.css", "body{}")
    write(ada, project, "a.html", "<p>")

    response = ada.get(project_url(project, "files/"))

    body = response.json()
    assert body["revision"] == 2
    assert [entry["path"] for entry in body["files"]] == ["a.html", "b.css"]
    first = body["files"][0]
    assert set(first) == {"path", "size", "sha256", "content_type", "revision", "changed_at"}
    assert (first["size"], first["sha256"], first["content_type"], first["revision"]) == (
        3,
        sha("<p>"),
        "text/html",
        2,
    )


def test_the_file_list_sorts_by_code_point_on_every_database(ada, project):
    for path in ["b.txt", "B.txt", "a-b.txt", "a_b.txt", "ä.txt", "a/b.txt"]:
        write(ada, project, path, path)

    listed = list(files_of(ada, project))

    assert listed == sorted(listed)


def test_an_older_tree_is_listed_with_revision(ada, project):
    write(ada, project, "a.txt", "one")  # r1
    write(ada, project, "b.txt", "two")  # r2
    write(ada, project, "a.txt", "uno")  # r3
    ada.delete(file_url(project, "b.txt"))  # r4

    assert files_of(ada, project, revision=0) == {}
    assert files_of(ada, project, revision=1) == {"a.txt": sha("one")}
    assert files_of(ada, project, revision=2) == {"a.txt": sha("one"), "b.txt": sha("two")}
    assert files_of(ada, project, revision=3) == {"a.txt": sha("uno"), "b.txt": sha("two")}
    assert files_of(ada, project, revision=4) == {"a.txt": sha("uno")}
    assert files_of(ada, project) == {"a.txt": sha("uno")}


def test_an_older_file_is_read_with_revision(ada, project):
    write(ada, project, "a.txt", "one")
    write(ada, project, "a.txt", "two")
    ada.delete(file_url(project, "a.txt"))

    assert ada.get(file_url(project, "a.txt"), {"revision": 1}).content == b"one"
    assert ada.get(file_url(project, "a.txt"), {"revision": 2}).content == b"two"
    error_of(ada.get(file_url(project, "a.txt"), {"revision": 3}), 404, "file_not_found")


@pytest.mark.parametrize("revision", ["5", "-1", "abc"])
def test_a_revision_that_does_not_exist_is_refused(ada, project, revision):
    write(ada, project, "a.txt", "one")

    response = ada.get(project_url(project, "files/"), {"revision": revision})

    assert response.status_code in (400, 404)
    error_of(response, response.status_code, "revision_not_found" if revision == "5" else "validation_error")


def test_identical_content_is_stored_once(ada, project):
    write(ada, project, "a.txt", "same bytes")
    write(ada, project, "b.txt", "same bytes")
    write(ada, project, "a.txt", "other")
    write(ada, project, "a.txt", "same bytes")

    assert Blob.objects.count() == 2


def test_storage_grows_with_what_changed_not_with_the_project(ada, project):
    revision_commit(
        project_id=project["id"],
        owner_id=ada.user_id,
        author_user_id=ada.user_id,
        writes={f"page{index}.html": f"page {index}".encode() for index in range(50)},
    )
    blobs = Blob.objects.count()

    write(ada, project, "page7.html", "edited")

    assert Blob.objects.count() == blobs + 1
    latest = Revision.objects.get(number=2)
    assert [change.path for change in latest.changes.all()] == ["page7.html"]


def test_a_file_over_the_size_limit_is_413_and_changes_nothing(ada, project, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 10}

    error = error_of(put_file(ada, project, "big.bin", b"x" * 11), 413, "file_too_large")

    assert error["details"]["limit"] == 10
    assert put_file(ada, project, "ok.bin", b"x" * 10).status_code == 201
    assert set(files_of(ada, project)) == {"ok.bin"}


def test_the_files_per_project_limit_is_a_clear_4xx(ada, project, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILES_PER_PROJECT": 2}
    write(ada, project, "a", "1")
    write(ada, project, "b", "2")

    error = error_of(put_file(ada, project, "c", "3"), 422, "too_many_files")

    assert error["details"] == {"files": 3, "limit": 2}
    assert put_file(ada, project, "a", "replaced").status_code == 200


def test_the_bytes_per_project_limit_is_a_clear_4xx(ada, project, settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECT_BYTES": 10}
    write(ada, project, "a", "12345")

    error_of(put_file(ada, project, "b", "123456"), 422, "project_too_large")
    assert set(files_of(ada, project)) == {"a"}


@pytest.mark.parametrize(
    ("method", "path"),
    [("get", "files/"), ("get", "files/a.txt"), ("put", "files/a.txt"), ("delete", "files/a.txt")],
)
def test_another_users_files_are_not_found(ada, grace, project, method, path):
    write(ada, project, "a.txt", "secret")

    response = grace.generic(method.upper(), project_url(project, path), b"stolen")

    error_of(response, 404, "not_found")
    assert ada.get(file_url(project, "a.txt")).content == b"secret"
    assert Project.objects.get(pk=project["id"]).current_revision == 1


def test_files_of_an_unknown_project_are_not_found(ada):
    error_of(put_file(ada, str(uuid.uuid4()), "a.txt", "x"), 404, "not_found")


def test_files_need_a_user_token(anonymous, project):
    error_of(anonymous.get(project_url(project, "files/")), 401)
    error_of(put_file(anonymous, project, "a.txt", "x"), 401)


def test_listing_a_2000_file_project_takes_a_constant_number_of_queries(
    ada, project, django_assert_num_queries
):
    revision_commit(
        project_id=project["id"],
        owner_id=ada.user_id,
        author_user_id=ada.user_id,
        writes={f"pages/{index:04}.html": f"<p>{index}</p>".encode() for index in range(2000)},
    )
    write(ada, project, "pages/0007.html", "edited")

    with django_assert_num_queries(2):  # the project, its tree
        now = ada.get(project_url(project, "files/"))
    with django_assert_num_queries(2):  # the project, the latest change per path at r1
        then = ada.get(project_url(project, "files/"), {"revision": 1})

    assert len(now.json()["files"]) == len(then.json()["files"]) == 2000
    assert now.json()["files"][7]["sha256"] == sha("edited")
    assert then.json()["files"][7]["sha256"] == sha("<p>7</p>")


def test_a_file_at_the_longest_allowed_path_gets_a_revision_message_that_fits(ada, project):
    path = "/".join(["d" * 250, "e" * 250])

    response = put_file(ada, project, path, "deep")

    assert response.status_code == 201
    message = Revision.objects.get().message
    assert message.startswith("Edit ddd")
    assert len(message) == 500
