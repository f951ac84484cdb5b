"""One running system for the fault-injection suite: the e2e harness, tuned so a fault costs seconds.

The demo model is paced, so a first build lasts a few seconds and a test can act while it runs;
workers beat and sweep every half second, so a lost worker is noticed within seconds. On
PostgreSQL + Redis (OASIS_TEST_DATABASE_URL and OASIS_TEST_REDIS_URL set) the system gets a
Redis of its own, so killing it touches no other suite; on SQLite it runs without Redis, as
`make test` runs the services there.
"""

from __future__ import annotations

import os

import pytest

from tests.e2e.conftest import Client, bearer, fresh_ip, register, sign_in
from tests.e2e.system import System

POSTGRES = bool(os.environ.get("OASIS_TEST_DATABASE_URL", "").strip())
REDIS = bool(os.environ.get("OASIS_TEST_REDIS_URL", "").strip())
SERVICES = ("auth", "projects", "payments", "builder")
# The first build writes about 2,100 tokens: some four seconds at this pace.
TOKENS_PER_SECOND = "500"
# While Redis is down, streams poll the database at this pace; slower than the default, so that a
# test can tell live delivery (milliseconds) from polling.
POLL_SECONDS_WITH_REDIS = "2"

BUILDER_ENV = {
    "OASIS_GENERATION_HEARTBEAT_SECONDS": "0.5",
    "OASIS_GENERATION_STALE_AFTER_SECONDS": "3",
    "OASIS_WORKER_SWEEP_SECONDS": "0.5",
}


@pytest.fixture(scope="session")
def system(tmp_path_factory):
    running = System(root=tmp_path_factory.mktemp("chaos"), services=SERVICES)
    running.env_overrides = {
        "demo-model": {"OASIS_DEMO_TOKENS_PER_SECOND": TOKENS_PER_SECOND},
        "builder": dict(BUILDER_ENV),
    }
    try:
        if REDIS:
            running.redis_url = running.start_redis()
            for service in SERVICES:
                running.env_overrides.setdefault(service, {})["REDIS_URL"] = running.redis_url
            running.env_overrides["builder"]["OASIS_SSE_POLL_SECONDS"] = POLL_SECONDS_WITH_REDIS
        running.start()
    except Exception:
        running.stop()
        raise
    yield running
    running.stop()
    if os.environ.get("OASIS_E2E_SHOW_LOGS"):
        for name in running.processes:
            print(f"===== {name} =====\n{running.log(name)}")


@pytest.fixture
def gateway(system) -> Client:
    return Client(system.url, source_ip=fresh_ip())


@pytest.fixture
def auth(gateway) -> dict:
    """The headers of a new, signed-in user, who has only the welcome credits."""
    user = register(gateway)
    return bearer(sign_in(gateway, user["email"])["access"])
