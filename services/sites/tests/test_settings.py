"""Configuration: safe development defaults, and production refusing to start half-configured."""

import runpy
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

PRODUCTION = {
    "OASIS_ENVIRONMENT": "production",
    "DJANGO_SECRET_KEY": "a production secret",
    "DATABASE_URL": "postgres://sites@db:5432/sites",
    "OASIS_SERVICE_CLIENT_SECRET": "a client secret",
    "OASIS_SITES_DOMAIN": "oasis-sites.example",
    "OASIS_PUBLIC_URL": "https://oasis.example",
}
SETTINGS = Path(__file__).resolve().parent.parent / "config" / "settings.py"


@pytest.fixture
def environment(monkeypatch, tmp_path):
    for name in ("DATABASE_URL", "DJANGO_SECRET_KEY", "REDIS_URL", *PRODUCTION):
        monkeypatch.delenv(name, raising=False)
    for name in (
        "OASIS_SITES_STORE",
        "OASIS_SITES_SCHEME",
        "OASIS_MAX_SITES_PER_USER",
        "OASIS_SITES_DNS_NAMESERVERS",
        "OASIS_SITES_BUCKET",
    ):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("OASIS_VAR_DIR", str(tmp_path))

    def load(**values) -> dict:
        for name, value in values.items():
            monkeypatch.setenv(name, value)
        # The shared settings are a module, imported once per process: compute them anew.
        monkeypatch.delitem(sys.modules, "oasis_common.service_settings", raising=False)
        return runpy.run_path(str(SETTINGS))["SITES"]

    return load


def test_development_keeps_the_store_under_the_var_folder_and_serves_on_localhost(environment, tmp_path):
    sites = environment(OASIS_ENVIRONMENT="development")

    assert sites["STORE"] == tmp_path / "sites" / "store"
    assert (sites["DOMAIN"], sites["SITE_SCHEME"]) == ("sites.localhost", "http")
    assert sites["DNS_NAMESERVERS"] == []
    assert sites["MAX_SITES_PER_USER"] == 10


def test_production_takes_its_domain_store_and_nameservers_from_the_environment(environment):
    sites = environment(
        **PRODUCTION, OASIS_SITES_STORE="/srv/sites", OASIS_SITES_DNS_NAMESERVERS="1.1.1.1,8.8.8.8:53"
    )

    assert sites["STORE"] == Path("/srv/sites")
    assert (sites["DOMAIN"], sites["SITE_SCHEME"]) == ("oasis-sites.example", "https")
    assert sites["DNS_NAMESERVERS"] == ["1.1.1.1", "8.8.8.8:53"]


@pytest.mark.parametrize("missing", ["OASIS_SITES_DOMAIN", "OASIS_PUBLIC_URL", "DJANGO_SECRET_KEY"])
def test_production_refuses_to_start_without_what_it_needs(environment, monkeypatch, missing):
    values = {name: value for name, value in PRODUCTION.items() if name != missing}

    with pytest.raises(ImproperlyConfigured, match=missing):
        environment(**values)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("OASIS_MAX_SITES_PER_USER", "0"),
        ("OASIS_MAX_FILES_PER_DEPLOYMENT", "-5"),
        ("OASIS_DEPLOYMENTS_KEPT_PER_SITE", "many"),
        ("OASIS_SITES_SCHEME", "ftp"),
    ],
)
def test_a_malformed_setting_stops_the_start(environment, name, value):
    with pytest.raises(ImproperlyConfigured, match=name):
        environment(OASIS_ENVIRONMENT="development", **{name: value})


def test_a_bucket_is_named_with_its_endpoint_and_keys(environment):
    sites = environment(
        OASIS_ENVIRONMENT="development",
        OASIS_SITES_BUCKET="oasis-sites",
        OASIS_SITES_S3_ENDPOINT_URL="http://minio:9000",
        OASIS_SITES_S3_ACCESS_KEY_ID="key",
        OASIS_SITES_S3_SECRET_ACCESS_KEY="secret",
    )

    assert (sites["BUCKET"], sites["S3_ENDPOINT_URL"]) == ("oasis-sites", "http://minio:9000")
    assert (sites["S3_ACCESS_KEY_ID"], sites["S3_SECRET_ACCESS_KEY"]) == ("key", "secret")


def test_a_store_and_a_bucket_together_stop_the_start(environment):
    with pytest.raises(ImproperlyConfigured, match="not both"):
        environment(OASIS_ENVIRONMENT="development", OASIS_SITES_STORE="/srv/sites", OASIS_SITES_BUCKET="b")
