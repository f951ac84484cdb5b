"""Previews: signed expiring links, sandboxed pages, no way from one project's token to another's files."""

import time
from datetime import datetime

import pytest
from django.core import signing

from oasis_common.testing import error_of, last_character_changed
from previews.links import SALT
from tests.helpers import create_project, project_url, write

SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals"


def link_for(client, project, **body) -> dict:
    response = client.post(project_url(project, "preview/"), body, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def assert_sandboxed(response) -> None:
    assert response["Content-Security-Policy"] == SANDBOX
    assert "allow-same-origin" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "no-referrer"
    assert "Set-Cookie" not in response
    assert not response.cookies
    assert "X-Frame-Options" not in response


def test_creating_a_link_returns_a_signed_expiring_url(ada, landing):
    before = time.time()

    body = link_for(ada, landing)

    assert set(body) == {"url", "path", "token", "revision", "expires_at"}
    assert body["path"] == f"/preview/{body['token']}/"
    assert body["url"] == body["path"]
    assert body["revision"] is None
    expires = datetime.fromisoformat(body["expires_at"].replace("Z", "+00:00")).timestamp()
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5


def test_the_url_uses_the_preview_origin_when_one_is_set(ada, landing, settings):
    settings.OASIS = {**settings.OASIS, "PREVIEW_ORIGIN": "https://preview.example.com"}

    body = link_for(ada, landing)

    assert body["url"] == f"https://preview.example.com/preview/{body['token']}/"


def test_the_folder_url_serves_index_html_sandboxed(anonymous, ada, landing):
    link = link_for(ada, landing)

    response = anonymous.get(link["path"])

    assert response.status_code == 200
    assert response["Content-Type"] == "text/html; charset=utf-8"
    assert response.content.startswith(b"<!doctype html>")
    assert_sandboxed(response)


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        ("style.css", "text/css; charset=utf-8"),
        ("script.js", "text/javascript; charset=utf-8"),
        ("favicon.svg", "image/svg+xml; charset=utf-8"),
    ],
)
def test_files_are_served_with_their_content_types(anonymous, ada, landing, path, content_type):
    response = anonymous.get(link_for(ada, landing)["path"] + path)

    assert response.status_code == 200
    assert response["Content-Type"] == content_type
    assert_sandboxed(response)


def test_a_sub_folder_serves_its_index_and_redirects_without_its_slash(anonymous, ada):
    portfolio = create_project(ada, "Folio", template="portfolio")
    base = link_for(ada, portfolio)["path"]

    page = anonymous.get(base + "blog/")
    redirect = anonymous.get(base + "blog")

    assert page.status_code == 200
    assert b"<title>Blog" in page.content
    assert redirect.status_code == 302
    assert redirect["Location"] == "blog/"
    assert_sandboxed(redirect)


def test_a_link_without_a_revision_follows_the_current_one(anonymous, ada, landing):
    base = link_for(ada, landing)["path"]

    write(ada, landing, "index.html", "<p>new</p>")

    assert anonymous.get(base).content == b"<p>new</p>"


def test_a_pinned_link_keeps_showing_its_revision(anonymous, ada, landing):
    original = ada.get(project_url(landing, "files/index.html")).content
    base = link_for(ada, landing, revision=1)["path"]

    write(ada, landing, "index.html", "<p>new</p>")

    assert anonymous.get(base).content == original


def test_pinning_a_revision_that_does_not_exist_is_refused(ada, landing):
    error_of(
        ada.post(project_url(landing, "preview/"), {"revision": 7}, format="json"), 404, "revision_not_found"
    )


@pytest.mark.parametrize("body", [{"expires_in": 10}, {"expires_in": 10**9}, {"revision": "x"}])
def test_bad_link_options_are_refused(ada, landing, body):
    error_of(ada.post(project_url(landing, "preview/"), body, format="json"), 400, "validation_error")


def test_a_missing_file_is_a_sandboxed_404(anonymous, ada, landing):
    response = anonymous.get(link_for(ada, landing)["path"] + "nope.html")

    error_of(response, 404, "not_found")
    assert_sandboxed(response)


def test_a_tampered_token_is_a_404(anonymous, ada, landing):
    token = link_for(ada, landing)["token"]
    payload, timestamp, signature = token.split(":")
    flipped = last_character_changed(signature)

    for forged in (f"{payload}:{timestamp}:{flipped}", f"x{token}", token[:-3], "not-a-token"):
        error_of(anonymous.get(f"/preview/{forged}/"), 404, "not_found")


def test_a_token_signed_for_something_else_is_a_404(anonymous, landing):
    forged = signing.dumps({"p": landing["id"].replace("-", ""), "r": None, "x": time.time() + 60})

    error_of(anonymous.get(f"/preview/{forged}/"), 404)


def test_an_expired_token_is_a_404(anonymous, ada, landing, monkeypatch):
    token = link_for(ada, landing, expires_in=60)["token"]
    assert anonymous.get(f"/preview/{token}/").status_code == 200
    real_time = time.time

    monkeypatch.setattr(time, "time", lambda: real_time() + 61)

    error_of(anonymous.get(f"/preview/{token}/"), 404, "not_found")


def test_a_token_whose_expiry_was_edited_is_a_404(anonymous, landing):
    forged_claims = {"p": landing["id"].replace("-", ""), "r": None, "x": time.time() + 10**8}
    wrong_key = signing.dumps(forged_claims, salt=SALT, key="not the service secret")

    error_of(anonymous.get(f"/preview/{wrong_key}/"), 404)


def test_a_token_for_a_deleted_project_is_a_404(anonymous, ada, landing):
    base = link_for(ada, landing)["path"]

    ada.delete(project_url(landing))

    error_of(anonymous.get(base), 404)


@pytest.mark.parametrize(
    "escape",
    [
        "../",
        "..%2F",
        "%2E%2E/",
        "%EF%BC%8E%EF%BC%8E/",
        "a/../../",
        "/",
        "%2F",
    ],
)
def test_one_projects_token_never_reaches_another_projects_files(anonymous, ada, grace, escape):
    mine = create_project(ada, "Mine", template="blank")
    theirs = create_project(grace, "Theirs")
    write(grace, theirs, "secret.html", "grace's secret")
    token = link_for(ada, mine)["token"]

    for target in (f"{theirs['id']}/secret.html", "secret.html", f"../{theirs['id']}/secret.html"):
        response = anonymous.get(f"/preview/{token}/{escape}{target}")
        assert b"grace's secret" not in response.content
        assert response.status_code in (301, 302, 404)


def test_another_users_project_gets_no_link(grace, landing):
    error_of(grace.post(project_url(landing, "preview/"), {}, format="json"), 404, "not_found")


def test_creating_a_link_needs_a_user(anonymous, landing):
    error_of(anonymous.post(project_url(landing, "preview/"), {}, format="json"), 401)


def test_previews_answer_only_reads(anonymous, ada, landing):
    base = link_for(ada, landing)["path"]

    assert anonymous.head(base).status_code == 200
    assert anonymous.post(base).status_code == 405


def test_a_preview_is_revalidated_by_etag(anonymous, ada, landing):
    base = link_for(ada, landing)["path"]
    etag = anonymous.get(base)["ETag"]

    response = anonymous.get(base, HTTP_IF_NONE_MATCH=etag)

    assert response.status_code == 304
    assert_sandboxed(response)
