"""oasis_common.settings: the shared settings every service starts from."""

from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from oasis_common.conf import DEFAULTS
from oasis_common.settings import common_settings, peer_url

PRODUCTION_SECRETS = {
    "DJANGO_SECRET_KEY": "a-production-secret-key-of-decent-length",
    "DATABASE_URL": "postgres://projects@db/projects",
    "OASIS_SERVICE_CLIENT_SECRET": "projects-client-secret",
}


@pytest.fixture
def environ(monkeypatch, tmp_path):
    """A clean environment whose development state lives in `tmp_path`."""
    for name in [
        *PRODUCTION_SECRETS,
        "OASIS_ENVIRONMENT",
        "DJANGO_DEBUG",
        "REDIS_URL",
        "ALLOWED_HOSTS",
        "OASIS_READY_PEERS",
        "OASIS_AUTH_URL",
        "OASIS_JWKS_URL",
        "OASIS_TRUSTED_PROXIES",
    ]:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path / "var"))

    def set_(**values):
        for name, value in values.items():
            monkeypatch.setenv(name, value)

    return set_


def build(service="projects"):
    return common_settings(service=service, base_dir=Path("/srv/oasis/services") / service, apps=["widgets"])


def test_an_unknown_service_name_is_refused(environ):
    with pytest.raises(ImproperlyConfigured, match="Unknown service 'gateway'"):
        build("gateway")


def test_development_settings_need_no_environment(environ, tmp_path):
    settings = build()
    assert settings["DEBUG"] is False
    assert settings["INSTALLED_APPS"][-1] == "widgets"
    assert settings["DATABASES"]["default"]["NAME"] == str(tmp_path / "var" / "projects" / "db.sqlite3")
    assert (
        settings["SECRET_KEY"]
        == (tmp_path / "var" / "secrets" / "projects-django-secret-key").read_text().strip()
    )
    assert settings["OASIS"]["SERVICE_CLIENT_SECRET"]
    assert settings["SESSION_COOKIE_SECURE"] is False


def test_the_auth_service_has_no_client_secret_of_its_own(environ):
    assert build("auth")["OASIS"]["SERVICE_CLIENT_SECRET"] == ""


def test_production_starts_when_its_secrets_are_set(environ):
    environ(OASIS_ENVIRONMENT="production", **PRODUCTION_SECRETS)
    settings = build()
    assert settings["SECRET_KEY"] == PRODUCTION_SECRETS["DJANGO_SECRET_KEY"]
    assert settings["OASIS"]["SERVICE_CLIENT_SECRET"] == PRODUCTION_SECRETS["OASIS_SERVICE_CLIENT_SECRET"]
    assert settings["SESSION_COOKIE_SECURE"] is True
    assert settings["CSRF_COOKIE_SECURE"] is True


@pytest.mark.parametrize("missing", sorted(PRODUCTION_SECRETS))
def test_production_refuses_to_start_without_each_secret(environ, tmp_path, missing):
    environ(OASIS_ENVIRONMENT="production", **{k: v for k, v in PRODUCTION_SECRETS.items() if k != missing})
    with pytest.raises(ImproperlyConfigured, match=missing):
        build()
    assert not (tmp_path / "var" / "secrets").exists()


def test_production_refuses_debug(environ):
    environ(OASIS_ENVIRONMENT="production", DJANGO_DEBUG="1", **PRODUCTION_SECRETS)
    with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG"):
        build()


def test_lists_and_urls_come_from_the_environment(environ):
    environ(
        ALLOWED_HOSTS="projects.internal, api.example.com",
        OASIS_READY_PEERS="http://auth:8000",
        OASIS_AUTH_URL="http://auth:8000/",
    )
    settings = build()
    assert settings["ALLOWED_HOSTS"] == ["projects.internal", "api.example.com"]
    assert settings["OASIS"]["READY_PEERS"] == ["http://auth:8000"]
    assert settings["OASIS"]["AUTH_URL"] == "http://auth:8000"
    assert settings["OASIS"]["JWKS_URL"] == "http://auth:8000/api/v1/auth/.well-known/jwks.json"


@pytest.mark.parametrize(
    ("service", "variable", "expected"),
    [
        ("payments", "", "http://127.0.0.1:8003"),
        ("builder", "http://builder:8000/", "http://builder:8000"),
        ("auth", "https://auth.internal", "https://auth.internal"),
    ],
)
def test_a_peer_url_defaults_to_its_development_port(monkeypatch, service, variable, expected):
    monkeypatch.setenv(f"OASIS_{service.upper()}_URL", variable)
    assert peer_url(service) == expected


def test_trusted_proxies_default_to_loopback_and_private_networks(environ):
    assert build()["OASIS"]["TRUSTED_PROXIES"] == DEFAULTS["TRUSTED_PROXIES"]
    assert "10.0.0.0/8" in DEFAULTS["TRUSTED_PROXIES"]


def test_trusted_proxies_come_from_the_environment(environ):
    environ(OASIS_TRUSTED_PROXIES="100.64.0.0/10, 10.2.3.4")
    assert build()["OASIS"]["TRUSTED_PROXIES"] == ["100.64.0.0/10", "10.2.3.4"]


def test_a_trusted_proxy_that_is_no_network_is_refused_at_start(environ):
    environ(OASIS_TRUSTED_PROXIES="10.0.0.0/8,gateway")
    with pytest.raises(ImproperlyConfigured, match="OASIS_TRUSTED_PROXIES"):
        build()


def test_lists_are_ordered_by_the_platform_filter(environ):
    assert build()["REST_FRAMEWORK"]["DEFAULT_FILTER_BACKENDS"] == ["oasis_common.ordering.OrderingFilter"]


def test_every_request_passes_the_platform_middleware_in_order(environ):
    middleware = build()["MIDDLEWARE"]
    # Probes answer before anything checks the Host header; request ids wrap everything else.
    assert middleware[0] == "oasis_common.middleware.ProbeMiddleware"
    assert middleware.index("oasis_common.middleware.RequestIdMiddleware") < middleware.index(
        "django.middleware.common.CommonMiddleware"
    )


def test_the_api_defaults_to_user_tokens_and_the_error_envelope(environ):
    rest = build()["REST_FRAMEWORK"]
    assert rest["DEFAULT_AUTHENTICATION_CLASSES"] == ["oasis_common.authentication.UserJWTAuthentication"]
    assert rest["DEFAULT_PERMISSION_CLASSES"] == ["oasis_common.permissions.IsUser"]
    assert rest["EXCEPTION_HANDLER"] == "oasis_common.errors.exception_handler"
