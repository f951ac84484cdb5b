"""oasis_common.env: typed environment accessors, database and cache configuration, secrets."""

import stat
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from oasis_common import env


@pytest.fixture
def environ(monkeypatch):
    """Set variables for one test; everything the module reads starts unset."""
    for name in ("OASIS_ENVIRONMENT", "DATABASE_URL", "REDIS_URL", "OASIS_CACHE_KEY_PREFIX", "OASIS_SECRET"):
        monkeypatch.delenv(name, raising=False)
    for name in ("OASIS_DB_CONN_MAX_AGE", "OASIS_DB_POOL_SIZE", "OASIS_DB_POOL_TIMEOUT_SECONDS"):
        monkeypatch.delenv(name, raising=False)

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("value", "value"), ("  padded  ", "padded"), ("", "fallback"), ("   ", "fallback")],
)
def test_strings_are_trimmed_and_blank_means_default(environ, raw, expected):
    environ(OASIS_TEXT=raw)
    assert env.get_str("OASIS_TEXT", "fallback") == expected


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("1", True),
        ("true", True),
        ("YES", True),
        (" on ", True),
        ("0", False),
        ("false", False),
        ("No", False),
        ("off", False),
        ("", False),
    ],
)
def test_booleans_are_read_from_common_words(environ, raw, expected):
    environ(OASIS_FLAG=raw)
    assert env.get_bool("OASIS_FLAG", default=not expected) is expected


@pytest.mark.parametrize("default", [True, False])
def test_an_unset_boolean_takes_its_default(monkeypatch, default):
    monkeypatch.delenv("OASIS_FLAG", raising=False)
    assert env.get_bool("OASIS_FLAG", default) is default


@pytest.mark.parametrize(
    ("reader", "raw", "default", "expected"),
    [
        (env.get_int, "42", 0, 42),
        (env.get_int, " 7 ", 0, 7),
        (env.get_int, "-3", 0, -3),
        (env.get_int, "", 5, 5),
        (env.get_float, "2.5", 0.0, 2.5),
        (env.get_float, "3", 0.0, 3.0),
        (env.get_float, "  ", 1.5, 1.5),
    ],
)
def test_numbers_are_parsed_and_blank_means_default(environ, reader, raw, default, expected):
    environ(OASIS_NUMBER=raw)
    assert reader("OASIS_NUMBER", default) == expected


@pytest.mark.parametrize(
    ("reader", "raw", "words"),
    [
        (env.get_bool, "maybe", "must be a boolean"),
        (env.get_int, "4.2", "must be an integer"),
        (env.get_int, "ten", "must be an integer"),
        (env.get_float, "fast", "must be a number"),
    ],
)
def test_a_malformed_value_is_refused_naming_the_variable(environ, reader, raw, words):
    environ(OASIS_VALUE=raw)
    with pytest.raises(ImproperlyConfigured, match=words) as caught:
        reader("OASIS_VALUE", 0)
    assert "OASIS_VALUE" in str(caught.value)
    assert repr(raw) in str(caught.value)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("a,b,c", ["a", "b", "c"]),
        (" a , b ,, c ,", ["a", "b", "c"]),
        ("", []),
        ("single", ["single"]),
    ],
)
def test_lists_are_comma_separated_and_trimmed(environ, raw, expected):
    environ(OASIS_LIST=raw)
    assert env.get_list("OASIS_LIST", ["default"]) == expected


def test_an_unset_list_is_a_copy_of_its_default(monkeypatch):
    monkeypatch.delenv("OASIS_LIST", raising=False)
    default = ["x"]
    value = env.get_list("OASIS_LIST", default)
    value.append("y")
    assert default == ["x"]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("payments=s3cret,builder=other", {"payments": "s3cret", "builder": "other"}),
        (" payments = s3cret ", {"payments": "s3cret"}),
        ("token=a=b", {"token": "a=b"}),
        ("", {}),
    ],
)
def test_mappings_are_name_value_pairs(environ, raw, expected):
    environ(OASIS_MAPPING=raw)
    assert env.get_mapping("OASIS_MAPPING") == expected


@pytest.mark.parametrize("raw", ["payments", "=s3cret", "payments=", "a=1,broken"])
def test_a_malformed_mapping_is_refused(environ, raw):
    environ(OASIS_MAPPING=raw)
    with pytest.raises(ImproperlyConfigured, match="OASIS_MAPPING must look like"):
        env.get_mapping("OASIS_MAPPING")


@pytest.mark.parametrize(
    ("raw", "expected"), [("", "development"), ("test", "test"), ("Production", "production")]
)
def test_the_environment_defaults_to_development(environ, raw, expected):
    environ(OASIS_ENVIRONMENT=raw)
    assert env.environment() == expected


def test_an_unknown_environment_is_refused(environ):
    environ(OASIS_ENVIRONMENT="staging")
    with pytest.raises(ImproperlyConfigured, match="OASIS_ENVIRONMENT"):
        env.environment()


def test_the_var_dir_defaults_to_var_under_the_repo(monkeypatch, tmp_path):
    monkeypatch.delenv("OASIS_VAR_DIR", raising=False)
    assert env.var_dir(tmp_path) == tmp_path / "var"
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path / "elsewhere"))
    assert env.var_dir(tmp_path) == tmp_path / "elsewhere"


def test_without_database_url_a_service_gets_its_own_sqlite_file(environ, tmp_path):
    path = tmp_path / "projects" / "db.sqlite3"
    config = env.database_config("DATABASE_URL", sqlite_path=path)
    assert config["ENGINE"] == "django.db.backends.sqlite3"
    assert config["NAME"] == str(path)
    assert path.parent.is_dir()
    # WAL, a busy timeout and immediate transactions let worker processes share the file.
    assert config["OPTIONS"]["timeout"] == 20
    assert config["OPTIONS"]["transaction_mode"] == "IMMEDIATE"
    assert "journal_mode=WAL" in config["OPTIONS"]["init_command"]
    assert config["CONN_MAX_AGE"] == 0


def test_production_refuses_to_start_without_database_url(environ, tmp_path):
    environ(OASIS_ENVIRONMENT="production")
    with pytest.raises(ImproperlyConfigured, match="DATABASE_URL must be set in production"):
        env.database_config("DATABASE_URL", sqlite_path=tmp_path / "db.sqlite3")
    assert not (tmp_path / "db.sqlite3").exists()


def test_a_postgres_url_is_parsed_with_a_bounded_pool_of_checked_connections(environ, tmp_path):
    environ(DATABASE_URL="postgres://oasis:pa%40ss@db.internal:6543/projects", OASIS_DB_POOL_SIZE="4")
    config = env.database_config("DATABASE_URL", sqlite_path=tmp_path / "sqlite" / "db.sqlite3")
    assert config["ENGINE"] == "oasis_common.postgresql"  # Django's, checking pooled connections our way
    assert (config["HOST"], config["PORT"], config["NAME"]) == ("db.internal", 6543, "projects")
    assert (config["USER"], config["PASSWORD"]) == ("oasis", "pa@ss")
    # Django refuses a pool with persistent connections; the pool keeps them instead.
    assert config["CONN_MAX_AGE"] == 0
    assert config["OPTIONS"]["pool"] == {"min_size": 1, "max_size": 4, "timeout": 10.0, "max_idle": 300}
    assert config["CONN_HEALTH_CHECKS"] is True
    assert not (tmp_path / "sqlite").exists()


def test_the_pool_is_ten_by_default_and_zero_keeps_a_connection_per_thread_instead(environ, tmp_path):
    environ(DATABASE_URL="postgres://oasis@db.internal/projects", OASIS_DB_POOL_TIMEOUT_SECONDS="2.5")
    pooled = env.database_config("DATABASE_URL", sqlite_path=tmp_path / "db.sqlite3")
    assert pooled["OPTIONS"]["pool"]["max_size"] == 10
    assert pooled["OPTIONS"]["pool"]["timeout"] == 2.5

    environ(
        DATABASE_URL="postgres://oasis@db.internal/projects",
        OASIS_DB_POOL_SIZE="0",
        OASIS_DB_CONN_MAX_AGE="120",
    )
    unpooled = env.database_config("DATABASE_URL", sqlite_path=tmp_path / "db.sqlite3")
    assert "pool" not in unpooled.get("OPTIONS", {})
    assert unpooled["ENGINE"] == "django.db.backends.postgresql"
    assert unpooled["CONN_MAX_AGE"] == 120
    assert unpooled["CONN_HEALTH_CHECKS"] is True


def test_another_variable_can_name_the_database(environ, tmp_path):
    environ(OASIS_ANALYTICS_DATABASE_URL="postgres://u@db/analytics")
    config = env.database_config("OASIS_ANALYTICS_DATABASE_URL", sqlite_path=tmp_path / "db.sqlite3")
    assert config["NAME"] == "analytics"


@pytest.mark.parametrize("url", ["redis://cache:6379/1", "rediss://cache:6380/0", "unix:///run/redis.sock"])
def test_redis_url_selects_the_redis_cache(environ, url):
    environ(REDIS_URL=url)
    config = env.cache_config(service="payments")
    assert config["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert config["LOCATION"] == url
    assert config["KEY_PREFIX"] == "oasis:payments"
    assert config["OPTIONS"]["socket_timeout"] > 0


def test_without_redis_the_database_cache_is_shared_by_all_workers(environ):
    config = env.cache_config(service="builder")
    assert config["BACKEND"] == "django.core.cache.backends.db.DatabaseCache"
    assert config["KEY_PREFIX"] == "oasis:builder"


@pytest.mark.parametrize(
    ("argument", "variable", "expected"),
    [("", "", "oasis:auth"), ("", "staging", "staging:auth"), ("blue", "staging", "blue:auth")],
)
def test_the_cache_key_prefix_always_ends_with_the_service(environ, argument, variable, expected):
    environ(OASIS_CACHE_KEY_PREFIX=variable)
    assert env.cache_config(service="auth", key_prefix=argument)["KEY_PREFIX"] == expected


@pytest.mark.parametrize("url", ["memcached://cache:11211", "http://cache:6379"])
def test_a_non_redis_cache_url_is_refused(environ, url):
    environ(REDIS_URL=url)
    with pytest.raises(ImproperlyConfigured, match="REDIS_URL must be a redis:// URL"):
        env.cache_config(service="auth")


def test_a_development_secret_is_generated_once_and_kept(tmp_path):
    path = tmp_path / "secrets" / "projects-django-secret-key"
    first = env.dev_secret_file(path)
    assert len(first) >= 40
    assert env.dev_secret_file(path) == first
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_a_secret_another_process_is_still_writing_is_awaited(tmp_path, monkeypatch):
    path = tmp_path / "secret"
    path.write_text("")

    def other_process_finishes(seconds):
        path.write_text("written-by-the-other-process\n")

    monkeypatch.setattr(time, "sleep", other_process_finishes)
    assert env.dev_secret_file(path) == "written-by-the-other-process"


def test_a_secret_file_left_empty_is_refused(tmp_path, monkeypatch):
    path = tmp_path / "secret"
    path.write_text("")
    monkeypatch.setattr(time, "sleep", lambda seconds: None)
    with pytest.raises(ImproperlyConfigured, match="is empty"):
        env.dev_secret_file(path)


def test_a_secret_from_the_environment_wins_over_the_file(environ, tmp_path):
    environ(OASIS_SECRET="from-the-environment")
    assert env.get_secret("OASIS_SECRET", dev_file=tmp_path / "secret") == "from-the-environment"
    assert not (tmp_path / "secret").exists()


def test_in_development_a_missing_secret_is_generated_into_its_file(environ, tmp_path):
    path = tmp_path / "secret"
    value = env.get_secret("OASIS_SECRET", dev_file=path)
    assert path.read_text().strip() == value
    assert env.get_secret("OASIS_SECRET", dev_file=path) == value


def test_production_refuses_to_start_without_a_secret(environ, tmp_path):
    environ(OASIS_ENVIRONMENT="production")
    with pytest.raises(ImproperlyConfigured, match="OASIS_SECRET must be set in production"):
        env.get_secret("OASIS_SECRET", dev_file=tmp_path / "secret")
    assert not Path(tmp_path / "secret").exists()


def test_a_secret_without_a_development_file_must_be_set(environ):
    with pytest.raises(ImproperlyConfigured, match="OASIS_SECRET must be set"):
        env.get_secret("OASIS_SECRET", dev_file=None)


def test_any_variable_may_be_given_as_a_file_as_secrets_are_mounted(tmp_path, monkeypatch):
    secret = tmp_path / "django-secret-key"
    secret.write_text("s3cret value\n")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(secret))
    monkeypatch.delenv("DJANGO_SECRET_KEY", raising=False)
    monkeypatch.setenv("OASIS_HTTP_RETRIES_FILE", str(tmp_path / "retries"))
    (tmp_path / "retries").write_text("4\n")

    assert env.get_str("DJANGO_SECRET_KEY") == "s3cret value"
    assert env.get_secret("DJANGO_SECRET_KEY", dev_file=None) == "s3cret value"
    assert env.get_int("OASIS_HTTP_RETRIES", 2) == 4


def test_a_variable_given_both_ways_or_an_unreadable_file_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("DJANGO_SECRET_KEY", "inline")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(tmp_path / "key"))
    (tmp_path / "key").write_text("from a file")
    with pytest.raises(
        ImproperlyConfigured, match="Set DJANGO_SECRET_KEY or DJANGO_SECRET_KEY_FILE, not both"
    ):
        env.get_str("DJANGO_SECRET_KEY")

    monkeypatch.delenv("DJANGO_SECRET_KEY")
    monkeypatch.setenv("DJANGO_SECRET_KEY_FILE", str(tmp_path / "missing"))
    with pytest.raises(
        ImproperlyConfigured, match=r"DJANGO_SECRET_KEY_FILE names .*missing, which cannot be read"
    ):
        env.get_str("DJANGO_SECRET_KEY")


def test_a_variable_whose_file_form_is_its_own_setting_keeps_both(tmp_path, monkeypatch):
    monkeypatch.setenv("OASIS_JWT_SIGNING_KEY_FILE", str(tmp_path / "signing.pem"))
    monkeypatch.delenv("OASIS_JWT_SIGNING_KEY", raising=False)

    assert env.get_str("OASIS_JWT_SIGNING_KEY") == ""
    assert env.get_str("OASIS_JWT_SIGNING_KEY_FILE") == str(tmp_path / "signing.pem")
