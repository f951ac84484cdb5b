"""`make dev` announces the system only when each of its processes answers, as itself."""

from __future__ import annotations

import announce
import pytest
from ports import answers_as

OURS = {
    "auth": {"status": "ok", "service": "auth"},
    "sites": {"status": "ok", "service": "sites"},
    "gateway": {"status": "ok", "service": "gateway"},
    "demo-model": {"status": "ok", "model": "oasis-demo", "note": "deterministic demo model, not an AI"},
}
READY = (200, {"status": "ready"})


@pytest.mark.parametrize("name", sorted(OURS))
def test_our_process_is_known_by_its_health_answer(name, serve):
    port = serve({"/healthz": (200, OURS[name])})

    assert answers_as(name, port)


@pytest.mark.parametrize(
    ("name", "answers"),
    [
        ("auth", {}),
        ("auth", {"/healthz": (200, {"status": "ok"})}),
        ("auth", {"/healthz": (200, OURS["gateway"])}),
        ("auth", {"/healthz": (503, OURS["auth"])}),
        ("gateway", {"/healthz": (200, {"status": "ok", "service": "nginx"})}),
        ("demo-model", {"/healthz": (200, {"status": "ok", "model": "llama3"})}),
    ],
    ids=[
        "no health page",
        "a generic health page",
        "another of ours",
        "failing",
        "foreign nginx",
        "another model",
    ],
)
def test_a_foreign_server_on_the_port_is_not_taken_for_ours(name, answers, serve):
    port = serve(answers)

    assert not answers_as(name, port)


def test_nothing_listening_is_not_ours(free_port):
    assert not answers_as("auth", free_port)


def test_announce_names_a_foreign_server_holding_a_port(serve):
    port = serve({"/healthz": (200, {"status": "ok"})})

    assert (
        announce.port_problem("auth", port)
        == f"port {port} answers, but not as auth: another program holds it"
    )


def test_announce_waits_for_a_service_that_is_alive_but_not_ready(serve):
    port = serve({"/healthz": (200, OURS["auth"]), "/readyz": (503, {"error": {"code": "not_ready"}})})

    assert (
        announce.port_problem("auth", port)
        == f"alive on port {port}, not ready yet (its /readyz answers 503)"
    )


def test_announce_waits_for_a_port_where_nothing_answers_yet(free_port):
    assert announce.port_problem("gateway", free_port) == f"nothing answers on port {free_port} yet"


def test_announce_waits_while_any_process_is_not_ours(serve):
    ports = {
        "auth": serve({"/healthz": (200, OURS["auth"]), "/readyz": READY}),
        "gateway": serve({"/healthz": (200, {"status": "ok"})}),
    }

    assert list(announce.problems(ports, list(ports), since=0)) == ["gateway"]


def test_announce_waits_for_sites_until_it_is_ready(serve):
    port = serve({"/healthz": (200, OURS["sites"]), "/readyz": (503, {"error": {"code": "not_ready"}})})

    assert announce.problems({"sites": port}, ["sites"], since=0) == {
        "sites": f"alive on port {port}, not ready yet (its /readyz answers 503)"
    }


def test_announce_is_satisfied_when_each_process_answers_as_itself(serve):
    ports = {
        "auth": serve({"/healthz": (200, OURS["auth"]), "/readyz": READY}),
        "sites": serve({"/healthz": (200, OURS["sites"]), "/readyz": READY}),
        "gateway": serve({"/healthz": (200, OURS["gateway"])}),
        "demo-model": serve({"/healthz": (200, OURS["demo-model"])}),
    }

    assert announce.problems(ports, list(ports), since=0) == {}


def test_the_worker_counts_only_once_it_has_beaten_since_make_dev_started(serve, monkeypatch):
    asked = []

    def worker_alive(command, **kwargs):
        asked.append(command)
        return announce.subprocess.CompletedProcess(command, returncode=1)

    monkeypatch.setattr(announce.subprocess, "run", worker_alive)
    ports = {"gateway": serve({"/healthz": (200, OURS["gateway"])})}

    found = announce.problems(ports, ["gateway", "builder-worker"], since=announce.time.time() - 10)

    assert found == {"builder-worker": "no sign of life yet"}
    [command] = asked
    assert command[-3:-1] == ["worker_alive", "--max-age"]
    assert 10 < float(command[-1]) < 20


def test_announce_prints_where_to_go_only_when_everything_answers(serve, monkeypatch, capsys):
    ports = {
        "auth": serve({"/healthz": (200, OURS["auth"]), "/readyz": READY}),
        "gateway": serve({"/healthz": (200, {"status": "ok"})}),
    }
    monkeypatch.setattr(announce, "dev_processes", lambda: list(ports))
    monkeypatch.setattr(announce, "dev_ports", lambda environ, names: ports)
    monkeypatch.setattr(announce.signal, "pause", lambda: None)
    turns = []

    def sleep(seconds):
        turns.append(seconds)
        if len(turns) == 3:
            # The foreign server goes, ours takes the port.
            ports["gateway"] = serve({"/healthz": (200, OURS["gateway"])})

    monkeypatch.setattr(announce.time, "sleep", sleep)

    announce.main()

    assert len(turns) == 3
    out = capsys.readouterr().out
    assert "Imagi Oasis is running." in out
    assert f"http://localhost:{ports['gateway']}/studio/" in out
    assert f"http://localhost:{ports['gateway']}/docs/" in out


def test_the_announcement_says_where_published_sites_answer():
    line = announce.published_sites_line(
        {"sites": 9005, "gateway": 9080}, {"OASIS_SITES_DOMAIN": "sites.localhost"}
    )

    assert "http://<slug>.sites.localhost:9080/" in line
    assert "http://localhost:9080/s/<slug>/" in line
    assert announce.published_sites_line({"gateway": 8080}, {}) == ""
