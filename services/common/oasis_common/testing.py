"""Helpers for service test suites: a throwaway signing key, tokens minted with it, test settings,
the error envelope's strict check and the schema drift checks."""

from __future__ import annotations

import threading
import time
import uuid
from functools import cache

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings

from oasis_common import env
from oasis_common.conf import oasis_settings
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


# Ours, emptying tables between transactional tests with DELETE (`postgresql_for_tests`).
TEST_POSTGRES_ENGINE = "oasis_common.postgresql_for_tests"

ENVELOPE_FIELDS = {"code", "message", "details", "request_id"}


def error_of(response, status: int, code: str | None = None) -> dict:
    """Assert the response is an error in the platform envelope and return its `error` member.

    Strict: exactly the envelope's fields, a message a person can read, details as an object, and
    the request id the response was answered under.
    """
    assert response.status_code == status, response.content
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert set(error) == ENVELOPE_FIELDS, error
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], dict)
    assert error["request_id"] == response["X-Request-ID"]
    if code is not None:
        assert error["code"] == code, error
    return error


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
    payload = {
        "iss": oasis_settings.JWT_ISSUER,
        "aud": audience or oasis_settings.JWT_AUDIENCE,
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


def last_character_changed(text: str) -> str:
    """The text with its last character replaced by a different one: a forged credential that is
    never, by chance, the real one."""
    return text[:-1] + ("A" if text[-1] != "A" else "B")


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
        # A test database is thrown away: a commit need not wait for its log to reach the disk,
        # which makes every commit, and each flush between transactional tests, much cheaper.
        config.setdefault("OPTIONS", {})["options"] = "-c synchronous_commit=off"
        config = env.postgres_pooled(config)
        config["ENGINE"] = TEST_POSTGRES_ENGINE
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


def committed_schema(*, internal: bool = False) -> str:
    """The service's committed openapi.yaml (public), or openapi-internal.yaml."""
    from pathlib import Path

    from oasis_common.schema import INTERNAL_SCHEMA_FILE, PUBLIC_SCHEMA_FILE

    return (Path(settings.BASE_DIR) / (INTERNAL_SCHEMA_FILE if internal else PUBLIC_SCHEMA_FILE)).read_text()


def generated_schema(folder, *, internal: bool = False) -> str:
    """What drf-spectacular generates from the code now, validated, warnings failing: as `make openapi`."""
    from pathlib import Path

    from django.core.management import call_command

    from oasis_common.schema import INTERNAL_SCHEMA_FILE, PUBLIC_SCHEMA_FILE

    generated = Path(folder) / (INTERNAL_SCHEMA_FILE if internal else PUBLIC_SCHEMA_FILE)
    options = ["--custom-settings", "oasis_common.schema.INTERNAL_API"] if internal else []
    call_command("spectacular", "--validate", "--fail-on-warn", *options, "--file", str(generated))
    return generated.read_text()


def internal_routes() -> set[str]:
    """Every route of the service's URLconf under /internal/ served by an API view, in OpenAPI form.

    Read from the URLconf itself rather than from drf-spectacular, so a route the schema
    generation leaves out is noticed. Plain Django views (the gateway's token check) are not
    API views and have no OpenAPI description to check.
    """
    from django.urls import URLPattern, URLResolver, get_resolver
    from drf_spectacular.generators import EndpointEnumerator

    from oasis_common.schema import INTERNAL_PREFIX

    enumerator = EndpointEnumerator()
    routes = set()

    def walk(patterns, prefix: str) -> None:
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                walk(pattern.url_patterns, prefix + str(pattern.pattern))
            elif isinstance(pattern, URLPattern) and getattr(pattern.callback, "cls", None) is not None:
                path = enumerator.get_path_from_regex(prefix + str(pattern.pattern))
                if path.startswith(INTERNAL_PREFIX):
                    routes.add(path)

    walk(get_resolver().url_patterns, "/")
    return routes


def documented_paths(schema_text: str) -> set[str]:
    """The paths a YAML OpenAPI document describes."""
    import yaml

    return set(yaml.safe_load(schema_text)["paths"] or {})


def list_operations(schema_text: str) -> dict[str, dict]:
    """The GET operations of a YAML OpenAPI document that answer a list, or a page of one, by path."""
    import yaml

    document = yaml.safe_load(schema_text)
    components = document.get("components", {}).get("schemas", {})

    def resolve(schema: dict) -> dict:
        ref = schema.get("$ref", "")
        return components[ref.rsplit("/", 1)[-1]] if ref else schema

    lists = {}
    for path, item in (document["paths"] or {}).items():
        operation = item.get("get")
        ok = (operation or {}).get("responses", {}).get("200", {})
        schema = resolve(ok.get("content", {}).get("application/json", {}).get("schema", {}))
        results = schema.get("properties", {}).get("results", {})
        if schema.get("type") == "array" or results.get("type") == "array":
            lists[path] = operation
    return lists


def ordering_parameter(operation: dict) -> dict | None:
    """The `ordering` query parameter of an OpenAPI operation, if it documents one."""
    return next(
        (p for p in operation.get("parameters", []) if p["in"] == "query" and p["name"] == "ordering"), None
    )


def lists_without_orderings(schema_text: str) -> list[str]:
    """Lists in a YAML OpenAPI document that do not say which `?ordering=` they accept, or their 400."""
    missing = []
    for path, operation in list_operations(schema_text).items():
        schema = (ordering_parameter(operation) or {}).get("schema", {})
        choices = schema.get("enum", [])
        documented = bool(choices) and schema.get("default", choices[0]) in choices
        if not documented or "400" not in operation["responses"]:
            missing.append(path)
    return missing


class SchemaChecks:
    """The checks every service runs on its committed schemas: a service's test_openapi.py subclasses
    this as `TestSchemas`, naming one serializer whose change must fail the drift check."""

    changed_serializer = None  # a serializer of the public (or, with `changed_internal`, internal) schema
    changed_internal = False
    public_prefix = "/api/"

    def test_the_committed_schema_matches_the_code(self, tmp_path):
        assert generated_schema(tmp_path) == committed_schema(), "openapi.yaml is stale: run `make openapi`"

    def test_the_committed_internal_schema_matches_the_code(self, tmp_path):
        assert generated_schema(tmp_path, internal=True) == committed_schema(internal=True), (
            "openapi-internal.yaml is stale: run `make openapi`"
        )

    def test_the_public_schema_is_the_public_api_only(self):
        assert all(path.startswith(self.public_prefix) for path in documented_paths(committed_schema()))

    def test_every_internal_route_is_in_the_internal_schema_and_nothing_else_is(self):
        documented = documented_paths(committed_schema(internal=True))

        assert internal_routes() <= documented
        assert all(path.startswith("/internal/") for path in documented)

    def test_every_list_documents_the_orderings_it_accepts(self):
        assert list_operations(committed_schema())
        assert lists_without_orderings(committed_schema()) == []

    def test_an_undocumented_change_fails_the_check(self, tmp_path, monkeypatch):
        from rest_framework import serializers

        fields = self.changed_serializer._declared_fields
        monkeypatch.setitem(fields, "undocumented", serializers.CharField())

        generated = generated_schema(tmp_path, internal=self.changed_internal)

        assert generated != committed_schema(internal=self.changed_internal)
        assert "undocumented" in generated
        if self.changed_internal:
            assert generated_schema(tmp_path) == committed_schema()
