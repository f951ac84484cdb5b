"""Stream tickets at the gateway: the one way past the token check, and never in the access log.

A browser's EventSource cannot send a header, so the builder's events URL takes a stream ticket
in the query, which the builder checks. The rendered config is read as a whole (every location
that reaches a service checks the token, is public, or is the ticket's internal location), and a
real nginx, in front of a stand-in builder and with no auth at all, shows where a request goes
and what it logs.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from . import gateway_config
from .tools import REPO

sys.path.insert(0, str(REPO / "gateway"))

from render import GatewayConfig, prepare_runtime, render
from routes import ROUTES

TICKET = "tkt-0123456789abcdefghijklmnopqrstuvwxyzABCDEF"
EVENTS = "/api/v1/builder/generations/7d1c4a52-9a0e-4a8e-9a55-2f7d5d3c1e00/events/"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def rendered(tmp_path: Path) -> str:
    """Every service routed, published sites too."""
    services = ("auth", "projects", "payments", "builder", "sites")
    config = GatewayConfig(
        runtime_dir=tmp_path,
        site_root=tmp_path / "site",
        upstreams={service: f"127.0.0.1:{8001 + n}" for n, service in enumerate(services)},
        sites_store="/srv/oasis/sites",
        sites_domain="sites.example.com",
    )
    return render(config)


def without_comments(text: str) -> str:
    """The config without its `#` comments (a `#` inside quotes is no comment)."""
    kept, quote, index = [], "", 0
    while index < len(text):
        char = text[index]
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "#":
            index = text.find("\n", index)
            if index == -1:
                break
            continue
        kept.append(char)
        index += 1
    return "".join(kept)


def blocks(text: str) -> list[tuple[str, str]]:
    """Every `{ }` block of an nginx config as (its header, its body), nested ones too."""
    text = without_comments(text)
    found, stack = [], []
    statement_start, quote = 0, ""
    for index, char in enumerate(text):
        if quote:
            if char == quote:
                quote = ""
        elif char in "'\"":
            quote = char
        elif char == "{":
            stack.append((" ".join(text[statement_start:index].split()), index + 1))
            statement_start = index + 1
        elif char == "}":
            header, start = stack.pop()
            found.append((header, text[start:index]))
            statement_start = index + 1
        elif char == ";":
            statement_start = index + 1
    return found


def locations(text: str) -> dict[str, str]:
    return {header: body for header, body in blocks(text) if header.startswith("location ")}


def test_the_events_stream_skips_the_token_check_only_for_a_ticket_without_a_header(tmp_path):
    text = rendered(tmp_path)
    found = locations(text)

    events = found[r"location ~ ^/api/v1/builder/generations/[^/]+/events/?$"]
    ticket = found["location ^~ /_oasis_ticket/builder/"]

    assert 'map "$http_authorization:$arg_ticket" $oasis_stream_ticket' in text
    assert '"~^:." 1;' in text
    assert "if ($oasis_stream_ticket) {\n                rewrite ^ /_oasis_ticket/builder$uri last;" in events
    assert "auth_request /_oasis_verify;" in events
    assert "internal;" in ticket
    assert "auth_request" not in ticket
    assert 'proxy_set_header Authorization "";' in ticket
    assert 'proxy_set_header X-User-Id "";' in ticket
    assert "rewrite ^/_oasis_ticket/builder(/.*)$ $1 break;" in ticket
    # The stream's own settings: nothing buffered, cached or compressed, open for long.
    for setting in ("proxy_buffering off;", "proxy_cache off;", "proxy_read_timeout 3600s;", "gzip off;"):
        assert setting in events
        assert setting in ticket


def test_nothing_else_reaches_a_service_without_the_token_check(tmp_path):
    text = rendered(tmp_path)
    public = {f"location = {path}" for route in ROUTES for path in route.public_paths}
    public |= {f"location {prefix}" for route in ROUTES for prefix in route.public_prefixes}

    unchecked = {
        header
        for header, body in locations(text).items()
        if "proxy_pass" in body and "auth_request" not in body and header not in public
    }

    assert unchecked == {"location = /_oasis_verify", "location ^~ /_oasis_ticket/builder/"}
    assert all("internal;" in locations(text)[header] for header in unchecked)
    # The ticket's location is reached by one rewrite only: in the events stream, for a ticket.
    rewrites = [(header, body.split()) for header, body in blocks(text) if "/_oasis_ticket/" in body]
    assert ("if ($oasis_stream_ticket)", ["rewrite", "^", "/_oasis_ticket/builder$uri", "last;"]) in rewrites
    assert text.count("/_oasis_ticket/builder$uri") == 1


def test_only_the_streams_that_take_tickets_are_rewritten():
    for route in ROUTES:
        assert set(route.ticket_streams) <= set(route.streams), route.service
    assert [route.service for route in ROUTES if route.ticket_streams] == ["builder"]


def test_without_the_builder_no_ticket_location_is_rendered(tmp_path):
    config = GatewayConfig(
        runtime_dir=tmp_path, site_root=tmp_path / "site", upstreams={"auth": "127.0.0.1:8001"}
    )

    assert "_oasis_ticket" not in render(config)


def test_the_access_log_records_a_masked_uri_never_the_query_as_sent(tmp_path):
    text = rendered(tmp_path)
    log_format = text[text.index("log_format oasis_json") : text.index("access_log ")]

    assert "$request_uri" not in log_format
    assert "$args" not in log_format
    assert "$query_string" not in log_format
    assert '"uri":"$oasis_log_uri"' in log_format
    ticket = locations(text)["location ^~ /_oasis_ticket/builder/"]
    assert "error_log stderr crit;" in ticket


# ---- a real nginx: where each request goes, and what it logs ----


class _Recorder(BaseHTTPRequestHandler):
    seen: list[dict] = []

    def do_GET(self) -> None:
        type(self).seen.append({"path": self.path, "headers": dict(self.headers)})
        body = b"id: 1\nevent: done\ndata: {}\n\n"
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format, *args) -> None:
        pass


@contextmanager
def builder_stand_in() -> Iterator[tuple[str, list[dict]]]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    _Recorder.seen = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}", _Recorder.seen
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def gateway(tmp_path):
    """A gateway in front of the stand-in builder; auth is a closed port, so any token check fails (503)."""
    with builder_stand_in() as (builder, seen):
        port = _free_port()
        config = GatewayConfig(
            runtime_dir=tmp_path,
            site_root=tmp_path / "site",
            upstreams={"auth": f"127.0.0.1:{_free_port()}", "builder": builder},
            listen=f"127.0.0.1:{port}",
            access_log=f"{tmp_path}/access.log oasis_json",
            worker_processes="1",
            user="root" if os.geteuid() == 0 else "",
        )
        prepare_runtime(config)
        config.site_root.mkdir(parents=True, exist_ok=True)
        url = f"http://127.0.0.1:{port}"
        with gateway_config.running_nginx(tmp_path, render(config), url):
            yield url, seen, tmp_path


def logged(root: Path, count: int) -> list[dict]:
    """The access log's lines, once there are `count` (nginx writes each just after answering)."""
    deadline = time.monotonic() + 5
    while True:
        lines = (root / "access.log").read_text().splitlines() if (root / "access.log").exists() else []
        if len(lines) >= count or time.monotonic() > deadline:
            return [json.loads(line) for line in lines]
        time.sleep(0.05)


def test_a_ticket_without_a_header_reaches_the_builder_unchecked_and_unbuffered(gateway):
    url, seen, _ = gateway

    response = requests.get(f"{url}{EVENTS}?ticket={TICKET}&last_event_id=3", timeout=10)

    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"] == "text/event-stream"
    assert seen[0]["path"] == f"{EVENTS}?ticket={TICKET}&last_event_id=3"
    assert "Authorization" not in seen[0]["headers"]
    assert seen[0]["headers"].get("X-User-Id", "") == ""


@pytest.mark.parametrize(
    ("path", "headers"),
    [
        (f"{EVENTS}?ticket={TICKET}", {"Authorization": "Bearer not-checked-here"}),  # a header: checked
        (EVENTS, {}),  # neither
        (f"{EVENTS}?ticket=", {}),  # an empty ticket
        (f"{EVENTS}ticket/?ticket={TICKET}", {}),  # another builder path
        (f"/api/v1/builder/generations/?ticket={TICKET}", {}),
        (f"/api/v1/builder/projects/x/generations/?ticket={TICKET}", {}),
    ],
)
def test_everything_else_gets_the_token_check(gateway, path, headers):
    url, seen, _ = gateway

    response = requests.get(f"{url}{path}", headers=headers, timeout=10)

    # Auth is unreachable: a checked request is refused before it reaches the builder.
    assert response.status_code in (401, 503), response.text
    assert seen == []


def test_the_ticket_location_cannot_be_asked_for_directly(gateway):
    url, seen, _ = gateway

    response = requests.get(f"{url}/_oasis_ticket/builder{EVENTS}?ticket={TICKET}", timeout=10)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert seen == []


def test_no_ticket_reaches_the_logs(gateway):
    url, _, root = gateway
    paths = [
        f"{EVENTS}?ticket={TICKET}",
        f"{EVENTS}?last_event_id=2&ticket={TICKET}",
        f"{EVENTS}?Ticket={TICKET}",
        f"{EVENTS}?tick%65t={TICKET}",
        f"/_oasis_ticket/builder{EVENTS}?ticket={TICKET}",
        f"{EVENTS}?last_event_id=5",
    ]
    for path in paths:
        requests.get(f"{url}{path}", timeout=10)

    lines = [line for line in logged(root, len(paths) + 1) if line["uri"] != "/healthz"]

    assert [line["uri"] for line in lines] == [
        f"{EVENTS}?[redacted]",
        f"{EVENTS}?[redacted]",
        f"{EVENTS}?[redacted]",
        f"{EVENTS}?[redacted]",
        f"/_oasis_ticket/builder{EVENTS}?[redacted]",
        f"{EVENTS}?last_event_id=5",
    ]
    assert TICKET not in (root / "access.log").read_text()
