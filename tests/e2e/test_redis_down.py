"""Redis is a cache, never the only copy: with it hung, dead or back empty, signed-in users keep working.

A system of its own (auth alone, behind the gateway) on a private Redis (no persistence) that the
tests freeze, kill and bring back empty. Every revocation is refused all along: auth keeps it in
its database and reads that whenever the cache misses or fails.
"""

import os
import signal
import time
from urllib.parse import urlsplit

import pytest

from tests.e2e.conftest import Client, bearer, fresh_ip, register, sign_in
from tests.e2e.system import SERVICES, System

SKIP_SECONDS = 5  # how long an auth process leaves Redis alone after a failure (tokens.shared_cache)


@pytest.fixture(scope="module")
def running(tmp_path_factory):
    if "auth" not in SERVICES:
        pytest.skip("needs auth")
    system = System(root=tmp_path_factory.mktemp("redis-down"), services=("auth",))
    try:
        url = system.start_redis()
        system.redis_port = urlsplit(url).port
        system.env_overrides = {"auth": {"REDIS_URL": url, "OASIS_CACHE_KEY_PREFIX": f"e2e-{system.run_id}"}}
        system.start()
    except Exception:
        system.stop()
        raise
    yield system
    redis_up(system)
    system.stop()


def redis_up(system: System) -> None:
    """Redis answering: thawed if frozen, started again (empty) if dead."""
    process = system.processes["redis"]
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGCONT)
    else:
        system.start_redis(port=system.redis_port)


def redis_hung(system: System) -> None:
    """Redis accepts connections and never answers: every call waits out auth's socket timeout."""
    redis_up(system)
    os.killpg(system.pid("redis"), signal.SIGSTOP)


def redis_dead(system: System) -> None:
    redis_up(system)
    system.stop_process("redis", signal.SIGKILL)


@pytest.fixture
def gateway(running) -> Client:
    """A client of a system whose Redis answers and whose auth processes remember no failure of it."""
    redis_up(running)
    running.stop_process("auth")
    running.start_service("auth")
    return Client(running.url, source_ip=fresh_ip())


@pytest.fixture
def account(gateway) -> dict:
    user = register(gateway)
    return {**user, **sign_in(gateway, user["email"])}


def me(gateway: Client, access: str) -> int:
    return gateway.get("/api/v1/auth/me/", headers=bearer(access)).status_code


def log_out(gateway: Client, access: str) -> None:
    response = gateway.post("/api/v1/auth/logout/", json={}, headers=bearer(access))
    assert response.status_code == 204, response.text


def test_with_redis_hung_requests_go_on_without_waiting_for_it_each_time(running, gateway, account):
    assert me(gateway, account["access"]) == 200
    redis_hung(running)
    try:
        started = time.monotonic()
        for _ in range(10):
            assert me(gateway, account["access"]) == 200
        # Each request asks Redis twice (the gateway's check, then auth's own): 40 s, were every
        # call to wait out the 2 s timeout; one wait per web process, once the cache is skipped.
        assert time.monotonic() - started < 15
        elsewhere = sign_in(gateway, account["email"])
        log_out(gateway, elsewhere["access"])
        assert me(gateway, elsewhere["access"]) == 401
    finally:
        redis_up(running)


def test_with_redis_dead_users_sign_in_refresh_and_sign_out(running, gateway, account):
    signed_out_before = sign_in(gateway, account["email"])
    log_out(gateway, signed_out_before["access"])
    redis_dead(running)
    try:
        assert me(gateway, account["access"]) == 200
        assert me(gateway, signed_out_before["access"]) == 401

        fresh = sign_in(gateway, account["email"])
        rotated = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": fresh["refresh"]})
        assert rotated.status_code == 200, rotated.text
        assert me(gateway, rotated.json()["access"]) == 200

        log_out(gateway, fresh["access"])
        assert me(gateway, fresh["access"]) == 401
    finally:
        redis_up(running)


def test_a_redis_back_without_its_data_still_refuses_what_was_revoked(running, gateway, account):
    signed_out = sign_in(gateway, account["email"])
    log_out(gateway, signed_out["access"])
    assert me(gateway, signed_out["access"]) == 401  # its mark is in Redis now

    redis_dead(running)
    redis_up(running)  # empty: no persistence
    for _ in range(4):  # each web process finds its old connections gone, once
        assert me(gateway, account["access"]) == 200
    time.sleep(SKIP_SECONDS + 1)  # and uses Redis again after its pause

    assert me(gateway, signed_out["access"]) == 401
    assert me(gateway, account["access"]) == 200
