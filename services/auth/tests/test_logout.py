"""POST /api/v1/auth/logout/: the access token's jti revoked and the refresh token blacklisted."""

import time
from datetime import timedelta

from django.core.cache import cache
from django.utils import timezone

from tests.conftest import client_for
from tests.helpers import error_of, me, refresh, sign_in, verify
from tokens import revocation
from tokens.models import RevokedAccessToken

URL = "/api/v1/auth/logout/"


def test_logout_answers_no_content(authed, tokens):
    response = authed.post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert response.status_code == 204
    assert response.content == b""


def test_after_logout_the_access_token_is_refused_by_verify_and_me(api, authed, tokens):
    assert verify(api, tokens["access"]).status_code == 200

    authed.post(URL, {"refresh": tokens["refresh"]}, format="json")

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")
    error_of(me(api, tokens["access"]), 401)


def test_after_logout_the_refresh_token_is_refused(api, authed, tokens):
    authed.post(URL, {"refresh": tokens["refresh"]}, format="json")

    error_of(refresh(api, tokens["refresh"]), 401, "token_reused")


def test_logout_without_a_refresh_token_revokes_only_the_access_token(api, authed, tokens):
    assert authed.post(URL, {}, format="json").status_code == 204

    assert verify(api, tokens["access"]).status_code == 401
    assert refresh(api, tokens["refresh"]).status_code == 200


def test_logout_with_someone_elses_refresh_token_does_not_revoke_it(api, authed, other_tokens):
    response = authed.post(URL, {"refresh": other_tokens["refresh"]}, format="json")

    assert response.status_code == 204
    assert refresh(api, other_tokens["refresh"]).status_code == 200


def test_logout_ends_only_this_session(api, authed, tokens):
    second = sign_in(api).json()

    authed.post(URL, {"refresh": tokens["refresh"]}, format="json")

    assert verify(api, second["access"]).status_code == 200
    assert refresh(api, second["refresh"]).status_code == 200


def test_logout_with_an_invalid_refresh_token_still_revokes_the_access_token(api, authed, tokens):
    response = authed.post(URL, {"refresh": "not-a-token"}, format="json")

    assert response.status_code == 204
    assert verify(api, tokens["access"]).status_code == 401


def test_logout_with_an_already_used_refresh_token_still_succeeds(api, authed, tokens):
    refresh(api, tokens["refresh"])

    assert authed.post(URL, {"refresh": tokens["refresh"]}, format="json").status_code == 204


def test_logging_out_twice_with_the_same_access_token_is_refused(authed, tokens):
    authed.post(URL, {}, format="json")

    error_of(authed.post(URL, {}, format="json"), 401)


def test_logout_needs_an_access_token(api, tokens):
    error_of(api.post(URL, {"refresh": tokens["refresh"]}, format="json"), 401, "not_authenticated")
    assert refresh(api, tokens["refresh"]).status_code == 200


def test_a_refresh_token_cannot_log_out(api, tokens):
    client = client_for(tokens["refresh"])

    error_of(client.post(URL, {}, format="json"), 401)


def test_a_jti_is_revoked_until_shortly_after_its_token_expires(
    db, monkeypatch, django_capture_on_commit_callbacks
):
    timeouts = []
    monkeypatch.setattr(revocation.shared_cache, "set", lambda key, value, timeout: timeouts.append(timeout))

    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti="some-jti", expires_at=time.time() + 100)

    assert len(timeouts) == 1
    assert 100 <= timeouts[0] <= 105
    row = RevokedAccessToken.objects.get(jti="some-jti")
    assert 100 <= row.expires_at.timestamp() - time.time() <= 105


def test_revoking_an_already_expired_token_stores_nothing(db, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti="long-gone", expires_at=time.time() - 60)

    assert cache.get(revocation._jti_key("long-gone")) is None
    assert not RevokedAccessToken.objects.exists()


def test_a_revocation_clears_out_the_expired_ones(db, django_capture_on_commit_callbacks):
    RevokedAccessToken.objects.create(jti="expired", expires_at=timezone.now() - timedelta(seconds=1))

    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti="current", expires_at=time.time() + 100)

    assert list(RevokedAccessToken.objects.values_list("jti", flat=True)) == ["current"]


def test_revoking_a_jti_twice_keeps_one_row(db):
    revocation.jti_revoke(jti="twice", expires_at=time.time() + 100)
    revocation.jti_revoke(jti="twice", expires_at=time.time() + 100)

    assert RevokedAccessToken.objects.filter(jti="twice").count() == 1
