"""oasis_common.testing: the helpers every service's test suite uses."""

import os
import threading
import time

import jwt
import pytest
from django.contrib.auth.models import Group, User
from django.core.cache import cache
from django.core.management.color import no_style
from django.db import DatabaseError, connection, transaction

from oasis_common import testing
from oasis_common.testing import clear_cache, mint, service_token_for, settings_for_tests, user_token
from tests.testapp.models import Widget


@pytest.fixture
def environ(monkeypatch):
    for name in ("OASIS_TEST_DATABASE_URL", "OASIS_TEST_REDIS_URL", "REDIS_URL"):
        monkeypatch.delenv(name, raising=False)

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


@pytest.mark.parametrize(
    ("database_name", "expected"), [(None, "oasis_payments"), ("oasis_common_lib", "oasis_common_lib")]
)
def test_the_test_database_is_named_per_suite(environ, database_name, expected):
    environ(OASIS_TEST_DATABASE_URL="postgres://postgres@db:5432/postgres")
    database = settings_for_tests("payments", database_name=database_name)["DATABASES"]["default"]
    assert database["ENGINE"] == "oasis_common.postgresql_for_tests"
    assert (database["HOST"], database["NAME"]) == ("db", expected)


def test_without_a_test_database_url_the_service_default_stays(environ):
    assert "DATABASES" not in settings_for_tests("payments")


def test_the_test_cache_is_redis_with_a_private_prefix_when_asked(environ):
    environ(OASIS_TEST_REDIS_URL="redis://cache:6379/0")
    first = settings_for_tests("auth")["CACHES"]["default"]
    second = settings_for_tests("auth")["CACHES"]["default"]
    assert first["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert first["KEY_PREFIX"] != second["KEY_PREFIX"]
    assert first["KEY_PREFIX"].endswith(":auth")


def test_the_test_cache_is_never_the_development_redis(environ):
    environ(REDIS_URL="redis://developer-laptop:6379/0")
    assert settings_for_tests("auth")["CACHES"]["default"]["BACKEND"] == (
        "django.core.cache.backends.db.DatabaseCache"
    )


def test_minted_tokens_carry_the_claims_auth_would_issue(settings):
    claims = jwt.decode(user_token("u-1"), options={"verify_signature": False})
    assert claims["iss"] == settings.OASIS["JWT_ISSUER"]
    assert claims["aud"] == settings.OASIS["JWT_AUDIENCE"]
    assert claims["exp"] - claims["iat"] == 300
    assert (claims["sub"], claims["token_type"]) == ("u-1", "access")
    service = jwt.decode(service_token_for("builder", "payments"), options={"verify_signature": False})
    assert (service["sub"], service["aud"], service["token_type"]) == (
        "service:builder",
        "payments",
        "service",
    )


def test_a_minted_token_verifies_against_the_test_jwks():
    (jwk,) = testing.jwks_for_tests()["keys"]
    token = mint(sub="u-1")
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"], audience="oasis-api")["sub"] == "u-1"


def test_clear_cache_empties_the_test_cache(db):
    cache.set("lockout:ada", 3)
    clear_cache()
    assert cache.get("lockout:ada") is None


@pytest.mark.skipif(not os.environ.get("OASIS_TEST_REDIS_URL"), reason="needs OASIS_TEST_REDIS_URL")
def test_clear_cache_leaves_other_keys_on_a_shared_redis_alone(db):
    redis = cache._cache.get_client(write=True)
    redis.set("someone-elses:key", "keep")
    try:
        cache.set("lockout:ada", 3)
        clear_cache()
        assert cache.get("lockout:ada") is None
        assert redis.get("someone-elses:key") == b"keep"
    finally:
        redis.delete("someone-elses:key")


def test_internal_routes_are_read_from_the_urlconf():
    assert testing.internal_routes() == {"/internal/v1/testapp/whoami/", "/internal/v1/testapp/widgets/"}


LISTS_DOCUMENT = """
paths:
  /api/v1/pages/:
    get:
      parameters:
      - {name: ordering, in: query, schema: {type: string, enum: [name, -name], default: -name}}
      responses:
        '200': {content: {application/json: {schema: {$ref: '#/components/schemas/PaginatedPageList'}}}}
        '400': {description: refused}
  /api/v1/plain/:
    get:
      responses:
        '200': {content: {application/json: {schema: {type: array, items: {type: string}}}}}
  /api/v1/one/:
    get:
      responses:
        '200': {content: {application/json: {schema: {type: object}}}}
components:
  schemas:
    PaginatedPageList:
      type: object
      properties:
        results: {type: array, items: {type: string}}
"""


def test_lists_are_found_as_arrays_or_pages_and_those_without_orderings_named():
    assert set(testing.list_operations(LISTS_DOCUMENT)) == {"/api/v1/pages/", "/api/v1/plain/"}
    assert testing.lists_without_orderings(LISTS_DOCUMENT) == ["/api/v1/plain/"]


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_between_tests_postgresql_empties_tables_with_delete_in_any_order(transactional_db):
    group = Group.objects.create(name="editors")
    user = User.objects.create(username="ada")
    user.groups.add(group)  # a row that points at both, flushed after or before them
    tables = sorted(connection.introspection.django_table_names(only_existing=True, include_views=False))
    assert tables.index("auth_group") < tables.index("auth_user_groups")  # a parent's rows go first

    statements = connection.ops.sql_flush(no_style(), tables)
    assert statements[0].startswith("LOCK TABLE ")
    assert {statement.split('"')[0] for statement in statements[1:]} == {"DELETE FROM "}
    assert not any('"django_content_type"' in statement for statement in statements)  # written back as was

    connection.ops.execute_sql_flush(statements)
    assert not User.objects.exists()
    assert not Group.objects.exists()
    assert not User.groups.through.objects.exists()


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_postgresql_empties_tables_after_a_write_still_open_when_it_began(transactional_db):
    group = Group.objects.create(name="editors")
    user = User.objects.create(username="ada")
    writing, failures = threading.Event(), []

    def write():
        # A test's leftover thread: it locks a parent row and adds a child row, then commits. Were
        # the flush to empty the child table first and then wait on the parent row, its own commit
        # would find the child row and fail.
        try:
            with transaction.atomic():
                Group.objects.filter(pk=group.pk).update(name="authors")
                user.groups.add(group)
                writing.set()
                time.sleep(0.3)
        except DatabaseError as exc:  # what waited for the flush finds its rows gone
            failures.append(exc)
        finally:
            writing.set()
            connection.close()

    writer = threading.Thread(target=write)
    writer.start()
    assert writing.wait(5)
    order = [User.groups.through._meta.db_table, Group._meta.db_table, User._meta.db_table]

    connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), order))
    writer.join(5)

    assert not User.groups.through.objects.exists()
    assert not Group.objects.exists()
    assert failures == []  # it committed before the flush began


@pytest.mark.skipif(connection.vendor != "postgresql", reason="needs PostgreSQL")
def test_a_table_whose_trigger_refuses_delete_is_emptied_and_keeps_refusing(transactional_db):
    table = Widget._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION refuse() RETURNS trigger AS $$ BEGIN RAISE EXCEPTION 'refused'; END; $$ "
            f"LANGUAGE plpgsql; CREATE TRIGGER refuse BEFORE DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION refuse()"
        )
    try:
        Widget.objects.create(owner="ada", name="kept", quantity=1)
        connection.ops.execute_sql_flush(connection.ops.sql_flush(no_style(), [table]))
        assert not Widget.objects.exists()

        Widget.objects.create(owner="ada", name="kept", quantity=1)
        with pytest.raises(DatabaseError, match="refused"), transaction.atomic():
            Widget.objects.all().delete()
    finally:
        with connection.cursor() as cursor:
            cursor.execute(f"DROP TRIGGER refuse ON {table}; DROP FUNCTION refuse()")
