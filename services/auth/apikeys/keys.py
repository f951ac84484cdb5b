"""API key operations: create (the secret shown once), list, get, rename, delete, and authenticate a key."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import string
from dataclasses import asdict, dataclass
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from accounts.models import User
from apikeys import scopes
from apikeys.models import ApiKey
from oasis_common.errors import NotFound, ServiceError
from tokens import shared_cache

KEY_MARK = "oak_"
PREFIX_LENGTH = 8
SECRET_LENGTH = 40
ALPHABET = string.ascii_letters + string.digits
# A key's owner is cached this long; deleting a key removes the entry at once.
CACHE_SECONDS = 60


def _random(length: int) -> str:
    return "".join(secrets.choice(ALPHABET) for _ in range(length))


def _hash(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _cache_key(secret_hash: str) -> str:
    return f"apikey:{secret_hash}"


@dataclass(frozen=True)
class CreatedKey:
    key: ApiKey
    secret: str


@dataclass(frozen=True)
class KeyOwner:
    user_id: str
    key_id: str
    scope: str


def apikey_list(*, user_id) -> list[ApiKey]:
    return list(ApiKey.objects.filter(user_id=user_id))


def apikey_get(*, user_id, key_id) -> ApiKey:
    """The caller's key; anyone else's is as absent as one that never existed."""
    key = ApiKey.objects.filter(user_id=user_id, pk=key_id).first()
    if key is None:
        raise NotFound("No such API key.")
    return key


def apikey_rename(*, key: ApiKey, name: str) -> ApiKey:
    key.name = name
    key.save(update_fields=["name"])
    return key


def apikey_create(*, user_id, name: str, scope: str = scopes.FULL) -> CreatedKey:
    limit = settings.OASIS["API_KEYS_PER_USER"]
    with transaction.atomic():
        # Lock the owner so concurrent creations cannot pass the limit together.
        User.objects.select_for_update().filter(pk=user_id).first()
        if ApiKey.objects.filter(user_id=user_id).count() >= limit:
            raise ServiceError(
                f"You already have {limit} API keys. Delete one before creating another.",
                code="api_key_limit_reached",
                status_code=409,
            )
        prefix = _random(PREFIX_LENGTH)
        secret = f"{KEY_MARK}{prefix}{_random(SECRET_LENGTH)}"
        key = ApiKey.objects.create(
            user_id=user_id, name=name, prefix=prefix, secret_hash=_hash(secret), scope=scope
        )
    return CreatedKey(key=key, secret=secret)


def apikey_delete(*, key: ApiKey) -> None:
    secret_hash = key.secret_hash
    with transaction.atomic():
        key.delete()
        transaction.on_commit(lambda: shared_cache.delete(_cache_key(secret_hash)))


def looks_like_key(raw: str) -> bool:
    return raw.startswith(KEY_MARK)


def apikey_owner(raw: str) -> KeyOwner | None:
    """Who holds a valid key, and its scope; else None. Cached briefly; records last use."""
    if len(raw) != len(KEY_MARK) + PREFIX_LENGTH + SECRET_LENGTH:
        return None
    secret_hash = _hash(raw)
    cached = shared_cache.get(_cache_key(secret_hash))
    if isinstance(cached, dict):
        return KeyOwner(**cached)
    prefix = raw[len(KEY_MARK) : len(KEY_MARK) + PREFIX_LENGTH]
    key = ApiKey.objects.filter(prefix=prefix).select_related("user").first()
    if key is None or not hmac.compare_digest(key.secret_hash, secret_hash):
        return None
    if not key.user.is_active:
        return None
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > timedelta(seconds=CACHE_SECONDS):
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
    owner = KeyOwner(user_id=str(key.user_id), key_id=str(key.pk), scope=key.scope)
    shared_cache.add(_cache_key(secret_hash), asdict(owner), timeout=CACHE_SECONDS)
    return owner
