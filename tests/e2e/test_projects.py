"""The projects service through the gateway: templates, files, history, previews, export and import."""

from __future__ import annotations

import hashlib
import io
import zipfile

import pytest
import requests

from tests.e2e.conftest import bearer, register, sign_in
from tests.e2e.system import SERVICES

pytestmark = pytest.mark.skipif("projects" not in SERVICES, reason="the projects service is not started")

PROJECTS = "/api/v1/projects/"
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals"


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@pytest.fixture
def auth(account) -> dict:
    return bearer(account["access"])


@pytest.fixture
def landing(gateway, auth) -> dict:
    response = gateway.post(PROJECTS, json={"name": "Landing", "template": "landing"}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def files_of(gateway, auth, project, **params) -> dict[str, str]:
    response = gateway.get(f"{PROJECTS}{project['id']}/files/", params=params, headers=auth)
    assert response.status_code == 200, response.text
    return {entry["path"]: entry["sha256"] for entry in response.json()["files"]}


def test_a_project_from_a_template_is_edited_listed_diffed_and_restored(gateway, auth, landing):
    base = f"{PROJECTS}{landing['id']}"
    assert landing["current_revision"] == 1
    templates = gateway.get(f"{PROJECTS}templates/", headers=auth).json()
    assert {"blank", "landing", "portfolio"} <= {template["slug"] for template in templates}

    page = gateway.get(f"{base}/files/index.html", headers=auth)
    written = gateway.put(
        f"{base}/files/index.html",
        data=b"<h1>Edited</h1>\n",
        headers={**auth, "If-Match": page.headers["ETag"], "Content-Type": "text/html"},
    )
    stale = gateway.put(
        f"{base}/files/index.html", data=b"lost", headers={**auth, "If-Match": page.headers["ETag"]}
    )

    assert written.status_code == 200, written.text
    assert written.json()["revision"] == 2
    assert stale.status_code == 412
    assert stale.json()["error"]["code"] == "precondition_failed"
    assert files_of(gateway, auth, landing)["index.html"] == sha(b"<h1>Edited</h1>\n")
    history = gateway.get(f"{base}/revisions/", headers=auth).json()
    assert [revision["number"] for revision in history["results"]] == [2, 1]
    assert {change["action"] for change in history["results"][1]["changes"]} == {"created"}
    diff = gateway.get(f"{base}/revisions/diff", params={"from": 1, "to": 2}, headers=auth).json()
    [changed] = diff["files"]
    assert changed["path"] == "index.html"
    assert changed["action"] == "modified"
    assert "+<h1>Edited</h1>" in changed["diff"]

    restored = gateway.post(f"{base}/revisions/1/restore/", json={}, headers=auth)
    again = gateway.post(f"{base}/revisions/3/restore/", json={}, headers=auth)

    assert restored.status_code == 201
    assert restored.json()["number"] == 3
    assert files_of(gateway, auth, landing) == files_of(gateway, auth, landing, revision=1)
    assert again.status_code == 200, again.text
    assert again.json() == restored.json()
    assert gateway.get(f"{base}/revisions/", headers=auth).json()["count"] == 3


def test_a_create_only_write_over_an_existing_file_says_the_file_exists(gateway, auth, landing):
    url = f"{PROJECTS}{landing['id']}/files/index.html"

    response = gateway.put(url, data=b"mine", headers={**auth, "If-None-Match": "*"})

    assert response.status_code == 412
    error = response.json()["error"]
    assert error["code"] == "file_exists"
    assert "already exists" in error["message"]
    assert gateway.get(url, headers=auth).content != b"mine"


def test_a_change_set_through_the_gateway_is_all_or_nothing(gateway, auth, landing):
    base = f"{PROJECTS}{landing['id']}"
    before = files_of(gateway, auth, landing)

    refused = gateway.post(
        f"{base}/changes/",
        json={
            "base_revision": 1,
            "writes": [{"path": "ok.html", "text": "ok"}, {"path": "../x", "text": "no"}],
        },
        headers=auth,
    )
    applied = gateway.post(
        f"{base}/changes/",
        json={"base_revision": 1, "writes": [{"path": "ok.html", "text": "ok"}], "deletes": ["script.js"]},
        headers=auth,
    )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "path_traversal"
    assert applied.status_code == 201, applied.text
    after = files_of(gateway, auth, landing)
    assert set(after) == set(before) - {"script.js"} | {"ok.html"}


def test_a_large_file_passes_the_gateway(gateway, auth, landing):
    data = bytes(range(256)) * 8192  # 2 MiB, above the gateway's default body limit

    response = gateway.put(f"{PROJECTS}{landing['id']}/files/img/big.bin", data=data, headers=auth)

    assert response.status_code == 201, response.text
    assert gateway.get(f"{PROJECTS}{landing['id']}/files/img/big.bin", headers=auth).content == data


@pytest.mark.parametrize("escape", ["..%2F..%2Fetc%2Fpasswd", "%2E%2E/%2E%2E/etc/passwd", "a%5C..%5Cb"])
def test_encoded_path_attacks_are_refused(gateway, auth, landing, escape):
    response = gateway.put(f"{PROJECTS}{landing['id']}/files/{escape}", data=b"evil", headers=auth)

    assert response.status_code in (400, 404), response.text
    assert response.json()["error"]["code"].startswith(("path_", "not_found"))


def test_a_preview_is_public_sandboxed_cookieless_and_unforgeable(gateway, auth, landing):
    link = gateway.post(f"{PROJECTS}{landing['id']}/preview/", json={}, headers=auth).json()
    anonymous = type(gateway)(gateway.base_url)

    page = anonymous.get(link["path"])
    style = anonymous.get(f"{link['path']}style.css")
    tampered = anonymous.get(f"/preview/{link['token'][:-2]}xx/")

    assert page.status_code == 200, page.text
    assert page.headers["Content-Type"] == "text/html; charset=utf-8"
    assert page.headers["Content-Security-Policy"] == SANDBOX
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert "Set-Cookie" not in page.headers
    assert b"<!doctype html>" in page.content
    assert style.headers["Content-Type"] == "text/css; charset=utf-8"
    assert tampered.status_code == 404


def test_with_a_preview_origin_previews_answer_only_there_and_the_api_never_does(
    system, gateway, auth, landing
):
    link = gateway.post(f"{PROJECTS}{landing['id']}/preview/", json={}, headers=auth).json()
    url = system.start_extra_gateway("preview-origin-gateway", preview_origin="http://preview.oasis.test")
    preview_host = {"Host": "preview.oasis.test"}

    on_preview_host = requests.get(f"{url}{link['path']}", headers=preview_host, timeout=10)
    on_api_host = requests.get(f"{url}{link['path']}", timeout=10)
    api_on_preview_host = requests.get(f"{url}{PROJECTS}", headers={**preview_host, **auth}, timeout=10)
    studio_on_preview_host = requests.get(f"{url}/studio/", headers=preview_host, timeout=10)
    api_on_api_host = requests.get(f"{url}{PROJECTS}", headers=auth, timeout=10)

    assert on_preview_host.status_code == 200, on_preview_host.text
    assert on_preview_host.headers["Content-Security-Policy"] == SANDBOX
    assert b"<!doctype html>" in on_preview_host.content
    assert on_api_host.status_code == 404
    assert api_on_preview_host.status_code == 404
    assert studio_on_preview_host.status_code == 404
    assert api_on_api_host.status_code == 200


def test_export_then_import_gives_identical_hashes(gateway, auth, landing):
    gateway.put(f"{PROJECTS}{landing['id']}/files/img/dot.png", data=b"\x89PNG\r\n\x1a\n\x00", headers=auth)
    first = gateway.get(f"{PROJECTS}{landing['id']}/export/", headers=auth)
    second = gateway.get(f"{PROJECTS}{landing['id']}/export/", headers=auth)
    assert first.status_code == 200
    assert first.headers["Content-Type"] == "application/zip"
    assert first.content == second.content

    imported = gateway.post(
        f"{PROJECTS}import/", files={"file": ("copy.zip", first.content, "application/zip")}, headers=auth
    )

    assert imported.status_code == 201, imported.text
    assert files_of(gateway, auth, imported.json()) == files_of(gateway, auth, landing)


def test_a_zip_slip_archive_is_refused_through_the_gateway(gateway, auth):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "fine")
        archive.writestr("../../evil.sh", "boom")

    response = gateway.post(
        f"{PROJECTS}import/", files={"file": ("evil.zip", buffer.getvalue(), "application/zip")}, headers=auth
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "archive_unsafe_path"
    assert gateway.get(PROJECTS, headers=auth).json()["count"] == 0


def test_an_archive_with_a_nul_in_an_entry_name_is_refused_whole(gateway, auth):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("index.html", "fine")
        archive.writestr("evil.htmlZZZZZ", "<script>")
    # zipfile cuts a name at NUL when it writes one, so the NUL goes in afterwards (names are not in the CRC).
    data = buffer.getvalue().replace(b"evil.htmlZZZZZ", b"evil.html\x00.txt")

    response = gateway.post(
        f"{PROJECTS}import/", files={"file": ("evil.zip", data, "application/zip")}, headers=auth
    )

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "archive_unsafe_path"
    assert error["details"] == {"entry": "evil.html\\x00.txt", "reason": "path_control_character"}
    assert gateway.get(PROJECTS, headers=auth).json()["count"] == 0


def test_another_users_project_is_not_found_and_not_listed(gateway, auth, landing):
    other = register(gateway)
    theirs = bearer(sign_in(gateway, other["email"])["access"])
    base = f"{PROJECTS}{landing['id']}"

    for response in (
        gateway.get(f"{base}/", headers=theirs),
        gateway.get(f"{base}/files/", headers=theirs),
        gateway.get(f"{base}/files/index.html", headers=theirs),
        gateway.put(f"{base}/files/index.html", data=b"stolen", headers=theirs),
        gateway.get(f"{base}/revisions/", headers=theirs),
        gateway.get(f"{base}/export/", headers=theirs),
        gateway.post(f"{base}/preview/", json={}, headers=theirs),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert gateway.get(PROJECTS, headers=theirs).json() == {
        "count": 0,
        "next": None,
        "previous": None,
        "results": [],
    }


def test_the_projects_api_needs_a_token_but_internal_routes_are_never_exposed(gateway, landing):
    assert gateway.get(PROJECTS).status_code == 401
    assert gateway.get(f"/internal/v1/projects/{landing['id']}").status_code == 404
