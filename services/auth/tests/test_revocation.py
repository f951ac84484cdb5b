"""tokens/revocation.py: revoked jtis and per-user cutoffs in the shared cache, the database behind it."""

import time

import pytest
from django.core.cache import cache
from django.db import transaction

from accounts import users
from accounts.models import User
from tests.helpers import NEW_PASSWORD, access_claims
from tokens import revocation


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
