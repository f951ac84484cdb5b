"""The test system's ports (tests/e2e/system.py): each process its own, and the service on each checked."""

from __future__ import annotations

import pytest

from tests.e2e import system as harness

HEALTHY_PROJECTS = {
    "/readyz": (200, {"status": "ready"}),
    "/healthz": (200, {"status": "ok", "service": "projects"}),
}


def test_a_port_the_os_offers_twice_is_given_to_one_process_only(tmp_path, monkeypatch):
    offered = iter([40001, 40001, 40002])
    monkeypatch.setattr(harness, "free_port", lambda: next(offered))
    system = harness.System(root=tmp_path)

    assert [system.free_port(), system.free_port()] == [40001, 40002]


def test_a_service_whose_port_another_service_answers_is_not_taken_for_ready(tmp_path, serve):
    system = harness.System(root=tmp_path, services=("auth", "projects"))
    system.ports = {"auth": serve(HEALTHY_PROJECTS), "projects": serve(HEALTHY_PROJECTS)}

    system._wait_service("projects", timeout=5)
    with pytest.raises(RuntimeError, match="is answered by another server"):
        system._wait_service("auth", timeout=5)
