"""Helpers for service test suites: a throwaway signing key, tokens minted with it, test settings."""

from __future__ import annotations

import threading
import time
import uuid
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from oasis_common import env
from oasis_common.keys import generate_private_pem, load_public_key, public_jwk

_key_lock = threading.Lock()


@cache
def _make_test_key() -> tuple[bytes, dict]:
    pem = generate_private_pem()
    return pem, public_jwk(load_public_key(pem))


def _test_key() -> tuple[bytes, dict]:
    # Threads minting their first tokens at once must agree on one key.
    with _key_lock:
        return _make_test_key()


@cache
def _test_signing_key():
    # Parsing the PEM costs tens of milliseconds (OpenSSL checks the key); do it once.
    return serialization.load_pem_private_key(_test_key()[0], password=None)


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
    jwk = _test_key()[1]
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
    signing_key = key if key is not None else _test_signing_key()
    return jwt.encode(payload, signing_key, algorithm=algorithm, headers=header)


def user_token(user_id: uuid.UUID | str | None = None, **kwargs) -> str:
    return mint(sub=str(user_id or uuid.uuid4()), **kwargs)


def service_token_for(caller: str, audience: str, **kwargs) -> str:
    return mint(sub=f"service:{caller}", token_type="service", audience=audience, **kwargs)


def clear_cache() -> None:
    """Empty the test cache without touching keys that belong to anyone else on a shared Redis."""
    from django.core.cache import caches
    from django.core.cache.backends.redis import RedisCache

    # The backend itself: `django.core.cache.cache` is a proxy, never an instance of RedisCache,
    # and RedisCache.clear() is a FLUSHDB of the whole shared database.
    cache = caches["default"]
    if isinstance(cache, RedisCache):
        client = cache._cache.get_client(write=True)
        keys = list(client.scan_iter(match=f"*{cache.key_prefix}*", count=1000))
        if keys:
            client.delete(*keys)
    else:
        cache.clear()


def settings_for_tests(service: str, *, database_name: str | None = None) -> dict:
    """Settings for a service's own test suite: PostgreSQL and Redis when the environment says so.

    `database_name` names the PostgreSQL database (Django's test database is `test_<name>`);
    it defaults to `oasis_<service>`. The cache is always the suite's own, never the Redis of
    `REDIS_URL`: `clear_cache` would otherwise empty a development server's keys.
    """
    overrides: dict = {
        "PASSWORD_HASHERS": ["django.contrib.auth.hashers.MD5PasswordHasher"],
        "EMAIL_BACKEND": "django.core.mail.backends.locmem.EmailBackend",
    }
    database_url = env.get_str("OASIS_TEST_DATABASE_URL")
    if database_url:
        import dj_database_url

        config = dj_database_url.parse(database_url)
        config["NAME"] = database_name or f"oasis_{service}"
        overrides["DATABASES"] = {"default": config}
    key_prefix = f"oasis-test-{uuid.uuid4().hex[:12]}:{service}"
    redis_url = env.get_str("OASIS_TEST_REDIS_URL")
    if redis_url:
        overrides["CACHES"] = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": redis_url,
                "KEY_PREFIX": key_prefix,
            }
        }
    else:
        overrides["CACHES"] = {
            "default": {
                "BACKEND": "django.core.cache.backends.db.DatabaseCache",
                "LOCATION": "oasis_cache",
                "KEY_PREFIX": key_prefix,
            }
        }
    return overrides


def run_concurrently(count: int, action, *, timeout: float = 60, raise_errors: bool = False) -> list:
    """Run `action(index)` on `count` threads released together; return each result or exception.

    With `raise_errors`, the first exception a thread hit is raised instead. Each thread
    closes its database connections, so the test database can be dropped.
    """
    import threading

    from django.db import connections

    barrier = threading.Barrier(count)
    results: list = [None] * count

    def worker(index: int) -> None:
        try:
            barrier.wait(timeout=timeout)
            results[index] = action(index)
        except Exception as exc:
            results[index] = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=timeout * 2)
    assert not any(thread.is_alive() for thread in threads), "a worker thread hung"
    if raise_errors:
        for result in results:
            if isinstance(result, Exception):
                raise result
    return results


def committed_schema() -> str:
    """The service's committed openapi.yaml."""
    from pathlib import Path

    return (Path(settings.BASE_DIR) / "openapi.yaml").read_text()


def generated_schema(folder) -> str:
    """What drf-spectacular generates from the code now, validated, warnings failing."""
    from pathlib import Path

    from django.core.management import call_command

    generated = Path(folder) / "openapi.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(generated))
    return generated.read_text()
