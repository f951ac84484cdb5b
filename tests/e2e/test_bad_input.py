"""Bad input gets a clear 4xx in the error envelope, never a 500 — at the gateway and behind it."""

import pytest

from tests.e2e.conftest import bearer

ENDPOINTS = [
    "/api/v1/auth/register/",
    "/api/v1/auth/token/",
    "/api/v1/auth/token/refresh/",
    "/api/v1/auth/password/reset/",
    "/api/v1/auth/password/reset/confirm/",
]

BODIES = {
    "malformed JSON": (b'{"email": "x@example.com", "password": ', "application/json"),
    "not an object": (b'["a", "list"]', "application/json"),
    "wrong types": (
        b'{"email": 42, "password": {"a": 1}, "refresh": [1], "uid": 5, "token": false}',
        "application/json",
    ),
    "missing fields": (b"{}", "application/json"),
    "form encoded": (b"email=x%40example.com&password=y", "application/x-www-form-urlencoded"),
    "huge password": (
        b'{"email": "not-an-email", "password": "'
        + b"p" * 100_000
        + b'", "new_password": "'
        + b"p" * 100_000
        + b'", "uid": "x", "token": "y", "refresh": "z"}',
        "application/json",
    ),
    "invalid utf-8": (b'{"email": "\xff\xfe"}', "application/json"),
}


def assert_envelope(response, status_range=range(400, 500)):
    assert response.status_code in status_range, (response.status_code, response.text[:300])
    error = response.json()["error"]
    assert set(error) == {"code", "message", "details", "request_id"}
    assert error["request_id"] == response.headers["X-Request-ID"]
    return error


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize("case", list(BODIES))
def test_bad_bodies_get_a_4xx_envelope(gateway, endpoint, case):
    body, content_type = BODIES[case]

    response = gateway.post(endpoint, data=body, headers={"Content-Type": content_type})

    assert_envelope(response)


def test_validation_errors_name_the_fields(gateway):
    response = gateway.post("/api/v1/auth/register/", json={"email": "not-an-email"})

    error = assert_envelope(response)
    assert error["code"] == "validation_error"
    assert set(error["details"]) >= {"email", "password"}


def test_an_oversized_body_is_refused_by_the_gateway(gateway):
    response = gateway.post(
        "/api/v1/auth/register/", data=b"x" * (2 * 1024 * 1024), headers={"Content-Type": "application/json"}
    )

    error = assert_envelope(response)
    assert response.status_code == 413
    assert error["code"] == "request_too_large"


def test_a_body_just_under_the_gateway_limit_is_refused_by_the_service(gateway):
    padding = "x" * (1024 * 1024 - 200)
    response = gateway.post(
        "/api/v1/auth/token/", json={"email": "a@example.com", "password": "p", "padding": padding}
    )

    assert_envelope(response)


def test_bad_input_on_authenticated_endpoints(gateway, account):
    headers = {**bearer(account["access"]), "Content-Type": "application/json"}
    for path, method in [
        ("/api/v1/auth/me/", "patch"),
        ("/api/v1/auth/api-keys/", "post"),
        ("/api/v1/auth/password/change/", "post"),
        ("/api/v1/auth/logout/", "post"),
    ]:
        for body, _ in BODIES.values():
            response = getattr(gateway, method)(path, data=body, headers=headers)
            assert response.status_code < 500, (path, response.text[:200])
            if response.status_code >= 400:
                assert_envelope(response)


def test_unknown_methods_and_ids(gateway, account):
    assert_envelope(gateway.delete("/api/v1/auth/me/", headers=bearer(account["access"])))
    assert_envelope(gateway.delete("/api/v1/auth/api-keys/not-a-uuid/", headers=bearer(account["access"])))
    assert_envelope(
        gateway.delete(
            "/api/v1/auth/api-keys/00000000-0000-0000-0000-000000000000/", headers=bearer(account["access"])
        )
    )
