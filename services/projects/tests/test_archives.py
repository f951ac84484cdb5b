"""Zip export (reproducible, streamed) and import (nothing unsafe gets in, nothing half-written)."""

import io
import stat
import zipfile

import pytest

from files.models import Blob, Revision
from files.revisions import revision_commit
from oasis_common.testing import error_of
from projects.models import Project
from tests.helpers import PROJECTS, create_project, files_of, make_zip, project_url, upload, write


def export(client, project, **params) -> bytes:
    response = client.get(project_url(project, "export/"), params)
    assert response.status_code == 200, response.content
    assert response.streaming
    return b"".join(response.streaming_content)


def entry(name: str, *, mode: int = 0o100644, flag_bits: int = 0) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = mode << 16
    info.flag_bits |= flag_bits
    return info


def nothing_imported() -> bool:
    return not Project.objects.exists() and not Revision.objects.exists() and not Blob.objects.exists()


def test_export_streams_a_zip_of_the_current_tree(ada, landing):
    response = ada.get(project_url(landing, "export/"))

    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"] == 'attachment; filename="Landing-r1.zip"'
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    assert archive.namelist() == sorted(files_of(ada, landing))
    assert archive.read("index.html") == ada.get(project_url(landing, "files/index.html")).content


def test_the_same_revision_always_exports_the_same_bytes(ada, landing):
    first = export(ada, landing)
    write(ada, landing, "new.html", "later")

    assert export(ada, landing, revision=1) == first
    assert export(ada, landing) != first


def test_exported_entries_have_fixed_times_and_permissions(ada, landing):
    archive = zipfile.ZipFile(io.BytesIO(export(ada, landing)))

    for info in archive.infolist():
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        assert info.external_attr >> 16 == 0o100644


def test_an_older_revision_is_exported_exactly(ada, landing):
    original = {
        path: ada.get(project_url(landing, f"files/{path}")).content for path in files_of(ada, landing)
    }
    write(ada, landing, "index.html", "changed")
    ada.delete(project_url(landing, "files/script.js"))

    archive = zipfile.ZipFile(io.BytesIO(export(ada, landing, revision=1)))

    assert {name: archive.read(name) for name in archive.namelist()} == original


def test_export_to_import_round_trips_identical_hashes(ada, project):
    revision_commit(
        project_id=project["id"],
        owner_id=ada.user_id,
        author_user_id=ada.user_id,
        writes={
            "index.html": b"<h1>Hi</h1>",
            "img/logo.png": b"\x89PNG\r\n\x1a\n\x00\xff" * 50,
            "deep/a/b/c.txt": "caf\u00e9 \u2603".encode(),
            "empty.txt": b"",
        },
    )

    response = upload(ada, export(ada, project), "copy.zip")

    assert response.status_code == 201, response.content
    copy = response.json()
    assert copy["name"] == "copy"
    assert copy["current_revision"] == 1
    assert files_of(ada, copy) == files_of(ada, project)
    [revision] = ada.get(project_url(copy, "revisions/")).json()["results"]
    assert revision["message"] == "Import from a zip archive"


def test_an_empty_project_exports_an_empty_zip_that_imports(ada, project):
    data = export(ada, project)

    assert zipfile.ZipFile(io.BytesIO(data)).namelist() == []
    assert upload(ada, data, "empty.zip").json()["file_count"] == 0


def test_import_takes_a_name_and_description(ada):
    response = upload(ada, make_zip([("index.html", b"<p>")]), "x.zip", description="imported")

    assert response.json()["name"] == "x"
    named = upload(ada, make_zip([("index.html", b"<p>")]), "y.zip", name="Chosen")
    assert named.json()["name"] == "Chosen"
    assert response.json()["description"] == "imported"


def test_folder_entries_are_skipped_and_stored_entries_read(ada):
    data = make_zip([("css/", b""), ("css/site.css", b"body{}")], compression=zipfile.ZIP_STORED)

    response = upload(ada, data)

    assert response.status_code == 201
    assert list(files_of(ada, response.json())) == ["css/site.css"]


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("../evil.html", "path_traversal"),
        ("a/../../evil.html", "path_traversal"),
        ("/etc/cron.d/evil", "path_absolute"),
        ("..\\evil.html", "path_backslash"),
        ("a//b.html", "path_empty_segment"),
        ("./a.html", "path_dot_segment"),
        ("\uff0e\uff0e/evil.html", "path_lookalike"),
    ],
)
def test_zip_slip_paths_are_refused_and_nothing_is_written(ada, name, reason):
    data = make_zip([("index.html", b"fine"), (name, b"evil")])

    error = error_of(upload(ada, data), 422, "archive_unsafe_path")

    assert error["details"]["reason"] == reason
    assert nothing_imported()


def zip_with_raw_name(name: str, content: bytes = b"evil") -> bytes:
    """A zip whose second entry is named `name` byte for byte (zipfile cuts a name at NUL when writing)."""
    stand_in = "Z" * len(name.encode())
    data = make_zip([("index.html", b"fine"), (stand_in, content)])
    # Names are outside the CRC, so swapping them in the local header and the central directory is enough.
    return data.replace(stand_in.encode(), name.encode())


@pytest.mark.parametrize(
    "name",
    [
        "evil.html\x00.txt",
        "css/\x00/site.css",
        "evil.html\x00",
        "tab\there.html",
        "bell\x07.html",
        "del\x7f.html",
    ],
)
def test_a_control_character_in_an_entry_name_refuses_the_whole_archive(ada, name):
    error = error_of(upload(ada, zip_with_raw_name(name)), 422, "archive_unsafe_path")

    assert error["details"] == {
        "entry": name.encode("unicode_escape").decode("ascii"),
        "reason": "path_control_character",
    }
    assert nothing_imported()


def test_an_entry_name_is_judged_by_the_rule_the_file_api_judges_paths_by(ada, project):
    name = "evil.html\x00.txt"
    change = {"writes": [{"path": name, "text": "x"}]}

    archive = error_of(upload(ada, zip_with_raw_name(name)), 422)["details"]
    file_api = error_of(ada.post(project_url(project, "changes/"), change, format="json"), 400)

    assert archive["reason"] == file_api["code"]
    assert archive["entry"] == file_api["details"]["path"]
    assert Project.objects.count() == 1


def test_a_symlink_entry_is_refused(ada):
    data = make_zip([("index.html", b"fine"), (entry("link", mode=stat.S_IFLNK | 0o777), b"/etc/passwd")])

    error = error_of(upload(ada, data), 422, "archive_symlink")

    assert error["details"]["entry"] == "link"
    assert nothing_imported()


def test_a_device_or_fifo_entry_is_refused(ada):
    data = make_zip([(entry("fifo", mode=stat.S_IFIFO | 0o644), b"")])

    error_of(upload(ada, data), 422, "archive_special_file")
    assert nothing_imported()


def test_a_zip_bomb_is_refused_by_its_compression_ratio(ada, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 50 * 1024 * 1024}
    data = make_zip([("bomb.txt", b"\0" * (20 * 1024 * 1024))])
    assert len(data) < 100 * 1024

    error_of(upload(ada, data), 422, "archive_ratio")
    assert nothing_imported()


def test_many_small_well_compressed_entries_are_refused_together(ada, settings):
    data = make_zip([(f"f{index}.txt", b" " * 60000) for index in range(20)])

    error_of(upload(ada, data), 422, "archive_ratio")
    assert nothing_imported()


def test_a_file_over_the_size_limit_is_refused(ada, settings):
    settings.OASIS = {**settings.OASIS, "MAX_FILE_BYTES": 1000}
    data = make_zip([("big.bin", bytes(range(256)) * 4)], compression=zipfile.ZIP_STORED)

    error_of(upload(ada, data), 413, "file_too_large")
    assert nothing_imported()


def test_too_much_uncompressed_data_is_refused(ada, settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECT_BYTES": 1000}
    data = make_zip([(f"{index}.bin", bytes(range(256)) * 2) for index in range(3)])

    error_of(upload(ada, data), 422, "archive_too_large_uncompressed")
    assert nothing_imported()


def test_too_many_entries_are_refused(ada, settings):
    settings.OASIS = {**settings.OASIS, "IMPORT_MAX_ENTRIES": 3}
    data = make_zip([(f"{index}.txt", b"x") for index in range(4)])

    error = error_of(upload(ada, data), 422, "archive_too_many_entries")

    assert error["details"] == {"entries": 4, "limit": 3}
    assert nothing_imported()


def test_an_archive_over_the_upload_limit_is_refused(ada, settings):
    settings.OASIS = {**settings.OASIS, "IMPORT_MAX_BYTES": 100}

    error_of(upload(ada, make_zip([("a.bin", bytes(range(256)))], compression=zipfile.ZIP_STORED)), 413)
    assert nothing_imported()


def test_an_encrypted_entry_is_refused(ada):
    data = bytearray(make_zip([("secret.txt", b"xxxxxxxxxxxx")], compression=zipfile.ZIP_STORED))
    central = data.index(b"PK\x01\x02")
    data[central + 8] |= 0x1  # the "encrypted" flag, as the central directory records it

    error_of(upload(ada, bytes(data)), 422, "archive_encrypted")
    assert nothing_imported()


def test_a_lying_size_header_is_refused(ada):
    data = bytearray(make_zip([("a.txt", b"hello world")], compression=zipfile.ZIP_STORED))
    data[data.index(b"hello world")] = ord("j")  # the CRC no longer matches

    error_of(upload(ada, bytes(data)), 422, "archive_invalid")
    assert nothing_imported()


@pytest.mark.parametrize("content", [b"not a zip at all", b"PK\x03\x04broken"])
def test_something_that_is_not_a_zip_is_refused(ada, content):
    error_of(upload(ada, content), 422, "archive_invalid")
    assert nothing_imported()


def test_an_empty_upload_is_a_validation_error(ada):
    error = error_of(upload(ada, b""), 400, "validation_error")

    assert "file" in error["details"]
    assert nothing_imported()


def test_the_same_path_twice_is_refused(ada):
    data = make_zip([("a.html", b"1"), ("cafe\u0301.html", b"2"), ("caf\u00e9.html", b"3")])

    error_of(upload(ada, data), 422, "archive_duplicate_path")
    assert nothing_imported()


def test_a_file_and_a_folder_with_one_name_are_refused(ada):
    error_of(upload(ada, make_zip([("a", b"1"), ("a/b", b"2")])), 409, "path_conflict")
    assert nothing_imported()


def test_import_without_a_file_is_a_validation_error(ada):
    error = error_of(
        ada.post(f"{PROJECTS}import/", {"name": "x"}, format="multipart"), 400, "validation_error"
    )

    assert "file" in error["details"]


def test_import_takes_only_multipart(ada):
    error_of(ada.post(f"{PROJECTS}import/", {"file": "x"}, format="json"), 415, "unsupported_media_type")


def test_an_imported_name_that_is_taken_is_a_conflict(ada, project):
    error_of(upload(ada, make_zip([("a", b"1")]), "Site.zip"), 409, "project_name_taken")
    assert Project.objects.count() == 1


def test_another_users_project_cannot_be_exported(grace, landing):
    error_of(grace.get(project_url(landing, "export/")), 404, "not_found")


def test_an_unknown_revision_cannot_be_exported(ada, landing):
    error_of(ada.get(project_url(landing, "export/"), {"revision": 9}), 404, "revision_not_found")


def test_export_and_import_need_a_user(anonymous, landing):
    error_of(anonymous.get(project_url(landing, "export/")), 401)
    error_of(upload(anonymous, make_zip([("a", b"1")])), 401)


def test_an_import_counts_against_the_project_limit(ada, settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECTS_PER_USER": 1}
    create_project(ada, "Only")

    error_of(upload(ada, make_zip([("a", b"1")])), 409, "project_limit_reached")
