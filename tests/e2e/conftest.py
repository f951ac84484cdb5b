"""Fixtures for end-to-end tests: one running system per test session, and clients that use it."""

from __future__ import annotations

import itertools
import os
import time
import uuid
from collections.abc import Callable
from typing import TypeVar

import pytest
import requests
from requests.adapters import HTTPAdapter

from tests.e2e.dns_records import DnsServer
from tests.e2e.system import System

PASSWORD = "a perfectly long passphrase"
# How often a wait looks again at the state it waits for.
POLL_SECONDS = 0.05
T = TypeVar("T")
_addresses = itertools.count(2)


class Client(requests.Session):
    """A requests session against one base URL, optionally from its own loopback address."""

    def __init__(self, base_url: str, source_ip: str | None = None) -> None:
        super().__init__()
        self.base_url = base_url.rstrip("/")
        if source_ip:
            adapter = _SourceAddressAdapter(source_ip)
            self.mount("http://", adapter)

    def request(self, method, url, *args, **kwargs):
        if url.startswith("/"):
            url = self.base_url + url
        kwargs.setdefault("timeout", 30)
        return super().request(method, url, *args, **kwargs)


class _SourceAddressAdapter(HTTPAdapter):
    def __init__(self, source_ip: str) -> None:
        self.source_ip = source_ip
        super().__init__()

    def init_poolmanager(self, *args, **kwargs):
        kwargs["source_address"] = (self.source_ip, 0)
        super().init_poolmanager(*args, **kwargs)


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    running = System(root=tmp_path_factory.mktemp("system"))
    with running.running():
        yield running
    if os.environ.get("OASIS_E2E_SHOW_LOGS"):
        for name in running.processes:
            print(f"===== {name} =====\n{running.log(name)}")


@pytest.fixture(scope="module")
def dns(system):
    """The DNS server sites checks custom domains against (the harness points it at this port)."""
    server = DnsServer(system.dns_port).start()
    yield server.records
    server.stop()


def fresh_ip() -> str:
    """A loopback address no other test uses, so per-IP limits do not leak between tests."""
    n = next(_addresses)
    return f"127.0.{n // 250}.{n % 250 + 2}"


@pytest.fixture
def gateway(system) -> Client:
    return Client(system.url, source_ip=fresh_ip())


def register(client: Client, email: str | None = None, password: str = PASSWORD) -> dict:
    email = email or f"user-{uuid.uuid4().hex[:10]}@example.com"
    response = client.post(
        "/api/v1/auth/register/", json={"email": email, "password": password, "name": "E2E"}
    )
    assert response.status_code == 201, response.text
    return {**response.json(), "password": password}


def sign_in(client: Client, email: str, password: str = PASSWORD) -> dict:
    response = client.post("/api/v1/auth/token/", json={"email": email, "password": password})
    assert response.status_code == 200, response.text
    return response.json()


def bearer(token: str) -> dict:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def account(gateway) -> dict:
    """A registered, signed-in user: email, password, id, access, refresh."""
    user = register(gateway)
    return {**user, **sign_in(gateway, user["email"])}


def eventually(observe: Callable[[], T], accept: Callable[[T], bool], *, timeout: float, what: str) -> T:
    """Observe until `accept` takes what is seen, and return it; past `timeout`, fail with the last sight.

    The only pause here is the polling interval: tests wait for a state, never for a time.
    """
    deadline = time.monotonic() + timeout
    while True:
        seen = observe()
        if accept(seen):
            return seen
        assert time.monotonic() < deadline, f"{what}: not after {timeout:g}s; last seen: {seen!r}"
        time.sleep(POLL_SECONDS)
