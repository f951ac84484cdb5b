"""`make dev` checks every port before it starts anything, and says which is taken and what to set."""

from __future__ import annotations

import socket

import dev
import pytest
from platform_tools import dev_processes
from ports import DEFAULT_PORTS, port_taken, port_variable, ports_taken, taken_message

from .conftest import unused_ports


def test_a_free_port_is_not_taken(free_port):
    assert port_taken(free_port) is None


def test_a_port_another_program_listens_on_is_taken(held_port):
    assert port_taken(held_port) == "in use"


def test_a_port_held_on_every_interface_is_taken_too(free_port):
    with socket.socket() as sock:
        sock.bind(("0.0.0.0", free_port))  # noqa: S104 - as a careless server would
        sock.listen()

        assert port_taken(free_port) == "in use"


def test_only_the_taken_ports_are_reported(held_port, free_port):
    assert ports_taken({"auth": held_port, "projects": free_port}) == {"auth": "in use"}


def test_the_message_names_the_port_the_process_and_what_to_set(held_port):
    ports = {"auth": held_port}

    message = taken_message({"auth": "in use"}, ports, {})

    assert f"port {held_port}, where auth listens, is in use by another program" in message
    assert f"`ss -ltnp 'sport = :{held_port}'`" in message
    assert "OASIS_AUTH_PORT=" in message
    assert "OASIS_DEV_PORT_BASE=" in message


def test_the_message_recognises_our_own_process_left_running(serve):
    port = serve({"/healthz": (200, {"status": "ok", "service": "auth"})})

    message = taken_message({"auth": "in use"}, {"auth": port}, {})

    assert f"port {port}, where auth listens, is in use by an Imagi Oasis auth (another" in message
    assert "Stop the other `make dev` (Ctrl-C where it runs)" in message


@pytest.fixture
def nothing_starts(monkeypatch, tmp_path):
    """make dev with no var/dev.env of its own, and everything after the port check refusing to run."""
    monkeypatch.setattr(dev, "DEV_ENV", tmp_path / "dev.env")

    def started(*args, **kwargs):
        raise AssertionError("make dev went on past a taken port")

    for name in ("ensure_nginx", "migrate_all"):
        monkeypatch.setattr(dev, name, started)
    monkeypatch.setattr(dev.os, "execve", started)


def test_make_dev_stops_before_anything_starts_when_a_port_is_taken(held_port, nothing_starts, monkeypatch):
    # Every process on a free port but the gateway, whose port another program holds.
    listening = [name for name in dev_processes() if name in DEFAULT_PORTS]
    for name, port in zip(listening, unused_ports(len(listening)), strict=True):
        monkeypatch.setenv(port_variable(name), str(port))
    monkeypatch.setenv("OASIS_GATEWAY_PORT", str(held_port))

    with pytest.raises(SystemExit) as stopped:
        dev.main()

    # sys.exit with a message: the message on stderr, exit status 1.
    message = stopped.value.code
    assert isinstance(message, str)
    assert message.startswith("make dev cannot start:")
    assert f"port {held_port}, where the gateway listens, is in use by another program" in message
    assert "OASIS_GATEWAY_PORT=" in message


def test_make_dev_refuses_two_processes_on_one_port(nothing_starts, monkeypatch):
    monkeypatch.setenv("OASIS_AUTH_PORT", "18002")
    monkeypatch.setenv("OASIS_PROJECTS_PORT", "18002")

    with pytest.raises(SystemExit) as stopped:
        dev.main()

    assert stopped.value.code == (
        "make dev cannot start: auth and projects would both listen on port 18002; "
        "change OASIS_AUTH_PORT or OASIS_PROJECTS_PORT."
    )
