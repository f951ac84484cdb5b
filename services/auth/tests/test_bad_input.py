"""Hostile and broken requests on every endpoint that takes a body: a 4xx in the envelope, never a 500."""

import json

import pytest
from django.conf import settings

from tests.conftest import client_for
from tests.helpers import PASSWORD, error_of

HUGE = "p" * 100_000

# (method, path, needs a signed-in caller, requires some field)
ENDPOINTS = [
    ("post", "/api/v1/auth/register/", False, True),
    ("post", "/api/v1/auth/token/", False, True),
    ("post", "/api/v1/auth/token/refresh/", False, True),
    ("post", "/api/v1/auth/logout/", True, False),
    ("post", "/api/v1/auth/password/change/", True, True),
    ("post", "/api/v1/auth/password/reset/", False, True),
    ("post", "/api/v1/auth/password/reset/confirm/", False, True),
    ("patch", "/api/v1/auth/me/", True, False),
    ("post", "/api/v1/auth/api-keys/", True, True),
    ("post", "/internal/v1/service-token", False, True),
]
ENDPOINT_IDS = [f"{method}:{path}" for method, path, _, _ in ENDPOINTS]
EVERY_FIELD_MISTYPED = {
    name: [["nested"]]
    for name in (
        "email",
        "password",
        "name",
        "refresh",
        "current_password",
        "new_password",
        "uid",
        "token",
        "client_id",
        "client_secret",
        "audience",
    )
}


def oversized() -> bytes:
    padding = "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)
    return json.dumps({"email": "ada@example.com", "password": PASSWORD, "padding": padding}).encode()


# (body, content type, expected status, expected code)
BODIES = {
    "malformed-json": (b'{"email": "ada@example.com", ', "application/json", 400, "malformed_request"),
    "trailing-garbage": (b'{"email": "ada@example.com"} x', "application/json", 400, "malformed_request"),
    "not-utf8": (b'{"email": "\xff\xfe"}', "application/json", 400, "malformed_request"),
    "nan": (b'{"email": NaN}', "application/json", 400, "malformed_request"),
    "json-array": (b"[1, 2, 3]", "application/json", 400, "validation_error"),
    "json-string": (b'"ada@example.com"', "application/json", 400, "validation_error"),
    "json-number": (b"42", "application/json", 400, "validation_error"),
    "every-field-mistyped": (
        json.dumps(EVERY_FIELD_MISTYPED).encode(),
        "application/json",
        400,
        "validation_error",
    ),
    "form-encoded": (
        b"email=ada%40example.com",
        "application/x-www-form-urlencoded",
        415,
        "unsupported_media_type",
    ),
    "plain-text": (b"ada@example.com", "text/plain", 415, "unsupported_media_type"),
    "xml": (b"<email>ada@example.com</email>", "application/xml", 415, "unsupported_media_type"),
    "oversized": (oversized, "application/json", 413, "request_too_large"),
}


@pytest.fixture
def caller(api, tokens):
    """A client for the endpoint: signed in when the endpoint needs it."""

    def pick(needs_token: bool):
        return client_for(tokens["access"]) if needs_token else api

    return pick


def send(client, method, path, body, content_type):
    data = body() if callable(body) else body
    return getattr(client, method)(path, data=data, content_type=content_type)


@pytest.mark.parametrize(("method", "path", "needs_token", "_"), ENDPOINTS, ids=ENDPOINT_IDS)
@pytest.mark.parametrize(("body", "content_type", "status", "code"), list(BODIES.values()), ids=list(BODIES))
def test_a_bad_body_gets_a_4xx_in_the_envelope(
    caller, method, path, needs_token, _, body, content_type, status, code
):
    response = send(caller(needs_token), method, path, body, content_type)

    error_of(response, status, code)


@pytest.mark.parametrize(("method", "path", "needs_token", "required"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_an_empty_object_names_the_missing_fields(caller, method, path, needs_token, required):
    response = send(caller(needs_token), method, path, b"{}", "application/json")

    if required:
        assert error_of(response, 400, "validation_error")["details"]
    else:
        assert response.status_code < 300


@pytest.mark.parametrize(("method", "path", "needs_token", "_"), ENDPOINTS, ids=ENDPOINT_IDS)
def test_no_body_at_all_is_not_a_server_error(caller, method, path, needs_token, _):
    response = getattr(caller(needs_token), method)(path)

    assert response.status_code < 500
    if response.status_code >= 400:
        error_of(response, response.status_code)


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/auth/register/", {"email": "grace@example.com", "password": HUGE}, "password"),
        ("/api/v1/auth/token/", {"email": "ada@example.com", "password": HUGE}, "password"),
        (
            "/api/v1/auth/password/reset/confirm/",
            {"uid": "x", "token": "y", "new_password": HUGE},
            "new_password",
        ),
        ("/api/v1/auth/token/refresh/", {"refresh": HUGE}, "refresh"),
    ],
    ids=["register", "token", "reset-confirm", "refresh"],
)
def test_a_huge_secret_is_refused_before_any_hashing(api, user, path, body, field, monkeypatch):
    hashed = []
    monkeypatch.setattr("django.contrib.auth.base_user.make_password", lambda *args: hashed.append(args))
    monkeypatch.setattr("django.contrib.auth.base_user.check_password", lambda *args: hashed.append(args))

    error = error_of(api.post(path, body, format="json"), 400, "validation_error")

    assert set(error["details"]) == {field}
    assert hashed == []


@pytest.mark.parametrize("field", ["current_password", "new_password"])
def test_a_huge_password_change_is_refused(authed, field):
    body = {"current_password": PASSWORD, "new_password": "a different long passphrase", field: HUGE}

    error = error_of(
        authed.post("/api/v1/auth/password/change/", body, format="json"), 400, "validation_error"
    )

    assert field in error["details"]


def test_a_huge_password_sign_in_does_not_count_towards_the_lockout(api, user, settings):
    settings.OASIS = {**settings.OASIS, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 1}
    api.post("/api/v1/auth/token/", {"email": "ada@example.com", "password": HUGE}, format="json")

    assert (
        api.post(
            "/api/v1/auth/token/", {"email": "ada@example.com", "password": PASSWORD}, format="json"
        ).status_code
        == 200
    )


def test_an_unknown_path_is_a_json_404(api, db):
    error_of(api.get("/api/v1/auth/nothing-here/"), 404, "not_found")


def test_a_wrong_method_is_a_json_405(api, db):
    error_of(api.get("/api/v1/auth/register/"), 405, "method_not_allowed")


def test_deeply_nested_json_is_a_4xx_not_a_500(api, db):
    body = b"[" * 100_000 + b"]" * 100_000

    error_of(api.post("/api/v1/auth/register/", data=body, content_type="application/json"), 400)


def test_a_client_request_id_is_echoed_in_the_error(api, db):
    response = api.post(
        "/api/v1/auth/token/",
        data=b"{",
        content_type="application/json",
        HTTP_X_REQUEST_ID="client-chosen-id",
    )

    assert error_of(response, 400)["request_id"] == "client-chosen-id"


def test_a_malformed_request_id_is_replaced(api, db):
    response = api.post(
        "/api/v1/auth/token/", data=b"{", content_type="application/json", HTTP_X_REQUEST_ID="bad id\n"
    )

    assert error_of(response, 400)["request_id"] != "bad id\n"
