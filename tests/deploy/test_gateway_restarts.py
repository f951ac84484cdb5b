"""Release day at the gateway: it follows a recreated service to its new address, and stops gracefully.

A real nginx, rendered by gateway/render.py, in front of stand-in services on loopback addresses
(127.0.0.2, 127.0.0.3) that a stand-in DNS server hands out as compose's embedded DNS would:
when the answer changes (a service recreated on a new address), requests follow it within
seconds, with no restart or reload of the gateway; while the name has two addresses (a start-first
replacement by scripts/release.py), one of them closing fails no request. And SIGQUIT, the
images' stop signal, lets a request in flight finish.
"""

from __future__ import annotations

import signal
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from dnslib import QTYPE, RR, A
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from . import compose_rules, gateway_config
from .tools import REPO

sys.path.insert(0, str(REPO / "gateway"))

from render import ConfigError, GatewayConfig, render, resolver_settings

PUBLIC = "/api/v1/auth/.well-known/jwks.json"


# ---- the renderer: names looked up again where they can move, fixed where they cannot ----


def test_make_dev_keeps_fixed_upstreams_with_keepalive_and_no_resolver(tmp_path):
    upstreams = {"auth": "127.0.0.1:8001", "projects": "localhost:8002"}
    config = GatewayConfig.from_env({}, runtime_dir=tmp_path, site_root=tmp_path, upstreams=upstreams)
    text = render(config)

    assert config.resolver == []
    assert "resolver " not in text
    assert "upstream auth {\n        server 127.0.0.1:8001 max_fails=0;\n        keepalive 32;" in text
    assert "upstream projects {\n        server localhost:8002 max_fails=0;" in text
    assert "proxy_pass http://auth/internal/v1/verify;" in text
    assert "$oasis_upstream_" not in text


def test_service_names_go_through_a_variable_that_nginx_resolves_again(tmp_path):
    environ = {"OASIS_AUTH_UPSTREAM": "auth:8000", "OASIS_GATEWAY_RESOLVER": "127.0.0.11"}
    text = render(GatewayConfig.from_env(environ, runtime_dir=tmp_path, site_root=tmp_path))

    assert "resolver 127.0.0.11 valid=1s ipv6=off;" in text
    assert 'map "" $oasis_upstream_auth {\n        default "auth:8000";' in text
    assert "upstream auth {" not in text
    assert "proxy_pass http://$oasis_upstream_auth/internal/v1/verify;" in text


def test_localhost_stays_fixed_beside_a_resolver(tmp_path):
    environ = {
        "OASIS_AUTH_UPSTREAM": "auth:8000",
        "OASIS_BUILDER_UPSTREAM": "localhost:8004",
        "OASIS_GATEWAY_RESOLVER": "127.0.0.11",
    }
    text = render(GatewayConfig.from_env(environ, runtime_dir=tmp_path, site_root=tmp_path))

    assert "upstream builder {\n        server localhost:8004" in text
    assert "proxy_pass http://builder;" in text
    assert "proxy_pass http://$oasis_upstream_auth;" in text


@pytest.mark.parametrize(
    ("setting", "resolv_conf", "expected"),
    [
        ("off", "nameserver 10.0.0.2\n", ([], "")),
        ("127.0.0.11", "", (["127.0.0.11"], "")),
        ("10.0.0.2, 10.0.0.3", "", (["10.0.0.2", "10.0.0.3"], "")),
        (
            "system",
            "search oasis.svc.cluster.local svc.cluster.local\nnameserver 10.96.0.10\n",
            (["10.96.0.10"], "oasis.svc.cluster.local"),
        ),
        ("system", "nameserver fd00::10\n", (["[fd00::10]"], "")),
        ("", "nameserver 10.96.0.10\n", (["10.96.0.10"], "")),  # names: looked up again by default
    ],
)
def test_the_resolver_setting_is_read(tmp_path, setting, resolv_conf, expected):
    path = tmp_path / "resolv.conf"
    path.write_text(resolv_conf)

    assert resolver_settings(setting, {"auth": "auth:8000"}, path) == expected


def test_without_names_no_resolver_is_asked_for(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("nameserver 10.96.0.10\n")

    assert resolver_settings("", {"auth": "127.0.0.1:8001"}, path) == ([], "")


def test_a_system_resolver_without_nameservers_is_refused(tmp_path):
    path = tmp_path / "resolv.conf"
    path.write_text("search example.com\n")

    with pytest.raises(ConfigError, match="names no nameserver"):
        resolver_settings("system", {"auth": "auth:8000"}, path)


def test_a_resolver_that_is_not_an_address_is_refused(tmp_path):
    config = GatewayConfig(
        runtime_dir=tmp_path, site_root=tmp_path, upstreams={"auth": "auth:8000"}, resolver=["dns; include x"]
    )

    with pytest.raises(ConfigError, match="Resolvers are addresses"):
        render(config)


def test_an_ipv6_resolver_is_asked_for_ipv6_answers_too(tmp_path):
    config = GatewayConfig(
        runtime_dir=tmp_path, site_root=tmp_path, upstreams={"auth": "auth:8000"}, resolver=["[fd00::10]"]
    )

    assert "resolver [fd00::10] valid=1s;" in render(config)


# ---- a real nginx ----


class Records(BaseResolver):
    """A records from a dict, like Docker's embedded DNS: a recreated service gets a new address,
    a service with two containers has two."""

    def __init__(self) -> None:
        self.addresses: dict[str, str | list[str]] = {}

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        found = self.addresses.get(name) or []
        if QTYPE[request.q.qtype] == "A":
            for address in [found] if isinstance(found, str) else found:
                reply.add_answer(RR(request.q.qname, QTYPE.A, rdata=A(address), ttl=600))
        return reply


def _free_port(host: str = "127.0.0.1", kind: int = socket.SOCK_STREAM) -> int:
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _service(name: str, delay: float = 0.0):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:
            time.sleep(delay)
            body = self.path.encode() if name == "echo" else name.encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format, *args) -> None:
            pass

    return Handler


def serving(address: str, port: int, name: str, delay: float = 0.0):
    return gateway_config.served(ThreadingHTTPServer((address, port), _service(name, delay)))


@contextmanager
def dns(records: Records) -> Iterator[int]:
    port = _free_port(kind=socket.SOCK_DGRAM)
    quiet = DNSLogger("-request,-reply,-truncated,-error,-recv,-send,-data")
    server = DNSServer(records, port=port, address="127.0.0.1", logger=quiet)
    server.start_thread()
    try:
        yield port
    finally:
        server.stop()


@pytest.fixture
def loopback_port() -> int:
    """A port free on both stand-in addresses (Linux routes all of 127.0.0.0/8 to loopback)."""
    for _ in range(20):
        port = _free_port("127.0.0.2")
        try:
            with socket.socket() as sock:
                sock.bind(("127.0.0.3", port))
            return port
        except OSError:
            continue
    pytest.skip("no port free on both 127.0.0.2 and 127.0.0.3")


def test_a_recreated_service_is_followed_to_its_new_address_without_a_restart(tmp_path, loopback_port):
    records = Records()
    records.addresses["auth.oasis.test"] = "127.0.0.2"
    with (
        dns(records) as dns_port,
        serving("127.0.0.2", loopback_port, "old"),
        serving("127.0.0.3", loopback_port, "new"),
    ):
        config = gateway_config.stand_in_config(
            tmp_path, {"auth": f"auth.oasis.test:{loopback_port}"}, [f"127.0.0.1:{dns_port}"]
        )
        with gateway_config.stand_in_gateway(tmp_path, config) as (url, _):
            assert requests.get(f"{url}{PUBLIC}", timeout=5).text == "old"
            # The service is recreated: a new container on a new address, the old one gone.
            records.addresses["auth.oasis.test"] = "127.0.0.3"
            deadline = time.monotonic() + 10
            answers = []
            while time.monotonic() < deadline:
                answers.append(requests.get(f"{url}{PUBLIC}", timeout=5).text)
                if answers[-1] == "new":
                    break
                time.sleep(0.25)
            assert answers[-1] == "new", answers
            # Within the resolver's valid=1s (and its own 2 s timeout), not at the next restart.
            assert len(answers) * 0.25 < 4


@contextmanager
def asking(url: str) -> Iterator[list[tuple[int, str]]]:
    """A client asking the gateway every 20 ms, each answer as (status, body)."""
    answers: list[tuple[int, str]] = []
    stop = threading.Event()

    def ask() -> None:
        while not stop.is_set():
            try:
                response = requests.get(f"{url}{PUBLIC}", timeout=10)
                answers.append((response.status_code, response.text))
            except requests.RequestException as exc:
                answers.append((0, type(exc).__name__))
            stop.wait(0.02)

    thread = threading.Thread(target=ask, daemon=True)
    thread.start()
    try:
        yield answers
    finally:
        stop.set()
        thread.join(timeout=15)


def test_a_start_first_replacement_fails_no_request(tmp_path, loopback_port):
    # scripts/release.py replace(): the new container starts beside the old one, both serve for
    # the overlap, then the old one stops listening, and its address leaves the DNS answer.
    records = Records()
    name = "auth.oasis.test"
    records.addresses[name] = ["127.0.0.2"]
    overlap = compose_rules.RELEASE.DEFAULT_OVERLAP_SECONDS
    with dns(records) as dns_port, serving("127.0.0.3", loopback_port, "new"):
        config = gateway_config.stand_in_config(
            tmp_path, {"auth": f"{name}:{loopback_port}"}, [f"127.0.0.1:{dns_port}"]
        )
        with gateway_config.stand_in_gateway(tmp_path, config) as (url, _), ExitStack() as old:
            old.enter_context(serving("127.0.0.2", loopback_port, "old"))
            with asking(url) as answers:
                time.sleep(0.5)
                records.addresses[name] = ["127.0.0.2", "127.0.0.3"]
                time.sleep(overlap)
                both = len(answers)
                old.close()  # the old container stops: its port refuses at once
                stopped = len(answers)
                time.sleep(0.5)
                records.addresses[name] = ["127.0.0.3"]
                time.sleep(1.5)

    assert [answer for answer in answers if answer[0] != 200] == []
    assert {body for _, body in answers[:both]} == {"old", "new"}
    assert {body for _, body in answers[stopped + 1 :]} == {"new"}


def test_a_stream_ticket_reaches_a_looked_up_builder_with_its_path_and_query(tmp_path, loopback_port):
    # The ticket's internal location rewrites the URI; through a variable, it must still arrive whole.
    records = Records()
    records.addresses["builder.oasis.test"] = "127.0.0.2"
    events = "/api/v1/builder/generations/7d1c4a52-9a0e-4a8e-9a55-2f7d5d3c1e00/events/"
    with dns(records) as dns_port, serving("127.0.0.2", loopback_port, "echo"):
        upstreams = {"auth": "127.0.0.1:9", "builder": f"builder.oasis.test:{loopback_port}"}
        config = gateway_config.stand_in_config(tmp_path, upstreams, [f"127.0.0.1:{dns_port}"])
        with gateway_config.stand_in_gateway(tmp_path, config) as (url, _):
            response = requests.get(f"{url}{events}?ticket=tkt-1&last_event_id=3", timeout=10)

    assert response.status_code == 200, response.text
    assert response.text == f"{events}?ticket=tkt-1&last_event_id=3"


def test_a_name_that_does_not_resolve_is_the_json_503_not_a_hang(tmp_path, loopback_port):
    records = Records()
    with dns(records) as dns_port:
        config = gateway_config.stand_in_config(
            tmp_path, {"auth": f"auth.oasis.test:{loopback_port}"}, [f"127.0.0.1:{dns_port}"]
        )
        with gateway_config.stand_in_gateway(tmp_path, config) as (url, _):
            response = requests.get(f"{url}{PUBLIC}", timeout=10)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"


def stop_during_a_request(tmp_path: Path, port: int, stop_signal: int) -> dict:
    """A request that takes 1.5 s, and the gateway told to stop half a second into it."""
    with serving("127.0.0.2", port, "finished", delay=1.5):
        config = gateway_config.stand_in_config(tmp_path, {"auth": f"127.0.0.2:{port}"})
        with gateway_config.stand_in_gateway(tmp_path, config) as (url, process):
            result: dict = {}

            def ask() -> None:
                try:
                    result["response"] = requests.get(f"{url}{PUBLIC}", timeout=10)
                except requests.RequestException as exc:
                    result["error"] = exc

            client = threading.Thread(target=ask)
            client.start()
            time.sleep(0.5)
            process.send_signal(stop_signal)
            client.join(timeout=15)
            process.wait(timeout=25)
    return result


def test_sigquit_lets_a_request_in_flight_finish(tmp_path, loopback_port):
    result = stop_during_a_request(tmp_path, loopback_port, signal.SIGQUIT)

    assert "error" not in result, result
    assert result["response"].status_code == 200
    assert result["response"].text == "finished"


def test_sigterm_the_default_stop_signal_would_drop_it(tmp_path, loopback_port):
    # Why the image says STOPSIGNAL SIGQUIT and compose stop_signal: SIGQUIT.
    result = stop_during_a_request(tmp_path, loopback_port, signal.SIGTERM)

    assert "error" in result or result["response"].status_code != 200, result
