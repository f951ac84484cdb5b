"""Helpers for service test suites: a throwaway signing key, tokens minted with it, test settings."""

from __future__ import annotations

import time
import uuid
from functools import cache

import jwt
from django.conf import settings

from oasis_common import env
from oasis_common.keys import generate_private_pem, load_public_key, public_jwk


@cache
def _test_key() -> tuple[bytes, dict]:
    pem = generate_private_pem()
    return pem, public_jwk(load_public_key(pem))


def jwks_for_tests() -> dict:
    """A `JWKS_LOADER` for tests: the public half of the throwaway key."""
    return {"keys": [_test_key()[1]]}


def mint(
    *,
    sub: str,
    token_type: str = "access",
    audience: str | None = None,
    lifetime: int = 300,
    headers: dict | None = None,
    key: bytes | str | None = None,
    algorithm: str = "RS256",
    **claims,
) -> str:
    """A token signed like auth signs them, with any claim overridable for negative tests."""
    pem, jwk = _test_key()
    now = int(time.time())
    oasis = settings.OASIS
    payload = {
        "iss": oasis["JWT_ISSUER"],
        "aud": audience or oasis["JWT_AUDIENCE"],
        "sub": sub,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + lifetime,
        "token_type": token_type,
        **claims,
    }
    header = {"kid": jwk["kid"], **(headers or {})}
    return jwt.encode(payload, key if key is not None else pem, algorithm=algorithm, headers=header)


def user_token(user_id: uuid.UUID | str | None = None, **kwargs) -> str:
    return mint(sub=str(user_id or uuid.uuid4()), **kwargs)


def service_token_for(caller: str, audience: str, **kwargs) -> str:
    return mint(sub=f"service:{caller}", token_type="service", audience=audience, **kwargs)


def clear_cache() -> None:
    """Empty the test cache without touching keys that belong to anyone else on a shared Redis."""
    from django.core.cache import cache
    from django.core.cache.backends.redis import RedisCache

    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"*{cache.key_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


def settings_for_tests(service: str) -> dict:
    """Settings for a service's own test suite: PostgreSQL and Redis when the environment says so."""
    overrides: dict = {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    database_url = env.get_str("OASIS_TEST_DATABASE_URL")
    if database_url:
        import dj_database_url

        config = dj_database_url.parse(database_url)
        config["NAME"] = f"oasis_{service}"
        overrides["DATABASES"] = {"default": config}
    redis_url = env.get_str("OASIS_TEST_REDIS_URL")
    if redis_url:
        overrides["CACHES"] = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": f"oasis-test-{uuid.uuid4().hex[:12]}:{service}",
            }
        }
    return overrides
