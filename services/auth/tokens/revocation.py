"""What makes a validly signed token unusable: a revoked `jti`, or an `iat` before the user's cutoff.

Both live in the shared cache so every worker process (and the gateway's verify
hot path) sees a revocation at once. The cutoff is loaded from the database on a miss.
"""

from __future__ import annotations

import time

from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from tokens.tokens import epoch_ms

# How long a user's cutoff stays cached; writers overwrite it, so this only bounds staleness
# for changes made outside the domain functions.
CUTOFF_TTL = 300
# A user who no longer exists or is deactivated: nothing they hold is valid.
DISABLED = -1.0


def _jti_key(jti: str) -> str:
    return f"revoked-jti:{jti}"


def _cutoff_key(user_id: str) -> str:
    return f"token-cutoff:{user_id}"


def jti_revoke(*, jti: str, expires_at: float) -> None:
    """Refuse this token id until it would have expired anyway."""
    remaining = int(expires_at - time.time()) + 5
    if remaining > 0:
        cache.set(_jti_key(jti), 1, timeout=remaining)


def _cutoff_of(user: User | None) -> float:
    if user is None or not user.is_active:
        return DISABLED
    return epoch_ms(user.tokens_valid_after) if user.tokens_valid_after else 0.0


def cutoff_publish(*, user: User) -> None:
    """Publish the user's current cutoff once the surrounding transaction commits."""
    value = _cutoff_of(user)
    key = _cutoff_key(str(user.pk))
    transaction.on_commit(lambda: cache.set(key, value, timeout=CUTOFF_TTL))


_UNREAD = object()


def user_cutoff(user_id: str, cached=_UNREAD) -> float:
    """The `iat` below which the user's tokens are refused (DISABLED: all of them)."""
    if cached is _UNREAD:
        cached = cache.get(_cutoff_key(user_id))
    if cached is not None:
        return cached
    user = User.objects.filter(pk=user_id).only("is_active", "tokens_valid_after").first()
    value = _cutoff_of(user)
    # add(), not set(): a cutoff published by a concurrent change must not be overwritten
    # by the older value this read may have seen.
    cache.add(_cutoff_key(user_id), value, timeout=CUTOFF_TTL)
    return value


def is_revoked(claims: dict) -> bool:
    """One cache round trip on the hot path; the database only on a cache miss."""
    user_id = str(claims["sub"])
    jti_key, cutoff_key = _jti_key(str(claims["jti"])), _cutoff_key(user_id)
    found = cache.get_many([jti_key, cutoff_key])
    if found.get(jti_key):
        return True
    cutoff = user_cutoff(user_id, found.get(cutoff_key))
    return cutoff == DISABLED or float(claims["iat"]) < cutoff


def cutoff_forget(*, user_id: str) -> None:
    """Drop the cached cutoff (the next check reads the database), e.g. after a user is deleted."""
    key = _cutoff_key(user_id)
    transaction.on_commit(lambda: cache.delete(key))
