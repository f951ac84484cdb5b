"""The one module that reads the environment: typed accessors with development defaults.

Any variable may instead be given as a file, `NAME_FILE=/run/secrets/name` (as compose and
Kubernetes mount secrets), so secrets need not sit in the environment `docker inspect` shows;
the file's content, without its trailing newline, is the value. Setting both is refused.
"""

from __future__ import annotations

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

import dj_database_url
from django.core.exceptions import ImproperlyConfigured

TRUE_WORDS = {"1", "true", "yes", "on"}
FALSE_WORDS = {"0", "false", "no", "off", ""}
ENVIRONMENTS = {"development", "test", "production"}
# Variables whose `NAME_FILE` is a setting of its own (a path the service reads itself).
OWN_FILE_SETTINGS = frozenset({"OASIS_JWT_SIGNING_KEY", "OASIS_MODELS", "OASIS_JWKS"})


def _raw(name: str) -> str | None:
    """The variable as given, from `NAME` or from the file `NAME_FILE` names; None when neither is set."""
    value = os.environ.get(name)
    path = None if name in OWN_FILE_SETTINGS else os.environ.get(f"{name}_FILE", "").strip()
    if not path:
        return value
    if value is not None and value.strip():
        raise ImproperlyConfigured(f"Set {name} or {name}_FILE, not both")
    try:
        return Path(path).read_text().rstrip("\r\n")
    except OSError as exc:
        raise ImproperlyConfigured(f"{name}_FILE names {path}, which cannot be read: {exc.strerror}") from exc


def get_str(name: str, default: str = "") -> str:
    """The trimmed value; unset or blank (`NAME=` in a compose file) means the default."""
    return (_raw(name) or "").strip() or default


def get_bool(name: str, default: bool = False) -> bool:
    raw = _raw(name)
    if raw is None:
        return default
    word = raw.strip().lower()
    if word in TRUE_WORDS:
        return True
    if word in FALSE_WORDS:
        return False
    raise ImproperlyConfigured(f"{name} must be a boolean (1/0, true/false), not {raw!r}")


def get_int(name: str, default: int) -> int:
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    try:
        return int(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from exc


def get_float(name: str, default: float) -> float:
    raw = _raw(name)
    if raw is None or not raw.strip():
        return default
    try:
        return float(raw)
    except ValueError as exc:
        raise ImproperlyConfigured(f"{name} must be a number, not {raw!r}") from exc


def get_list(name: str, default: list[str] | None = None) -> list[str]:
    raw = _raw(name)
    if raw is None:
        return list(default or [])
    return [item.strip() for item in raw.split(",") if item.strip()]


def get_mapping(name: str) -> dict[str, str]:
    """Parse `key=value,key=value` (values may not contain commas)."""
    mapping = {}
    for item in get_list(name):
        key, sep, value = item.partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ImproperlyConfigured(f"{name} must look like 'name=value,name=value'")
        mapping[key.strip()] = value.strip()
    return mapping


def environment() -> str:
    """`development` (the default), `test` or `production`."""
    name = get_str("OASIS_ENVIRONMENT", "development").lower()
    if name not in ENVIRONMENTS:
        raise ImproperlyConfigured(f"OASIS_ENVIRONMENT must be one of {sorted(ENVIRONMENTS)}, not {name!r}")
    return name


def is_production() -> bool:
    return environment() == "production"


def var_dir(repo_root: Path) -> Path:
    """Where development state lives (databases, generated keys): git-ignored `var/`."""
    return Path(get_str("OASIS_VAR_DIR") or repo_root / "var")


def dev_secret_file(path: Path, *, nbytes: int = 32) -> str:
    """Read a generated development secret, creating it on first use.

    Creation is exclusive, so concurrent processes agree on one value.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        for _ in range(50):
            value = path.read_text().strip()
            if value:
                return value
            # Another process created the file and is about to write it.
            import time

            time.sleep(0.01)
        raise ImproperlyConfigured(f"Development secret {path} is empty") from None
    value = secrets.token_urlsafe(nbytes)
    with os.fdopen(fd, "w") as handle:
        handle.write(value + "\n")
    return value


def get_secret(name: str, *, dev_file: Path | None) -> str:
    """A secret from the environment; in development, generated into `dev_file` on first use.

    Production refuses to start without it.
    """
    value = get_str(name)
    if value:
        return value
    if is_production() or dev_file is None:
        raise ImproperlyConfigured(f"{name} must be set in production")
    return dev_secret_file(dev_file)


def database_config(name: str, *, sqlite_path: Path) -> dict:
    """`DATABASE_URL` (or the named variable), else a SQLite file for this service."""
    url = get_str(name)
    if not url:
        if is_production():
            raise ImproperlyConfigured(f"{name} must be set in production")
        sqlite_path.parent.mkdir(parents=True, exist_ok=True)
        url = f"sqlite:///{sqlite_path}"
    config = dj_database_url.parse(url, conn_max_age=get_int("OASIS_DB_CONN_MAX_AGE", 60))
    if config["ENGINE"] == "django.db.backends.sqlite3":
        # WAL and a busy timeout let several worker processes share one file safely.
        config["CONN_MAX_AGE"] = 0
        config["OPTIONS"] = {
            "timeout": 20,
            "transaction_mode": "IMMEDIATE",
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
        return config
    return postgres_pooled(config)


POOLED_POSTGRES_ENGINE = "oasis_common.postgresql"


def postgres_pooled(config: dict) -> dict:
    """A PostgreSQL database's settings with each process's connections in a pool (Django's, psycopg's).

    A request or a run's step takes a connection from the pool and gives it back, instead of
    opening one (a server process, seconds of CPU under load) and closing it: ASGI requests and
    a worker's many runs would otherwise connect anew each time. OASIS_DB_POOL_SIZE bounds the
    connections one process opens, so the server's total is the processes times that;
    0 turns the pool off (each thread keeps a connection for OASIS_DB_CONN_MAX_AGE seconds).
    Every connection is checked as it is taken, so one the server dropped is replaced unseen
    (`db_pool.check_pooled_connection`, through the backend `oasis_common.postgresql`).
    """
    config["CONN_HEALTH_CHECKS"] = True
    size = get_int("OASIS_DB_POOL_SIZE", 10)
    if size > 0:
        config["ENGINE"] = POOLED_POSTGRES_ENGINE
        config["CONN_MAX_AGE"] = 0
        config.setdefault("OPTIONS", {})["pool"] = {
            "min_size": 1,
            "max_size": size,
            # Waiting longer than this for a free connection fails the request (a 503) instead.
            "timeout": get_float("OASIS_DB_POOL_TIMEOUT_SECONDS", 10),
            # Idle connections beyond min_size are closed after this long.
            "max_idle": 300,
        }
    return config


def cache_config(*, service: str, key_prefix: str = "") -> dict:
    """Redis when `REDIS_URL` is set, else the database cache: shared by every worker process."""
    url = get_str("REDIS_URL")
    prefix = key_prefix or get_str("OASIS_CACHE_KEY_PREFIX")
    prefix = f"{prefix}:{service}" if prefix else f"oasis:{service}"
    if url:
        scheme = urlsplit(url).scheme
        if scheme not in {"redis", "rediss", "unix"}:
            raise ImproperlyConfigured(f"REDIS_URL must be a redis:// URL, not {scheme}://")
        return {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": url,
            "KEY_PREFIX": prefix,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    return {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "oasis_cache",
        "KEY_PREFIX": prefix,
        "OPTIONS": {"MAX_ENTRIES": 100_000},
    }
