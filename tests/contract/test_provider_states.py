"""The provider-state hook is for contract tests only: production refuses it, the gateway never routes it."""

from __future__ import annotations

import subprocess
import sys

import pytest
import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from oasis_common.provider_states import provider_state_urls
from tests.contract.providers import PROVIDERS
from tests.e2e.system import REPO

HOOK = "/_provider-states"
ROUTED = """
import django
from django.urls import Resolver404, resolve

django.setup()
try:
    resolve("/_provider-states")
    print("routed")
except Resolver404:
    print("not routed")
"""


def settings_of(service: str, env: dict) -> subprocess.CompletedProcess:
    """Load `service`'s real settings and URLs in a fresh process; print whether the hook is routed."""
    return subprocess.run(
        [sys.executable, "-c", ROUTED],
        cwd=REPO / "services" / service,
        env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True,
        text=True,
        timeout=60,
    )


def production_env(providers, service: str, **values) -> dict:
    """The environment the service runs with in production (as tests/e2e runs it), plus `values`."""
    return {**providers.service_env(service), "OASIS_ENVIRONMENT": "production", **values}


@pytest.mark.parametrize("service", PROVIDERS)
def test_production_does_not_route_the_hook(providers, service):
    result = settings_of(service, production_env(providers, service, OASIS_PROVIDER_STATES="0"))

    assert result.stdout.strip() == "not routed", result.stderr


@pytest.mark.parametrize("service", PROVIDERS)
def test_production_refuses_to_start_with_provider_states_on(providers, service):
    result = settings_of(service, production_env(providers, service, OASIS_PROVIDER_STATES="1"))

    assert result.returncode != 0
    assert "ImproperlyConfigured: OASIS_PROVIDER_STATES is for contract tests" in result.stderr


@pytest.mark.parametrize("service", PROVIDERS)
def test_the_hook_is_routed_only_with_provider_states_on_outside_production(providers, service):
    test_env = {**providers.service_env(service), "OASIS_ENVIRONMENT": "test"}

    assert settings_of(service, {**test_env, "OASIS_PROVIDER_STATES": "1"}).stdout.strip() == "routed"
    assert settings_of(service, {**test_env, "OASIS_PROVIDER_STATES": "0"}).stdout.strip() == "not routed"


def test_the_routes_are_refused_in_production_even_past_the_settings_check():
    with (
        override_settings(OASIS={**settings.OASIS, "PROVIDER_STATES": True}, OASIS_ENVIRONMENT="production"),
        pytest.raises(ImproperlyConfigured),
    ):
        provider_state_urls("config.provider_states")


@pytest.mark.parametrize("service", PROVIDERS)
def test_the_gateway_never_routes_the_hook(providers, service):
    direct = requests.post(
        f"{providers.service_url(service)}{HOOK}", json={"state": "no such state"}, timeout=10
    )
    through_gateway = [
        requests.post(f"{providers.url}{HOOK}", json={"state": "no such state"}, timeout=10),
        requests.get(f"{providers.url}{HOOK}", timeout=10),
        requests.post(f"{providers.url}/api/v1/{service}/..{HOOK}", json={"state": "x"}, timeout=10),
    ]

    # The service itself (with provider states on) answers; the gateway in front of it never passes it on.
    assert direct.json()["error"]["code"] == "unknown_provider_state"
    for response in through_gateway:
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
