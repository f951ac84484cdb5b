"""Files in the studio: import a project from a zip; edit a file into a new revision, or meet a conflict."""

from __future__ import annotations

import io
import re
import zipfile

import requests

from tests.browser.conftest import api_headers, shot, sign_up

PREVIEW = "iframe[title='Preview of the website']"


def zip_bytes(files: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for path, text in files.items():
            archive.writestr(path, text)
    return buffer.getvalue()


SITE = {
    "index.html": "<!doctype html><html><head><title>Harbour</title></head>"
    "<body><h1>Harbour Cafe</h1></body></html>",
    "css/site.css": "body { font-family: sans-serif; }",
}


def import_zip(page, name: str, data: bytes) -> None:
    page.get_by_label("Zip archive").set_input_files(
        {"name": name, "mimeType": "application/zip", "buffer": data}
    )
    page.get_by_role("button", name="Import project").click()


def test_a_zip_is_imported_as_a_project_and_a_bad_one_says_why(page, console):
    sign_up(page)

    import_zip(page, "broken.zip", b"this is not a zip archive")
    alert = page.locator("#import-error")
    alert.wait_for()
    assert "not a readable zip file" in alert.inner_text()
    assert page.get_by_label("Zip archive").get_attribute("aria-invalid") == "true"
    shot(page, "projects-import-error")

    import_zip(page, "harbour.zip", zip_bytes(SITE))
    page.get_by_role("heading", name="harbour").wait_for()
    tree = page.get_by_test_id("file-tree")
    tree.get_by_role("button", name="index.html").wait_for()
    assert tree.get_by_role("button", name="site.css").is_visible()
    page.frame_locator(PREVIEW).get_by_text("Harbour Cafe").wait_for()
    assert console.unexpected(allowed_statuses=(422,)) == []


def open_for_editing(page, path_name: str):
    page.get_by_test_id("file-tree").get_by_role("button", name=path_name).click()
    page.get_by_role("button", name=f"Edit {path_name}").click()
    return page.get_by_label(re.compile(rf"^Edit .*{re.escape(path_name)}$"))


def test_a_file_edited_in_the_code_view_is_saved_as_a_new_revision(page, console):
    sign_up(page)
    import_zip(page, "harbour.zip", zip_bytes(SITE))
    page.get_by_role("heading", name="harbour").wait_for()
    page.get_by_test_id("revision").filter(has_text=re.compile("^1$")).wait_for()

    editor = open_for_editing(page, "index.html")
    editor.fill(SITE["index.html"].replace("Harbour Cafe", "Harbour Bakery"))
    shot(page, "project-edit")
    page.get_by_role("button", name="Save as a new revision").click()

    page.get_by_role("status").filter(has_text="Saved as revision 2.").wait_for()
    page.get_by_test_id("revision").filter(has_text=re.compile("^2$")).wait_for()
    page.get_by_label("Contents of index.html").filter(has_text="Harbour Bakery").wait_for()
    page.get_by_role("tab", name="Preview").click()
    page.locator(f"{PREVIEW}[data-revision='2']").wait_for()
    page.frame_locator(PREVIEW).get_by_text("Harbour Bakery").wait_for()
    assert console.unexpected() == []


def test_saving_over_a_newer_version_is_refused_with_a_way_forward(page, console, system):
    email = sign_up(page)
    import_zip(page, "harbour.zip", zip_bytes(SITE))
    page.get_by_role("heading", name="harbour").wait_for()
    project_id = page.url.rsplit("/", 1)[1]
    editor = open_for_editing(page, "index.html")
    editor.fill("<p>my edit</p>")

    # Meanwhile another device saves the same file.
    theirs = requests.put(
        f"{system.url}/api/v1/projects/{project_id}/files/index.html",
        data=b"<p>their edit</p>",
        headers={**api_headers(system, email), "Content-Type": "application/octet-stream"},
        timeout=30,
    )
    assert theirs.status_code == 200, theirs.text

    page.get_by_role("button", name="Save as a new revision").click()
    alert = page.get_by_role("alert").filter(has_text="This file changed since you opened it")
    alert.wait_for()
    assert "Your edit was not saved" in alert.inner_text()
    shot(page, "project-edit-conflict")

    page.get_by_role("button", name="Load the current version").click()
    page.get_by_label("Contents of index.html").filter(has_text="their edit").wait_for()
    contents = requests.get(
        f"{system.url}/api/v1/projects/{project_id}/files/index.html",
        headers=api_headers(system, email),
        timeout=30,
    )
    assert contents.text == "<p>their edit</p>"
    assert console.unexpected(allowed_statuses=(412,)) == []
