"""Configuration: safe development defaults, and production refusing to start half-configured."""

import runpy
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

PRODUCTION = {
    "OASIS_ENVIRONMENT": "production",
    "DJANGO_SECRET_KEY": "a production secret",
    "DATABASE_URL": "postgres://payments@db:5432/payments",
    "OASIS_SERVICE_CLIENT_SECRET": "a client secret",
}
SETTINGS = Path(__file__).resolve().parent.parent / "config" / "settings.py"
STRIPE = {"STRIPE_SECRET_KEY": "sk_live_x", "STRIPE_WEBHOOK_SECRET": "whsec_x"}


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in (
        "STRIPE_SECRET_KEY",
        "STRIPE_WEBHOOK_SECRET",
        "DATABASE_URL",
        "DJANGO_SECRET_KEY",
        "REDIS_URL",
    ):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "OASIS_CHECKOUT_REDIRECT_ORIGINS",
        "OASIS_CREDIT_PACKS",
        "OASIS_WELCOME_CREDITS",
        "OASIS_HOLD_TTL_SECONDS",
        "OASIS_SERVICE_CLIENT_SECRET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path))

    def load(**values) -> dict:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        # The shared settings are a module, imported once per process: compute them anew.
        monkeypatch.delitem(sys.modules, "oasis_common.service_settings", raising=False)
        return runpy.run_path(str(SETTINGS))["PAYMENTS"]

    return load


def test_development_works_without_stripe_and_allows_local_origins(environment):
    payments = environment(OASIS_ENVIRONMENT="development")

    assert payments["STRIPE_SECRET_KEY"] == ""
    assert payments["STRIPE_WEBHOOK_SECRET"] == ""
    assert "http://localhost:8080" in payments["CHECKOUT_REDIRECT_ORIGINS"]
    assert payments["WELCOME_CREDITS"] == 2000
    assert payments["CREDIT_PACKS"] is None


def test_production_starts_without_stripe_so_checkout_can_say_payments_are_unavailable(environment):
    payments = environment(**PRODUCTION)

    assert payments["STRIPE_SECRET_KEY"] == ""
    assert payments["CHECKOUT_REDIRECT_ORIGINS"] == []


def test_production_starts_with_stripe_and_its_return_origins(environment):
    payments = environment(**PRODUCTION, **STRIPE, OASIS_CHECKOUT_REDIRECT_ORIGINS="https://app.example.com")

    assert payments["STRIPE_SECRET_KEY"] == "sk_live_x"
    assert payments["CHECKOUT_REDIRECT_ORIGINS"] == ["https://app.example.com"]


@pytest.mark.parametrize(
    ("values", "message"),
    [
        ({"STRIPE_SECRET_KEY": "sk_live_x"}, "both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"),
        ({"STRIPE_WEBHOOK_SECRET": "whsec_x"}, "both STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET"),
        (STRIPE, "OASIS_CHECKOUT_REDIRECT_ORIGINS"),
    ],
)
def test_production_refuses_half_a_stripe_configuration(environment, values, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        environment(**PRODUCTION, **values)


def test_production_refuses_to_start_without_its_secrets(environment):
    with pytest.raises(ImproperlyConfigured, match="DJANGO_SECRET_KEY"):
        environment(OASIS_ENVIRONMENT="production")


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OASIS_WELCOME_CREDITS", "-1"),
        ("OASIS_WELCOME_CREDITS", "lots"),
        ("OASIS_HOLD_TTL_SECONDS", "0"),
        ("OASIS_CREDIT_PACKS", "[not json"),
    ],
)
def test_a_malformed_setting_stops_the_start(environment, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        environment(OASIS_ENVIRONMENT="development", **{name: value})
