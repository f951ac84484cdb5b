"""The studio in headless Chromium: one running system (with the studio built) and one browser per session."""

from __future__ import annotations

import json
import re
import shutil
import sys
import uuid
from pathlib import Path

import pytest
import requests

from tests.e2e.system import REPO, SERVICES, System

sys.path.insert(0, str(REPO / "scripts"))
from platform_tools import ensure_chromium
from studio import build_studio

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
PASSWORD = "a perfectly long passphrase"
SLOW_MODEL = "oasis-demo-slow"
# Slower still: a build goes on for a minute, long enough to act on while it runs (then cancelled).
CRAWL_MODEL = "oasis-demo-crawl"
# What the studio calls; the rest of the system is left out, so a test starts less.
STUDIO_SERVICES = ("auth", "projects", "payments", "builder")
# Short-lived access tokens, so a test can watch one expire and the studio refresh it.
ACCESS_LIFETIME_SECONDS = 20
# Runs waiting for a worker past which the builder refuses a start as busy: few, so a test can fill
# the queue (with the worker stopped); never reached otherwise, each test's runs being picked up at once.
QUEUED_LIMIT = 3
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Chromium reports every 4xx/5xx response in the console; a test that expects one says so.
NETWORK_ERROR = re.compile(r"Failed to load resource: the server responded with a status of (\d+)")

_system: System | None = None
_failure: BaseException | None = None


def pytest_sessionstart(session):
    """Build the studio and start the system before the first test, outside any test's time limit."""
    global _system, _failure
    if session.config.option.collectonly:
        return
    for stale in ARTIFACTS.glob("FAILED-*.png"):  # a failure's screenshot belongs to the run that failed
        stale.unlink()
    try:
        build_studio()
        ensure_chromium()
        root = REPO / "var" / "browser-tests"
        shutil.rmtree(root, ignore_errors=True)
        _system = System(
            root=root,
            services=tuple(s for s in SERVICES if s in STUDIO_SERVICES),
            env_overrides={
                "auth": {"OASIS_ACCESS_TOKEN_LIFETIME": str(ACCESS_LIFETIME_SECONDS)},
                "builder": {"OASIS_MAX_QUEUED_GENERATIONS": str(QUEUED_LIMIT)},
            },
        )
        _system.start()
        _add_slow_model(_system)
    except (Exception, SystemExit) as error:  # every test then fails with this, rather than pytest crashing
        _failure = error


def pytest_sessionfinish(session):
    if _system is not None:
        _system.stop()


def _add_slow_model(system: System) -> None:
    """Two more demo models: one paced at a few hundred tokens a second (a build takes seconds to watch),
    one at a few dozen (a build goes on long enough to act on while it runs)."""
    entries = []
    for slug, name, pace, position in (
        (SLOW_MODEL, "Oasis demo, paced", 250, 99),
        (CRAWL_MODEL, "Oasis demo, crawling", 40, 100),
    ):
        url = system.start_demo_model(
            f"demo-model-{slug.rsplit('-', 1)[1]}", env={"OASIS_DEMO_TOKENS_PER_SECOND": str(pace)}
        )
        entries.append(
            {
                "slug": slug,
                "display_name": name,
                "upstream_model": "oasis-demo",
                "base_url": f"{url}/v1",
                "context_window": 32_768,
                "max_output_tokens": 4_096,
                "input_price": 1_000,
                "output_price": 4_000,
                "is_default": False,
                "enabled": True,
                "position": position,
            }
        )
    system.manage("builder", "sync_models", env={"OASIS_MODELS": json.dumps(entries)})


@pytest.fixture(scope="session")
def system() -> System:
    if _failure is not None or _system is None:
        pytest.fail(f"The system did not start: {_failure!r}")
    return _system


@pytest.fixture(scope="session")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=ensure_chromium(), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Console:
    """What the page said in its console, and the errors it threw."""

    def __init__(self) -> None:
        self.errors: list[str] = []

    def unexpected(self, allowed_statuses: tuple[int, ...] = ()) -> list[str]:
        def allowed(message: str) -> bool:
            match = NETWORK_ERROR.search(message)
            return bool(match) and int(match.group(1)) in allowed_statuses

        return [message for message in self.errors if not allowed(message)]


@pytest.fixture
def console() -> Console:
    return Console()


def open_page(browser, system, console, **context_options):
    """A page in a new browser context, its console errors recorded in `console`."""
    context = browser.new_context(
        base_url=system.url, viewport={"width": 1400, "height": 900}, accept_downloads=True, **context_options
    )
    context.set_default_timeout(15_000)
    page = context.new_page()
    page.on("console", lambda message: message.type == "error" and console.errors.append(message.text))
    page.on("pageerror", lambda error: console.errors.append(f"uncaught: {error}"))
    return page


@pytest.fixture
def page(browser, system, console, request):
    page = open_page(browser, system, console)
    yield page
    if getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed:
        shot(page, f"FAILED-{request.node.name}")
    page.context.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def shot(page, name: str) -> Path:
    """A screenshot of the page as a test artefact (tests/browser/artifacts/, git-ignored)."""
    ARTIFACTS.mkdir(exist_ok=True)
    path = ARTIFACTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=False)
    return path


def new_email() -> str:
    return f"studio-{uuid.uuid4().hex[:10]}@example.com"


def sign_up(page, email: str | None = None) -> str:
    """Create an account through the studio's own form; returns its email."""
    email = email or new_email()
    page.goto("/studio/signup")
    page.get_by_label("Name").fill("Studio Tester")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Create account").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    return email


def create_project(page, name: str, template: bool = False) -> str:
    """A project made through the studio (blank, or from the first template); returns its id."""
    page.get_by_label("Name", exact=True).fill(name)
    if template:
        page.get_by_label("Start from").select_option(index=1)
    page.get_by_role("button", name="Create project").click()
    page.get_by_role("heading", name=name).wait_for()
    return page.url.rsplit("/", 1)[1]


def token_for(system: System, email: str, password: str = PASSWORD) -> str:
    """An access token for the account, signed in through the API (as another device would)."""
    response = requests.post(
        f"{system.url}/api/v1/auth/token/", json={"email": email, "password": password}, timeout=30
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


def api_headers(system: System, email: str) -> dict:
    """The account's Authorization header for calls through the API (as another device would)."""
    return {"Authorization": f"Bearer {token_for(system, email)}"}


def register_api(system: System) -> dict:
    """An account made through the API (for another user's data)."""
    response = requests.post(
        f"{system.url}/api/v1/auth/register/",
        json={"email": new_email(), "password": PASSWORD, "name": "Other"},
        timeout=30,
    )
    assert response.status_code == 201, response.text
    return response.json()
