"""What makes a validly signed token unusable: a revoked `jti` or family, an `iat` before the cutoff.

The cutoff is the user's. All three live in the shared cache so every worker process (and
the gateway's verify hot path) sees a revocation at once. The cutoff and a family's state
are loaded from the database on a miss.
"""

from __future__ import annotations

import time
import uuid

from django.core.cache import cache
from django.db import transaction

from accounts.models import User
from tokens.models import TokenFamily
from tokens.pairs import FAMILY_CLAIM

# How long a user's cutoff (or a family's state) stays cached; writers overwrite it, so this
# only bounds staleness for changes made outside the domain functions.
CUTOFF_TTL = 300
FAMILY_TTL = 300
# A user who no longer exists or is deactivated: nothing they hold is valid.
DISABLED = -1.0


def _jti_key(jti: str) -> str:
    return f"revoked-jti:{jti}"


def _cutoff_key(user_id: str) -> str:
    return f"token-cutoff:{user_id}"


def _family_key(family_id: uuid.UUID) -> str:
    return f"token-family-revoked:{family_id.hex}"


def jti_revoke(*, jti: str, expires_at: float) -> None:
    """Refuse this token id until it would have expired anyway."""
    remaining = int(expires_at - time.time()) + 5
    if remaining > 0:
        cache.set(_jti_key(jti), 1, timeout=remaining)


def _cutoff_of(user: User | None) -> float:
    if user is None or not user.is_active:
        return DISABLED
    return user.tokens_valid_after.timestamp() if user.tokens_valid_after else 0.0


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


def family_publish_revoked(*, family_id: uuid.UUID) -> None:
    """Refuse the family's access tokens once the surrounding transaction commits."""
    key = _family_key(family_id)
    transaction.on_commit(lambda: cache.set(key, 1, timeout=FAMILY_TTL))


def family_revoked(family_id: uuid.UUID, cached=_UNREAD) -> bool:
    if cached is _UNREAD:
        cached = cache.get(_family_key(family_id))
    if cached is not None:
        return bool(cached)
    revoked = TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=False).exists()
    # add(), not set(): a revocation published meanwhile must not be overwritten by this read.
    cache.add(_family_key(family_id), int(revoked), timeout=FAMILY_TTL)
    return revoked


def is_revoked(claims: dict) -> bool:
    """One cache round trip on the hot path; the database only on a cache miss."""
    user_id = str(claims["sub"])
    # No `fam`: an API key's phantom token, or a token issued before families existed.
    family = claims.get(FAMILY_CLAIM)
    try:
        family_id = uuid.UUID(str(family)) if family is not None else None
    except ValueError:
        return True  # not a family this service wrote
    jti_key, cutoff_key = _jti_key(str(claims["jti"])), _cutoff_key(user_id)
    family_key = _family_key(family_id) if family_id else None
    found = cache.get_many([key for key in (jti_key, cutoff_key, family_key) if key])
    if found.get(jti_key):
        return True
    if family_id and family_revoked(family_id, found.get(family_key)):
        return True
    cutoff = user_cutoff(user_id, found.get(cutoff_key))
    return cutoff == DISABLED or float(claims["iat"]) < cutoff


def cutoff_forget(*, user_id: str) -> None:
    """Drop the cached cutoff (the next check reads the database), e.g. after a user is deleted."""
    key = _cutoff_key(user_id)
    transaction.on_commit(lambda: cache.delete(key))
