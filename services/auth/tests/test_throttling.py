"""Per-address rate limits on the public endpoints that do not sign in (sign-in has its lockout).

Registration has limits of its own: tests/test_registration_limits.py.
"""

import pytest
from django.conf import settings

from tests.helpers import error_of

# (scope, path, a body that is cheap to refuse, a body that would succeed)
THROTTLED = [
    ("password_reset", "/api/v1/auth/password/reset/", {}, {"email": "ada@example.com"}),
    ("password_reset_confirm", "/api/v1/auth/password/reset/confirm/", {}, None),
    ("token_refresh", "/api/v1/auth/token/refresh/", {"refresh": "garbage"}, None),
]


def allowed(scope: str) -> int:
    count, _, _ = settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope].partition("/")
    return int(count)


def use_up(api, scope, path, body, address) -> None:
    for _ in range(allowed(scope)):
        response = api.post(path, body, format="json", HTTP_X_FORWARDED_FOR=address)
        assert response.status_code != 429, f"throttled before the configured {allowed(scope)} requests"


@pytest.mark.parametrize(("scope", "path", "cheap", "_"), THROTTLED, ids=[row[0] for row in THROTTLED])
def test_the_configured_rate_per_address_is_enforced_with_retry_after(api, user, scope, path, cheap, _):
    use_up(api, scope, path, cheap, "198.51.100.4")

    response = api.post(path, cheap, format="json", HTTP_X_FORWARDED_FOR="198.51.100.4")

    error = error_of(response, 429, "too_many_requests")
    retry_after = int(response["Retry-After"])
    assert retry_after > 0
    assert error["details"] == {"retry_after": retry_after}


@pytest.mark.parametrize(("scope", "path", "cheap", "_"), THROTTLED, ids=[row[0] for row in THROTTLED])
def test_another_address_is_not_throttled(api, user, scope, path, cheap, _):
    use_up(api, scope, path, cheap, "198.51.100.4")

    response = api.post(path, cheap, format="json", HTTP_X_FORWARDED_FOR="203.0.113.5")

    assert response.status_code != 429


def test_a_throttled_reset_request_sends_no_email(api, user, mailoutbox):
    use_up(api, "password_reset", "/api/v1/auth/password/reset/", {}, "198.51.100.4")

    response = api.post(
        "/api/v1/auth/password/reset/",
        {"email": "ada@example.com"},
        format="json",
        HTTP_X_FORWARDED_FOR="198.51.100.4",
    )

    error_of(response, 429, "too_many_requests")
    assert mailoutbox == []


def test_the_throttle_keys_on_the_address_the_gateway_appended(api, db):
    path = "/api/v1/auth/password/reset/"
    for index in range(allowed("password_reset")):
        api.post(path, {}, format="json", HTTP_X_FORWARDED_FOR=f"10.0.0.{index}, 198.51.100.4")

    response = api.post(path, {}, format="json", HTTP_X_FORWARDED_FOR="10.9.9.9, 198.51.100.4")

    error_of(response, 429, "too_many_requests")


@pytest.mark.parametrize(("scope", "path", "cheap", "_"), THROTTLED, ids=[row[0] for row in THROTTLED])
def test_with_redis_down_requests_pass_uncounted(api, user, redis_down, scope, path, cheap, _):
    redis_down()

    for _ in range(allowed(scope) + 1):
        response = api.post(path, cheap, format="json", HTTP_X_FORWARDED_FOR="198.51.100.4")
        assert response.status_code not in (429, 500)


def test_with_redis_down_a_refresh_token_still_rotates(api, tokens, redis_down):
    redis_down()

    response = api.post("/api/v1/auth/token/refresh/", {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 200
