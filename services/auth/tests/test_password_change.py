"""POST /api/v1/auth/password/change/: a new password, a new pair, and every older token refused."""

import pytest
from django.utils import timezone

from accounts import users
from tests.conftest import client_for
from tests.helpers import NEW_PASSWORD, PASSWORD, error_of, me, refresh, sign_in, verify
from tokens.pairs import AccessToken

URL = "/api/v1/auth/password/change/"


def change(client, current=PASSWORD, new=NEW_PASSWORD):
    return client.post(URL, {"current_password": current, "new_password": new}, format="json")


def test_a_password_change_returns_a_working_pair(api, user, authed):
    response = change(authed)

    assert response.status_code == 200, response.content
    pair = response.json()
    assert set(pair) == {"access", "refresh", "token_type", "expires_in"}
    assert me(api, pair["access"]).status_code == 200
    assert verify(api, pair["access"])["X-User-Id"] == str(user.pk)
    assert refresh(api, pair["refresh"]).status_code == 200


def test_after_a_change_only_the_new_password_signs_in(api, authed):
    change(authed)

    error_of(sign_in(api, password=PASSWORD), 401, "invalid_credentials")
    assert sign_in(api, password=NEW_PASSWORD).status_code == 200


def test_every_older_token_is_refused_after_a_change(api, authed, tokens):
    other_session = sign_in(api).json()
    rotated = refresh(api, other_session["refresh"]).json()

    assert change(authed).status_code == 200

    for access in (tokens["access"], other_session["access"], rotated["access"]):
        error_of(verify(api, access), 401, "not_authenticated")
        error_of(me(api, access), 401)
    for old_refresh in (tokens["refresh"], rotated["refresh"]):
        error_of(refresh(api, old_refresh), 401, "invalid_token")


def test_a_wrong_current_password_is_refused(api, authed, tokens):
    response = change(authed, current="not the password")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"current_password"}
    assert sign_in(api, password=PASSWORD).status_code == 200
    assert verify(api, tokens["access"]).status_code == 200


@pytest.mark.parametrize(
    "new",
    ["short", "password123", "20250101123456", "ada@example.com!"],
    ids=["short", "common", "numeric", "similar-to-email"],
)
def test_a_weak_new_password_is_refused(api, authed, tokens, new):
    response = change(authed, new=new)

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"new_password"}
    assert verify(api, tokens["access"]).status_code == 200


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"current_password", "new_password"}),
        ({"current_password": PASSWORD}, {"new_password"}),
        ({"new_password": NEW_PASSWORD}, {"current_password"}),
        ({"current_password": PASSWORD, "new_password": ["x"]}, {"new_password"}),
    ],
    ids=["empty", "no-new", "no-current", "list"],
)
def test_missing_or_mistyped_fields_are_named(authed, body, fields):
    response = authed.post(URL, body, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == fields


def test_a_password_change_needs_a_token(api, user):
    error_of(change(api), 401, "not_authenticated")


def test_a_revoked_token_cannot_change_the_password(api, authed, tokens):
    authed.post("/api/v1/auth/logout/", {}, format="json")

    error_of(change(authed), 401)
    assert sign_in(api, password=PASSWORD).status_code == 200


def test_a_token_issued_in_the_same_second_as_the_change_is_refused(api, user, monkeypatch):
    # Token `iat`s are whole seconds; a cutoff in the same second must still cover them.
    token = AccessToken.for_user(user)
    issued_at = token.current_time
    with monkeypatch.context() as frozen:
        frozen.setattr(users.timezone, "now", lambda: issued_at)
        users.tokens_revoke_all(user=user)
    fresh = AccessToken.for_user(user)

    error_of(verify(api, str(token)), 401)
    assert verify(api, str(fresh)).status_code == 200


def test_tokens_issued_right_after_a_revocation_are_accepted(api, user):
    # Each revocation waits for the next whole second: a few are enough to land anywhere in one.
    for _ in range(3):
        users.tokens_revoke_all(user=user)
        assert user.tokens_valid_after <= timezone.now()
        assert verify(api, str(AccessToken.for_user(user))).status_code == 200


def test_guessing_the_current_password_counts_towards_the_sign_in_lockout(api, authed, settings):
    # Otherwise a stolen access token would be an unlimited password oracle.
    settings.OASIS = {**settings.OASIS, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3}
    for _ in range(3):
        error_of(change(authed, current="a wrong guess"), 400, "validation_error")

    error_of(change(authed), 429, "login_locked")
    error_of(sign_in(api), 429, "login_locked")


def test_the_right_current_password_resets_the_failure_count(authed, settings):
    settings.OASIS = {**settings.OASIS, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3}
    for _ in range(2):
        change(authed, current="a wrong guess")
    pair = change(authed).json()
    again = client_for(pair["access"])

    for _ in range(2):
        error_of(change(again, current="a wrong guess"), 400, "validation_error")
    assert change(again, current=NEW_PASSWORD, new=PASSWORD).status_code == 200
