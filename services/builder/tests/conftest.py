"""Fixtures for the builder tests: callers with tokens, the real demo model, fake peers over HTTP."""

import os
import re
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path

import openai._base_client
import pytest
import requests
import responses
from rest_framework.test import APIClient

from catalog.registry import catalog_sync
from generations import peers as peer_calls
from generations import runner
from oasis_common.testing import clear_cache, user_token
from tests import peers

DEMO_DIR = Path(__file__).resolve().parents[2] / "demo_model"


@pytest.fixture(scope="session", autouse=True)
def _close_stray_connections(django_db_setup, django_db_blocker):
    """Threads (heartbeats, async views' executors) keep connections; end them before the test DB goes."""
    yield
    from django.db import connection

    if connection.vendor == "postgresql":
        with django_db_blocker.unblock(), connection.cursor() as cursor:
            cursor.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )


@pytest.fixture(autouse=True)
def _clean_cache(request):
    for name in ("transactional_db", "db"):
        if name in request.fixturenames:
            request.getfixturevalue(name)
            clear_cache()
            break


@pytest.fixture(autouse=True)
def _short_pauses(monkeypatch):
    """Every retry keeps its order, count and deadline; only the pauses between them shrink.

    The tests wait for states, never for times, so production's pauses (a quarter second
    doubling, the SDK's half second) would only make the suite slow.
    """
    monkeypatch.setattr(peer_calls, "BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(peer_calls, "BACKOFF_MAX_SECONDS", 0.05)
    monkeypatch.setattr(runner, "RETRY_BACKOFF_SECONDS", 0.01)
    monkeypatch.setattr(openai._base_client, "INITIAL_RETRY_DELAY", 0.01)
    monkeypatch.setattr(openai._base_client, "MAX_RETRY_DELAY", 0.05)


@pytest.fixture
def user_id():
    return uuid.uuid4()


@pytest.fixture
def other_user_id():
    return uuid.uuid4()


def client_for(user_id) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(user_id)}")
    return client


@pytest.fixture
def api(user_id):
    return client_for(user_id)


@pytest.fixture
def other_api(other_user_id):
    return client_for(other_user_id)


@pytest.fixture
def database_queue(settings):
    """Runs queued in the database, as in production (the suite's default queue keeps nothing)."""
    # django-tasks resets its backends when TASKS changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["generations"]}}


@pytest.fixture
def demo_catalog(db, settings):
    return catalog_sync()


# ---- the demo model, for real, over HTTP ----


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class DemoModel:
    """The project's demo model server in a child process, with its fault-injection controls."""

    def __init__(self, **env) -> None:
        self.port = _free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [sys.executable, "-m", "oasis_demo_model"],
            env={
                **os.environ,
                "PYTHONPATH": str(DEMO_DIR),
                "OASIS_DEMO_HOST": "127.0.0.1",
                "OASIS_DEMO_PORT": str(self.port),
                "OASIS_DEMO_ACCESS_LOG": "0",
                # The Retry-After a 429 announces (the SDK waits for it).
                "OASIS_DEMO_RETRY_AFTER_MS": "20",
                **env,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                if requests.get(f"{self.url}/healthz", timeout=1).ok:
                    return
            except requests.RequestException:
                time.sleep(0.05)
        raise RuntimeError("the demo model did not start")

    def faults(self, *faults) -> None:
        requests.post(
            f"{self.url}/_control/faults", json={"faults": list(faults)}, timeout=5
        ).raise_for_status()

    def reset(self) -> None:
        requests.delete(f"{self.url}/_control/faults", timeout=5)
        requests.delete(f"{self.url}/_control/stats", timeout=5)

    def stats(self) -> dict:
        return requests.get(f"{self.url}/_control/stats", timeout=5).json()

    def calls(self) -> list[dict]:
        return requests.get(f"{self.url}/_control/calls", timeout=5).json()["calls"]

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


@pytest.fixture(scope="session")
def demo_model():
    server = DemoModel()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def slow_demo_model():
    """Slow enough (seconds a build) to cancel a run mid-stream."""
    server = DemoModel(OASIS_DEMO_TOKENS_PER_SECOND="400")
    yield server
    server.stop()


def use_demo(url: str) -> None:
    catalog_sync(
        entries=[
            {
                "slug": "oasis-demo",
                "display_name": "Oasis demo",
                "upstream_model": "oasis-demo",
                "base_url": f"{url}/v1",
                "api_key_env": "",
                "context_window": 32768,
                "max_output_tokens": 4096,
                "input_price": 1000,
                "output_price": 4000,
                "options": ["temperature", "reasoning_effort"],
                "is_default": True,
                "enabled": True,
            }
        ]
    )


@pytest.fixture
def demo(demo_model, transactional_db):
    demo_model.reset()
    use_demo(demo_model.url)
    return demo_model


@pytest.fixture
def slow_demo(slow_demo_model, transactional_db):
    slow_demo_model.reset()
    use_demo(slow_demo_model.url)
    return slow_demo_model


@pytest.fixture
def fakes():
    """projects, payments and auth as the builder sees them over HTTP; the model stays real."""
    projects, payments = peers.FakeProjects(), peers.FakePayments()
    with responses.RequestsMock(assert_all_requests_are_fired=False) as mock:
        mock.add_passthru(re.compile(r"http://127\.0\.0\.1:\d+/"))
        peers.install(mock, projects, payments)
        yield projects, payments
