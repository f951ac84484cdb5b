"""The gateway's token check under a burst: one check per credential at a time, none kept past its window.

A real nginx, rendered by gateway/render.py, in front of a stand-in auth whose check takes a
while and counts what it is asked, and a stand-in projects service.
"""

from __future__ import annotations

import concurrent.futures
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests

from . import gateway_config
from .gateway_config import renderer

PROJECTS = "/api/v1/projects/"
USER_ID = "5f0c8f0e-58c5-4c8e-9d4b-0d7f3c3a8c11"
# Long enough that a burst's requests all arrive while the first check is still out.
CHECK_SECONDS = 0.4


class StandInAuth:
    """Answers the gateway's checks after CHECK_SECONDS: 200 for every credential until refusing."""

    def __init__(self) -> None:
        self.checks: Counter[str] = Counter()
        self.refusing = False
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.checks[self.headers.get("Authorization", "")] += 1
                time.sleep(CHECK_SECONDS)
                self.send_response(401 if outer.refusing else 200)
                if not outer.refusing:
                    self.send_header("X-User-Id", USER_ID)
                    self.send_header("X-Oasis-Token", "header.payload.signature")
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format, *args) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.server_address[1]}"


class Projects(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"[]")

    def log_message(self, format, *args) -> None:
        pass


@pytest.fixture
def gateway(tmp_path: Path) -> Iterator[tuple[str, StandInAuth, int]]:
    auth = StandInAuth()
    projects = ThreadingHTTPServer(("127.0.0.1", 0), Projects)
    upstreams = {"auth": auth.address, "projects": f"127.0.0.1:{projects.server_address[1]}"}
    # Two workers: the cache and its lock are shared between them.
    config = replace(gateway_config.stand_in_config(tmp_path, upstreams), worker_processes="2")
    with (
        gateway_config.served(auth.server),
        gateway_config.served(projects),
        gateway_config.stand_in_gateway(tmp_path, config) as (url, _),
    ):
        yield url, auth, config.auth_cache_seconds


def burst(url: str, token: str, count: int = 20) -> list[int]:
    headers = {"Authorization": f"Bearer {token}"}

    def ask(_) -> int:
        return requests.get(f"{url}{PROJECTS}", headers=headers, timeout=10).status_code

    with concurrent.futures.ThreadPoolExecutor(count) as pool:
        return list(pool.map(ask, range(count)))


def test_a_burst_with_one_token_waits_for_one_check(gateway):
    url, auth, _ = gateway

    assert burst(url, "first-sight") == [200] * 20
    # One check; two when the burst straddles the end of a cache window.
    assert auth.checks["Bearer first-sight"] <= 2


def test_a_burst_after_the_cached_check_expired_still_waits_for_one_check(gateway):
    """An expired cache element would send every request of the burst to auth at once."""
    url, auth, cache_seconds = gateway
    assert burst(url, "seen-before", count=1) == [200]
    # The time passing is the state here: that answer has expired.
    time.sleep(cache_seconds + 0.5)

    assert burst(url, "seen-before") == [200] * 20
    assert auth.checks["Bearer seen-before"] <= 3


def test_a_refusal_applies_once_the_cached_answer_window_ends(gateway):
    url, auth, cache_seconds = gateway
    assert burst(url, "revoked-soon", count=1) == [200]
    auth.refusing = True
    refused_at = time.monotonic()

    while burst(url, "revoked-soon", count=1) != [401]:
        assert time.monotonic() - refused_at < cache_seconds + CHECK_SECONDS + 1
        time.sleep(0.1)


@pytest.mark.parametrize("seconds", [0, 1, 2, 3, 4, 5])
def test_every_cache_window_is_at_most_the_answers_lifetime_and_they_cover_every_second(seconds):
    windows = renderer.verify_windows(seconds)
    covered = []
    for digits, name in windows:
        low, high = int(digits[1]), int(digits[3])
        assert high - low + 1 <= max(seconds, 1)
        assert name == str(low)
        covered.extend(range(low, high + 1))
    assert covered == list(range(10))
