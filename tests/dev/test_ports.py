"""One port table for `make dev`: its defaults, what moves it, and everyone who reads it."""

from __future__ import annotations

import re
import sys

import pytest

from .conftest import REPO

sys.path.insert(0, str(REPO / "gateway"))
sys.path.insert(0, str(REPO / "services" / "demo_model"))

from platform_tools import PROCFILE, WEB_APPLICATION, dev_processes, django_services
from ports import DEFAULT_PORTS, PortError, dev_ports, port_variable
from render import GatewayConfig

from oasis_common import conf
from oasis_common.settings import SERVICE_NAMES, peer_url
from oasis_demo_model.settings import Settings as DemoSettings

# Where the architecture puts each process in development.
DESIGNED = {
    "auth": 8001,
    "projects": 8002,
    "payments": 8003,
    "builder": 8004,
    "sites": 8005,
    "gateway": 8080,
    "demo-model": 8090,
}


@pytest.mark.parametrize(("name", "port"), sorted(DESIGNED.items()))
def test_each_process_listens_on_its_designed_port_by_default(name, port):
    assert dev_ports({})[name] == port


def test_the_port_base_moves_every_port_together():
    moved = dev_ports({"OASIS_DEV_PORT_BASE": "9000"})

    assert moved == {name: port + 1000 for name, port in DEFAULT_PORTS.items()}


@pytest.mark.parametrize("name", sorted(DEFAULT_PORTS))
def test_one_variable_moves_one_process(name):
    moved = dev_ports({port_variable(name): "9999"})

    assert moved == {**DEFAULT_PORTS, name: 9999}


def test_a_process_variable_wins_over_the_base():
    moved = dev_ports({"OASIS_DEV_PORT_BASE": "9000", "OASIS_GATEWAY_PORT": "8180"})

    assert (moved["gateway"], moved["auth"]) == (8180, 9001)


def test_the_demo_model_is_moved_by_the_variable_it_reads_itself():
    environ = {"OASIS_DEMO_PORT": "9191"}

    assert dev_ports(environ)["demo-model"] == DemoSettings.from_env(environ).port == 9191


def test_blank_variables_mean_the_defaults():
    assert dev_ports({"OASIS_DEV_PORT_BASE": " ", "OASIS_AUTH_PORT": ""}) == DEFAULT_PORTS


@pytest.mark.parametrize(
    ("environ", "message"),
    [
        ({"OASIS_DEV_PORT_BASE": "nine"}, "OASIS_DEV_PORT_BASE must be a port number, not 'nine'."),
        ({"OASIS_AUTH_PORT": "80a"}, "OASIS_AUTH_PORT must be a port number, not '80a'."),
        ({"OASIS_AUTH_PORT": "70000"}, "OASIS_AUTH_PORT puts auth on port 70000, outside 1-65535."),
        (
            {"OASIS_DEV_PORT_BASE": "65500"},
            "OASIS_DEV_PORT_BASE puts the gateway on port 65580, outside 1-65535.",
        ),
        (
            {"OASIS_AUTH_PORT": "8002"},
            "auth and projects would both listen on port 8002; change OASIS_AUTH_PORT.",
        ),
    ],
)
def test_unusable_port_settings_are_refused_with_the_variable_to_change(environ, message):
    with pytest.raises(PortError) as refused:
        dev_ports(environ)

    assert str(refused.value) == message


def test_the_procfile_takes_every_port_from_the_table():
    commands = dict(
        line.split(": ", 1) for line in PROCFILE.read_text().splitlines() if not line.startswith("#")
    )

    assert not re.findall(r"\b\d{4,5}\b", " ".join(commands.values())), "a literal port in the Procfile"
    for service in django_services():
        if service in commands:
            application = " ".join(WEB_APPLICATION.get(service, ["config.wsgi"]))
            assert f"--bind 127.0.0.1:${port_variable(service)} " in commands[service]
            assert commands[service].endswith(application)


def test_the_procfile_runs_every_process_of_the_table_under_its_name():
    listening = [name for name in dev_processes() if name in DEFAULT_PORTS]

    assert set(listening) >= set(DESIGNED)


def test_every_service_of_this_checkout_runs_and_is_migrated_by_make_dev():
    # make dev migrates, wires and announces the services the Procfile runs.
    assert set(django_services()) <= set(dev_processes())
    assert "sites" in django_services()


def test_programs_run_on_their_own_default_to_the_table(monkeypatch):
    for service in SERVICE_NAMES:
        monkeypatch.delenv(f"OASIS_{service.upper()}_URL", raising=False)
    gateway = GatewayConfig.from_env({})

    assert gateway.listen == str(DEFAULT_PORTS["gateway"])
    assert gateway.upstreams["auth"] == f"127.0.0.1:{DEFAULT_PORTS['auth']}"
    assert DemoSettings.from_env({}).port == DEFAULT_PORTS["demo-model"]
    assert conf.DEFAULTS["AUTH_URL"] == f"http://127.0.0.1:{DEFAULT_PORTS['auth']}"
    for service in SERVICE_NAMES:
        assert peer_url(service) == f"http://127.0.0.1:{DEFAULT_PORTS[service]}"


@pytest.mark.parametrize(
    ("process", "command"),
    [("sites-sweeper", "reconcile_site_store"), ("sites-pruner", "prune_site_blobs")],
)
def test_the_site_store_upkeep_runs_on_a_loop_in_make_dev(process, command):
    commands = dict(
        line.split(": ", 1) for line in PROCFILE.read_text().splitlines() if not line.startswith("#")
    )

    assert re.search(rf"services/sites/manage\.py {command} --every \d+$", commands[process])
