"""Release day against the real compose stack: recreate, reload, scale, under a steady request loop.

Opt-in, because it recreates containers of the running stack: start it (`docker compose up -d
--build --wait`), then `OASIS_LIVE_STACK=1 pytest tests/deploy/test_release_day_live.py`. It
skips, saying why, without that variable, without Docker Compose v2, or without a gateway
answering at OASIS_LIVE_GATEWAY (http://127.0.0.1:8080).
"""

from __future__ import annotations

import json
import os
import secrets
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
import requests

from .tools import REPO, compose_command, run

GATEWAY = os.environ.get("OASIS_LIVE_GATEWAY", "http://127.0.0.1:8080").rstrip("/")
# One route per service, each answered by that service alone (the token check aside).
ROUTES = {
    "auth": "/api/v1/auth/me/",
    "projects": "/api/v1/projects/",
    "payments": "/api/v1/payments/balance/",
    "builder": "/api/v1/builder/models/",
    "sites": "/api/v1/sites/",
    "gateway": "/healthz",
}
PER_ROUTE_PER_SECOND = 4
# With one replica, a recreated service may fail its own requests for at most this long.
OWN_OUTAGE_SECONDS = 1.0
# nginx's graceful reload, inside the gateway container (its runtime directory is the image's).
RELOAD = 'nginx -s reload -p "$OASIS_GATEWAY_RUNTIME_DIR" -c nginx.conf'


@pytest.fixture(scope="module")
def compose() -> list[str]:
    if os.environ.get("OASIS_LIVE_STACK") != "1":
        pytest.skip(
            "set OASIS_LIVE_STACK=1 with the stack up (docker compose up -d --wait); "
            "this recreates containers"
        )
    command, why_not = compose_command()
    if command is None:
        pytest.skip(why_not)
    try:
        requests.get(f"{GATEWAY}/healthz", timeout=3).raise_for_status()
    except requests.RequestException as exc:
        pytest.skip(f"no gateway answers at {GATEWAY} ({exc}); start the stack first")
    return [*command, "--project-directory", str(REPO)]


@pytest.fixture(scope="module")
def token(compose) -> str:
    email = f"release-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": secrets.token_urlsafe(18), "name": "Release day"}
    answer = requests.post(f"{GATEWAY}/api/v1/auth/register/", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()["access"]


@contextmanager
def steady_load(token: str) -> Iterator[dict[str, list[tuple[float, int]]]]:
    """Every route asked PER_ROUTE_PER_SECOND times a second; each answer as (time, status or 0)."""
    results: dict[str, list[tuple[float, int]]] = {service: [] for service in ROUTES}
    stop = threading.Event()

    def ask(service: str, path: str) -> None:
        session = requests.Session()
        headers = {"Authorization": f"Bearer {token}"} if service != "gateway" else {}
        while not stop.is_set():
            started = time.monotonic()
            try:
                status = session.get(f"{GATEWAY}{path}", headers=headers, timeout=10).status_code
            except requests.RequestException:
                status = 0
            results[service].append((started, status))
            stop.wait(max(0.0, 1 / PER_ROUTE_PER_SECOND - (time.monotonic() - started)))

    threads = [threading.Thread(target=ask, args=item, daemon=True) for item in ROUTES.items()]
    for thread in threads:
        thread.start()
    try:
        time.sleep(2)
        yield results
        time.sleep(2)
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=15)


def failures(answers: list[tuple[float, int]]) -> list[tuple[float, int]]:
    return [(at, status) for at, status in answers if status != 200]


def outage_seconds(answers: list[tuple[float, int]]) -> float:
    failed = [at for at, _ in failures(answers)]
    return (max(failed) - min(failed)) if failed else 0.0


def compose_ok(compose: list[str], *args: str, timeout: int = 300) -> str:
    result = run([*compose, *args], cwd=REPO, timeout=timeout)
    assert result.ok, result.output
    return result.output


@pytest.mark.parametrize("service", ["projects", "payments", "builder", "sites"])
def test_recreating_one_service_fails_no_request_on_any_other_route(compose, token, service):
    with steady_load(token) as results:
        compose_ok(compose, "up", "-d", "--no-deps", "--force-recreate", "--wait", service)

    report = {name: Counter(status for _, status in answers) for name, answers in results.items()}
    for name, answers in results.items():
        if name != service:
            assert failures(answers) == [], report
    assert outage_seconds(results[service]) <= OWN_OUTAGE_SECONDS, report


def test_reloading_the_gateway_fails_no_request(compose, token):
    with steady_load(token) as results:
        compose_ok(compose, "exec", "-T", "gateway", "sh", "-c", RELOAD)
        time.sleep(2)

    assert {name: failures(answers) for name, answers in results.items()} == {name: [] for name in ROUTES}


def test_a_scale_out_survives_the_next_plain_up(compose):
    def workers() -> int:
        output = compose_ok(compose, "ps", "--format", "json", "builder-worker")
        lines = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
        return sum(1 for line in lines if line.get("State") == "running")

    env = {**os.environ, "OASIS_BUILDER_WORKERS": "2"}
    try:
        assert run([*compose, "up", "-d", "--wait"], cwd=REPO, env=env, timeout=300).ok
        assert run([*compose, "up", "-d", "--wait"], cwd=REPO, env=env, timeout=300).ok
        assert workers() == 2
    finally:
        run([*compose, "up", "-d", "--wait"], cwd=REPO, timeout=300)
