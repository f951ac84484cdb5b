"""Release day against the real compose stack: recreate, reload, scale, under a steady request loop.

Opt-in, because it recreates containers of the running stack: start it (`python3
scripts/release.py release --version <name>`), then `OASIS_LIVE_STACK=1 pytest
tests/deploy/test_release_day_live.py`. It skips, saying why, without that variable, without
Docker Compose v2, or without a gateway answering at OASIS_LIVE_GATEWAY (http://127.0.0.1:8080).
The release tests also need a release recorded by scripts/release.py; each makes its releases
from the current one's images plus one migration in projects, and removes them afterwards.
tests/deploy/live/README.md says how this host ran it without pulling the base images.
"""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import requests

from .compose_rules import RELEASE
from .tools import REPO, compose_command, run

# Releases and rollbacks start Django in one-off containers several times: minutes, not seconds.
pytestmark = pytest.mark.timeout(900)
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
# With one replica, a service compose recreates may fail its own requests for at most this long.
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


def register() -> str:
    """A new user's access token: valid 5 minutes (OASIS_ACCESS_TOKEN_LIFETIME), so one per load."""
    email = f"release-{secrets.token_hex(4)}@example.com"
    body = {"email": email, "password": secrets.token_urlsafe(18), "name": "Release day"}
    answer = requests.post(f"{GATEWAY}/api/v1/auth/register/", json=body, timeout=10)
    answer.raise_for_status()
    return answer.json()["access"]


@pytest.fixture
def token(compose) -> str:
    return register()


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
    # Compose's own recreate (stop the old container, then start the new): one replica is down
    # for the time in between, which must stay under OWN_OUTAGE_SECONDS.
    with steady_load(token) as results:
        compose_ok(compose, "up", "-d", "--no-deps", "--force-recreate", "--wait", service)

    report = {name: Counter(status for _, status in answers) for name, answers in results.items()}
    print(service, f"down {outage_seconds(results[service]):.2f}s", report)
    for name, answers in results.items():
        if name != service:
            assert failures(answers) == [], report
    assert outage_seconds(results[service]) <= OWN_OUTAGE_SECONDS, report


@pytest.mark.parametrize("service", ["auth", "projects", "payments", "builder", "sites", "gateway"])
def test_a_restart_by_the_release_script_fails_no_request_at_all(compose, token, service):
    # Start-first (`scripts/release.py restart`): the new container serves beside the old one
    # before the old one stops, so with one replica not even the service's own requests fail.
    # Two gateways share gateway-port's published port (SO_REUSEPORT).
    with steady_load(token) as results:
        done = release_script("restart", service)
    report = {name: Counter(status for _, status in answers) for name, answers in results.items()}
    print(service, report, done.stdout[-2000:], done.stderr)

    assert done.returncode == 0, done.stdout + done.stderr
    assert f"{service}: restarted" in done.stdout
    assert {name: failures(answers) for name, answers in results.items()} == {name: [] for name in ROUTES}
    assert len(compose_ok(compose, "ps", "-q", service).split()) == 1


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


def test_every_container_is_healthy_within_a_minute_of_up(compose):
    # `up --wait` returns once every container is healthy (the one-shot jobs exited 0): from a
    # stack taken down (its volumes kept), databases, migrations and services all within 60 s.
    compose_ok(compose, "down")
    started = time.monotonic()
    compose_ok(compose, "up", "-d", "--wait")
    took = time.monotonic() - started
    print(f"healthy {took:.1f}s after up")
    output = compose_ok(compose, "ps", "--all", "--format", "json")
    states = [json.loads(line) for line in output.splitlines() if line.strip().startswith("{")]
    unhealthy = [
        state["Service"]
        for state in states
        if not (state.get("Health") == "healthy" or (state["State"] == "exited" and state["ExitCode"] == 0))
    ]
    assert unhealthy == []
    assert took <= 60


PROMETHEUS = "http://127.0.0.1:9090"


def test_prometheus_in_the_metrics_profile_scrapes_every_service(compose):
    image = "prom/prometheus:v3.5.0"  # docker-compose.yml's
    if not run(["docker", "image", "inspect", image], cwd=REPO).ok:
        pytest.skip(f"no {image} image on this host (tests/deploy/live/lookalikes.sh builds a look-alike)")
    metrics = [*compose, "--profile", "metrics"]
    compose_ok(metrics, "up", "-d", "--wait", "prometheus")
    try:
        deadline = time.monotonic() + 60
        health: dict[str, str] = {}
        while time.monotonic() < deadline:
            answer = requests.get(f"{PROMETHEUS}/api/v1/targets", timeout=5).json()
            health = {
                target["labels"]["service"]: target["health"]
                for target in answer["data"]["activeTargets"]
                if target["labels"].get("job") == "oasis"
            }
            if health and set(health.values()) == {"up"}:
                break
            time.sleep(2)
        print(health)
        assert health == dict.fromkeys(("auth", "projects", "payments", "builder", "sites"), "up")
        query = {"query": "django_http_requests_total_by_method_total"}
        answer = requests.get(f"{PROMETHEUS}/api/v1/query", params=query, timeout=5).json()
        assert {series["metric"]["service"] for series in answer["data"]["result"]} >= {"auth", "projects"}
    finally:
        compose_ok(metrics, "rm", "--stop", "--force", "prometheus")


# ---- releases: a failed migration fails nothing; a rollback restores code and schema ----

LIVE_MIGRATION = "0099_live_release_check"
MIGRATION = """\
from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [("projects", "{leaf}")]
    operations = [migrations.RunSQL({sql!r}, reverse_sql={reverse!r})]
"""


def docker(*args: str, timeout: int = 600) -> str:
    result = run(["docker", *args], cwd=REPO, timeout=timeout)
    assert result.ok, result.output
    return result.output


def release_script(*args: str, timeout: int = 900) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "scripts" / "release.py"), *args],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def projects_plan(compose: list[str], version: str) -> list[tuple[str, str, bool]]:
    output = compose_ok_env(
        compose,
        {"OASIS_VERSION": version},
        "run", "--rm", "--no-deps", "-T", "projects-migrate",
        "python", "manage.py", "showmigrations", "--plan",
    )  # fmt: skip
    return RELEASE.migration_plan(output)


def compose_ok_env(compose: list[str], env: dict[str, str], *args: str) -> str:
    result = run([*compose, *args], cwd=REPO, env={**os.environ, **env}, timeout=300)
    assert result.ok, result.output
    return result.output


@pytest.fixture(scope="module")
def current(compose) -> str:
    release = RELEASE.current_release(REPO)
    if not release:
        pytest.skip("no release is recorded: start the stack with `python3 scripts/release.py release`")
    return release


@contextmanager
def release_with_a_migration(compose, current: str, name: str, sql: str, reverse: str) -> Iterator[str]:
    """Release `<current>-<name>`: the current images, projects with one more migration. Removed after."""
    version = f"{current}-{name}-{secrets.token_hex(3)}"
    leaf = [n for app, n, _ in projects_plan(compose, current) if app == "projects"][-1]
    with tempfile.TemporaryDirectory() as context:
        migration = f"{LIVE_MIGRATION}.py"
        (Path(context) / migration).write_text(MIGRATION.format(leaf=leaf, sql=sql, reverse=reverse))
        (Path(context) / "Dockerfile").write_text(
            f"FROM {RELEASE.image('projects', current)}\n"
            f"COPY {migration} /app/projects/migrations/{migration}\n"
        )
        docker("build", "-t", RELEASE.image("projects", version), context)
    for image in RELEASE.IMAGES:
        if image != "projects":
            docker("tag", RELEASE.image(image, current), RELEASE.image(image, version))
    try:
        yield version
    finally:
        for image in RELEASE.IMAGES:
            run(["docker", "image", "rm", RELEASE.image(image, version)], cwd=REPO)


def running_image(compose: list[str], service: str) -> str:
    container = compose_ok(compose, "ps", "-q", service).split()[0]
    return docker("inspect", "--format", "{{.Image}}", container).strip()


def test_a_failed_migration_fails_no_request_and_says_which(compose, token, current):
    broken = release_with_a_migration(compose, current, "broken", "SELECT 1/0", "SELECT 1")
    with broken as version, steady_load(token) as results:
        done = release_script("release", "--no-build", "--version", version)

    report = {name: Counter(status for _, status in answers) for name, answers in results.items()}
    print(done.stdout[-3000:], done.stderr, report)
    assert done.returncode == 1, done.stdout + done.stderr
    assert f"projects: migration projects.{LIVE_MIGRATION} failed" in done.stderr
    assert "division by zero" in done.stderr
    assert f"Nothing was restarted: release {current} keeps serving" in done.stderr
    assert {name: failures(answers) for name, answers in results.items()} == {name: [] for name in ROUTES}
    assert RELEASE.current_release(REPO) == current


def test_an_upgrade_and_its_rollback_restore_code_and_schema_failing_nothing_elsewhere(
    compose, token, current
):
    before = {
        service: running_image(compose, service) for service in ("gateway", "auth", "payments", "projects")
    }
    sql = "CREATE TABLE live_release_check (id integer)"
    with release_with_a_migration(
        compose, current, "upgrade", sql, "DROP TABLE live_release_check"
    ) as version:
        with steady_load(token) as upgrade:
            done = release_script("release", "--no-build", "--version", version)
        print(done.stdout[-3000:], done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr
        assert ("projects", LIVE_MIGRATION, True) in projects_plan(compose, version)
        assert running_image(compose, "projects") != before["projects"]
        for service in ("gateway", "auth", "payments"):
            assert running_image(compose, service) == before[service], f"{service} was recreated"

        with steady_load(register()) as rollback:
            done = release_script("rollback")
        print(done.stdout[-3000:], done.stderr)
        assert done.returncode == 0, done.stdout + done.stderr
        assert "projects: projects back to" in done.stdout
        # The schema is the old release's again: the newer image sees its migration unapplied.
        assert ("projects", LIVE_MIGRATION, False) in projects_plan(compose, version)
        assert running_image(compose, "projects") == before["projects"]
        assert RELEASE.current_release(REPO) == current

    # Projects is replaced start-first both ways: no request fails, its own included.
    found = []
    for phase, results in (("upgrade", upgrade), ("rollback", rollback)):
        report = {name: dict(Counter(status for _, status in answers)) for name, answers in results.items()}
        print(phase, report, f"projects down {outage_seconds(results['projects']):.2f}s")
        found += [(phase, name, report) for name, answers in results.items() if failures(answers)]
    assert found == []
