"""tokens/revocation.py: revoked jtis, families and cutoffs in the database, copied in the shared cache."""

import time
import uuid
from datetime import timedelta

import pytest
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts import users
from accounts.models import User
from oasis_common.testing import clear_cache
from tests.helpers import NEW_PASSWORD, access_claims
from tokens import revocation
from tokens.models import RevokedAccessToken, TokenFamily


def claims_for(user, **overrides) -> dict:
    return access_claims(user.pk, **overrides)


def test_a_fresh_token_of_an_active_user_is_not_revoked(user):
    assert not revocation.is_revoked(claims_for(user))


def test_a_revoked_jti_is_revoked(user):
    claims = claims_for(user)

    revocation.jti_revoke(jti=claims["jti"], expires_at=claims["exp"])

    assert revocation.is_revoked(claims)
    assert not revocation.is_revoked(claims_for(user))


def test_the_cutoff_is_read_from_the_database_once_and_then_cached(user):
    assert revocation.user_cutoff(str(user.pk)) == 0.0
    # A change made behind the domain functions' back is seen only once the entry expires.
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert revocation.user_cutoff(str(user.pk)) == 0.0
    assert cache.get(revocation._cutoff_key(str(user.pk))) == 0.0


def test_an_unknown_user_is_disabled(db):
    assert revocation.user_cutoff("00000000-0000-0000-0000-000000000000") == revocation.DISABLED


def test_an_inactive_user_is_disabled(make_user):
    inactive = make_user(is_active=False)

    assert revocation.user_cutoff(str(inactive.pk)) == revocation.DISABLED
    assert revocation.is_revoked(claims_for(inactive))


def test_tokens_issued_before_the_cutoff_are_revoked_and_later_ones_are_not(
    user, django_capture_on_commit_callbacks
):
    before = claims_for(user, iat=time.time() - 1)
    with django_capture_on_commit_callbacks(execute=True):
        users.tokens_revoke_all(user=user)

    assert revocation.is_revoked(before)
    assert not revocation.is_revoked(claims_for(user, iat=time.time()))


def test_the_cutoff_is_published_only_when_the_change_commits(user, django_capture_on_commit_callbacks):
    revocation.user_cutoff(str(user.pk))  # cached: 0.0
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        users.password_change(user=user, new_password=NEW_PASSWORD)

    assert len(callbacks) == 1
    assert cache.get(revocation._cutoff_key(str(user.pk))) > 0


def _change_then_fail(user) -> None:
    with transaction.atomic():
        users.password_change(user=user, new_password=NEW_PASSWORD)
        raise RuntimeError("the request failed after the change")


def test_a_rolled_back_change_publishes_nothing(user, django_capture_on_commit_callbacks):
    revocation.user_cutoff(str(user.pk))
    with django_capture_on_commit_callbacks(execute=True) as callbacks, pytest.raises(RuntimeError):
        _change_then_fail(user)

    assert callbacks == []
    assert cache.get(revocation._cutoff_key(str(user.pk))) == 0.0


def test_a_cached_cutoff_is_not_overwritten_by_an_older_read(user):
    cache.set(revocation._cutoff_key(str(user.pk)), 123.0)

    assert revocation.user_cutoff(str(user.pk)) == 123.0
    assert cache.get(revocation._cutoff_key(str(user.pk))) == 123.0


def test_forgetting_a_cutoff_makes_the_next_check_read_the_database(user, django_capture_on_commit_callbacks):
    revocation.user_cutoff(str(user.pk))
    User.objects.filter(pk=user.pk).update(is_active=False)

    with django_capture_on_commit_callbacks(execute=True):
        revocation.cutoff_forget(user_id=str(user.pk))

    assert revocation.user_cutoff(str(user.pk)) == revocation.DISABLED


def test_a_revoked_jti_is_refused_after_the_cache_lost_it(user, django_capture_on_commit_callbacks):
    claims = claims_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti=claims["jti"], expires_at=claims["exp"])
    clear_cache()  # Redis restarted without its data, or evicted the mark

    assert revocation.is_revoked(claims)
    assert cache.get(revocation._jti_key(claims["jti"])) == 1  # published again


def test_not_revoked_is_cached_until_the_token_expires(user, quick_cache, django_assert_num_queries):
    claims = claims_for(user)
    with django_assert_num_queries(1):
        assert not revocation.is_revoked(claims)

    assert cache.get(revocation._jti_key(claims["jti"])) == 0
    with django_assert_num_queries(0):
        assert not revocation.is_revoked(claims)


def test_a_revocation_replaces_a_cached_not_revoked(user, django_capture_on_commit_callbacks):
    claims = claims_for(user)
    assert not revocation.is_revoked(claims)

    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti=claims["jti"], expires_at=claims["exp"])

    assert revocation.is_revoked(claims)


def _revoke_jti(user, claims):
    revocation.jti_revoke(jti=claims["jti"], expires_at=claims["exp"])


def _revoke_family(user, claims):
    newest = OutstandingToken.objects.create(
        user=user, jti=uuid.uuid4().hex, token="-", expires_at=timezone.now() + timedelta(days=1)
    )
    TokenFamily.objects.create(pk=claims["fam"], user=user, newest=newest, revoked_at=timezone.now())


def _revoke_all(user, claims):
    users.tokens_revoke_all(user=user)


def _deactivate(user, claims):
    User.objects.filter(pk=user.pk).update(is_active=False)


def _delete(user, claims):
    user.delete()


# What the database says of a token, each read with the cache failing.
WITHOUT_THE_CACHE = {
    "valid": (lambda user, claims: None, False),
    "revoked-jti": (_revoke_jti, True),
    "revoked-family": (_revoke_family, True),
    "issued-before-the-cutoff": (_revoke_all, True),
    "user-deactivated": (_deactivate, True),
    "user-deleted": (_delete, True),
}


@pytest.mark.parametrize(("change", "revoked"), list(WITHOUT_THE_CACHE.values()), ids=list(WITHOUT_THE_CACHE))
def test_with_the_cache_failing_the_database_answers_in_one_query(
    user, change, revoked, django_capture_on_commit_callbacks, django_assert_num_queries, request
):
    claims = claims_for(user, iat=int(time.time()) - 1, fam=str(uuid.uuid4()))
    with django_capture_on_commit_callbacks(execute=True):
        change(user, claims)
    request.getfixturevalue("cache_fails")

    with django_assert_num_queries(1):
        assert revocation.is_revoked(claims) is revoked


def test_with_the_cache_failing_the_cutoff_is_read_from_the_database(user, cache_fails):
    User.objects.filter(pk=user.pk).update(is_active=False)

    assert revocation.user_cutoff(str(user.pk)) == revocation.DISABLED


def test_a_revocation_while_the_cache_fails_is_committed_and_logged(
    user, cache_fails, caplog, django_capture_on_commit_callbacks
):
    claims = claims_for(user)
    with django_capture_on_commit_callbacks(execute=True):
        revocation.jti_revoke(jti=claims["jti"], expires_at=claims["exp"])

    assert RevokedAccessToken.objects.filter(jti=claims["jti"]).exists()
    assert "The shared cache failed" in caplog.text
    assert revocation.is_revoked(claims)


def test_once_the_cache_fails_it_is_not_asked_again_for_a_few_seconds(user, cache_fails):
    claims = claims_for(user)

    for _ in range(3):
        assert not revocation.is_revoked(claims)

    assert cache_fails == ["get_many"]
