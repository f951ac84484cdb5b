"""`make dev` points every process at the others on the table's ports, before anything reads them."""

from __future__ import annotations

import dev
import pytest
from platform_tools import dev_processes
from ports import DEFAULT_PORTS, dev_ports, port_variable

from .conftest import unused_ports

SERVICES = ["auth", "projects", "payments", "builder", "sites"]


def test_every_address_follows_the_moved_table():
    env: dict[str, str] = {}

    dev.wire(env, dev_ports({"OASIS_DEV_PORT_BASE": "9000"}), SERVICES)

    assert (env["OASIS_AUTH_PORT"], env["OASIS_DEMO_PORT"], env["OASIS_GATEWAY_LISTEN"]) == (
        "9001",
        "9090",
        "9080",
    )
    assert env["OASIS_BUILDER_UPSTREAM"] == "127.0.0.1:9004"
    assert env["OASIS_PROJECTS_URL"] == "http://127.0.0.1:9002"
    assert env["OASIS_DEMO_MODEL_URL"] == "http://127.0.0.1:9090/v1"
    assert "http://localhost:9080" in env["OASIS_CHECKOUT_REDIRECT_ORIGINS"].split(",")
    assert env["OASIS_PASSWORD_RESET_URL"].startswith("http://localhost:9080/reset-password?")
    assert env["OASIS_SITES_UPSTREAM"] == "127.0.0.1:9005"
    assert env["OASIS_PUBLIC_URL"] == "http://localhost:9080"


def test_sites_and_the_gateway_are_given_one_store_and_one_domain():
    env = {"OASIS_VAR_DIR": "/srv/dev-state"}

    dev.wire(env, dict(DEFAULT_PORTS), SERVICES)

    # Both read these same variables: sites writes the store, the gateway serves it.
    assert env["OASIS_SITES_STORE"] == "/srv/dev-state/sites/store"
    assert env["OASIS_SITES_DOMAIN"] == "sites.localhost"
    assert env["OASIS_SITES_UPSTREAM"] == f"127.0.0.1:{DEFAULT_PORTS['sites']}"


def test_a_store_and_domain_set_by_hand_are_kept():
    env = {"OASIS_SITES_STORE": "/mnt/sites", "OASIS_SITES_DOMAIN": "sites.test"}

    dev.wire(env, dict(DEFAULT_PORTS), SERVICES)

    assert (env["OASIS_SITES_STORE"], env["OASIS_SITES_DOMAIN"]) == ("/mnt/sites", "sites.test")


def test_without_sites_no_store_is_wired():
    env: dict[str, str] = {}

    dev.wire(env, dict(DEFAULT_PORTS), ["auth", "projects", "payments", "builder"])

    assert "OASIS_SITES_STORE" not in env


def test_an_address_set_by_hand_is_kept():
    env = {"OASIS_AUTH_URL": "http://auth.example.test", "OASIS_DEMO_MODEL_URL": "http://model.test/v1"}

    dev.wire(env, dict(DEFAULT_PORTS), SERVICES)

    assert env["OASIS_AUTH_URL"] == "http://auth.example.test"
    assert env["OASIS_DEMO_MODEL_URL"] == "http://model.test/v1"


class MigrationsStarted(Exception):
    pass


def test_the_migrations_already_see_where_the_demo_model_moved(monkeypatch, tmp_path):
    # sync_models, run with the migrations, writes the demo model's URL into the builder's catalog.
    listening = [name for name in dev_processes() if name in DEFAULT_PORTS]
    ports = dict(zip(listening, unused_ports(len(listening)), strict=True))
    for name, port in ports.items():
        monkeypatch.setenv(port_variable(name), str(port))
    monkeypatch.delenv("OASIS_DEMO_MODEL_URL", raising=False)
    monkeypatch.setattr(dev, "DEV_ENV", tmp_path / "dev.env")
    monkeypatch.setattr(dev, "ensure_nginx", lambda: "/usr/sbin/nginx")
    seen = {}

    def migrate_all(env, services):
        seen.update(env, services=services)
        raise MigrationsStarted

    monkeypatch.setattr(dev, "migrate_all", migrate_all)

    with pytest.raises(MigrationsStarted):
        dev.main()

    assert seen["OASIS_DEMO_MODEL_URL"] == f"http://127.0.0.1:{ports['demo-model']}/v1"
    assert seen["OASIS_PROJECTS_URL"] == f"http://127.0.0.1:{ports['projects']}"
    assert seen["OASIS_SITES_URL"] == f"http://127.0.0.1:{ports['sites']}"
    assert "sites" in seen["services"]
