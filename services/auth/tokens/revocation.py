"""What makes a validly signed token unusable: a revoked `jti` or family, an `iat` before the cutoff.

The cutoff is the user's. The database holds all three (RevokedAccessToken, TokenFamily,
User.tokens_valid_after); the shared cache holds copies so the gateway's verify hot path costs
one cache round trip and no query. Writers commit to the database, then publish to the cache;
readers load whatever the cache misses, "not revoked" included, from the database in one query.
A missing entry therefore never means "not revoked": a Redis restarted empty, an evicted key or a
cache that is down (tokens.shared_cache) all fall back to the database and answer the same.
"""

from __future__ import annotations

import time
import uuid

from django.db import transaction
from django.db.models import Exists
from django.utils import timezone
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts.models import User
from oasis_common.conf import oasis_settings
from tokens import shared_cache
from tokens.models import RevokedAccessToken, TokenFamily
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


def _lifetime_left(expires_at: float) -> int:
    """Seconds until a token that expires then is refused as expired by every verifier."""
    return int(expires_at + oasis_settings.JWT_LEEWAY_SECONDS - time.time())


def jti_revoke(*, jti: str, expires_at: float) -> None:
    """Refuse this token id until it would have expired anyway: a row, then (on commit) the cache."""
    remaining = _lifetime_left(expires_at)
    if remaining <= 0:
        return
    until = datetime_from_epoch(time.time() + remaining)
    RevokedAccessToken.objects.bulk_create(
        [RevokedAccessToken(jti=jti, expires_at=until)], ignore_conflicts=True
    )
    key = _jti_key(jti)
    transaction.on_commit(lambda: shared_cache.set(key, 1, timeout=remaining))
    # Outside the revoking transaction, so it holds no row locks for long; a failure costs nothing.
    transaction.on_commit(_revoked_jtis_prune, robust=True)


def _revoked_jtis_prune() -> None:
    RevokedAccessToken.objects.filter(expires_at__lt=timezone.now()).delete()


def _cutoff_of(user: User | None) -> float:
    if user is None:
        return DISABLED
    return _cutoff(is_active=user.is_active, tokens_valid_after=user.tokens_valid_after)


def _cutoff(*, is_active: bool, tokens_valid_after) -> float:
    if not is_active:
        return DISABLED
    return tokens_valid_after.timestamp() if tokens_valid_after else 0.0


def cutoff_publish(*, user: User) -> None:
    """Publish the user's current cutoff once the surrounding transaction commits."""
    value = _cutoff_of(user)
    key = _cutoff_key(str(user.pk))
    transaction.on_commit(lambda: shared_cache.set(key, value, timeout=CUTOFF_TTL))


def user_cutoff(user_id: str) -> float:
    """The `iat` below which the user's tokens are refused (DISABLED: all of them)."""
    cached = shared_cache.get(_cutoff_key(user_id))
    if cached is not None:
        return cached
    user = User.objects.filter(pk=user_id).only("is_active", "tokens_valid_after").first()
    value = _cutoff_of(user)
    # add(), not set(): a cutoff published by a concurrent change must not be overwritten
    # by the older value this read may have seen.
    shared_cache.add(_cutoff_key(user_id), value, timeout=CUTOFF_TTL)
    return value


def family_publish_revoked(*, family_id: uuid.UUID) -> None:
    """Refuse the family's access tokens once the surrounding transaction commits."""
    key = _family_key(family_id)
    transaction.on_commit(lambda: shared_cache.set(key, 1, timeout=FAMILY_TTL))


def is_revoked(claims: dict) -> bool:
    """One cache round trip on the hot path; one query for whatever the cache misses."""
    user_id, jti = str(claims["sub"]), str(claims["jti"])
    # No `fam`: an API key's phantom token, or a token issued before families existed.
    family = claims.get(FAMILY_CLAIM)
    try:
        family_id = uuid.UUID(str(family)) if family is not None else None
    except ValueError:
        return True  # not a family this service wrote
    keys = {"jti": _jti_key(jti), "cutoff": _cutoff_key(user_id)}
    if family_id:
        keys["family"] = _family_key(family_id)
    found = shared_cache.get_many(keys.values())
    state = {name: found.get(key) for name, key in keys.items()}
    if _refuses(claims, state):
        return True
    if all(value is not None for value in state.values()):
        return False
    loaded = _state_load(user_id=user_id, jti=jti, family_id=family_id)
    # "Not revoked" is cached too, for as long as the token lives: a revocation overwrites it.
    timeouts = {
        "jti": max(_lifetime_left(float(claims["exp"])), 1),
        "cutoff": CUTOFF_TTL,
        "family": FAMILY_TTL,
    }
    for name, value in loaded.items():
        if state[name] is None:
            # add(), not set(): what a concurrent revocation published must not be overwritten
            # by the older state this read may have seen.
            shared_cache.add(keys[name], value, timeout=timeouts[name])
            state[name] = value
    return _refuses(claims, state)


def _refuses(claims: dict, state: dict) -> bool:
    """Whether what is known of the token's state (None: unknown) refuses it."""
    if state.get("jti") or state.get("family"):
        return True
    cutoff = state.get("cutoff")
    return cutoff is not None and (cutoff == DISABLED or float(claims["iat"]) < cutoff)


def _state_load(*, user_id: str, jti: str, family_id: uuid.UUID | None) -> dict:
    """The token's state from the database, in one query: its user's cutoff, its jti, its family.

    A user who does not exist has only a cutoff (DISABLED): nothing else needs asking.
    """
    checks = {"jti": Exists(RevokedAccessToken.objects.filter(jti=jti))}
    if family_id:
        checks["family"] = Exists(TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=False))
    row = User.objects.filter(pk=user_id).values("is_active", "tokens_valid_after", **checks).first()
    if row is None:
        return {"cutoff": DISABLED}
    cutoff = _cutoff(is_active=row["is_active"], tokens_valid_after=row["tokens_valid_after"])
    return {"cutoff": cutoff, **{name: int(row[name]) for name in checks}}


def cutoff_forget(*, user_id: str) -> None:
    """Drop the cached cutoff (the next check reads the database), e.g. after a user is deleted."""
    key = _cutoff_key(user_id)
    transaction.on_commit(lambda: shared_cache.delete(key))
