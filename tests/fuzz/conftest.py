"""Fuzzing every public API through the gateway: the whole system, a real user, real data.

`OASIS_FUZZ_EXAMPLES` sets how many cases each operation gets (`make test` runs a few,
`make fuzz` many more); the session prints how many requests were sent and what failed.
"""

from __future__ import annotations

import os
import threading
import time

import pytest
import requests

from tests.e2e.dns_records import DnsServer
from tests.e2e.system import TERMINAL_STATUSES, System
from tests.e2e.test_payments_stripe import FakeStripe
from tests.fuzz import checks

PASSWORD = "a perfectly long passphrase"
PROMPT = "A bakery in Lisbon called Crumb, with a menu and opening hours"
TERMINAL = TERMINAL_STATUSES


def _ok(response: requests.Response, status: int = 200) -> dict:
    assert response.status_code == status, f"{response.request.method} {response.url}: {response.text}"
    return response.json() if response.content else {}


class _Gateway(requests.Session):
    def __init__(self, base_url: str) -> None:
        super().__init__()
        self.base_url = base_url

    def request(self, method, url, *args, **kwargs):
        kwargs.setdefault("timeout", 30)
        return super().request(method, f"{self.base_url}{url}", *args, **kwargs)


def seed(base_url: str) -> dict:
    """A user with an API key, a project from a template, files, a finished generation and a live site."""
    gateway = _Gateway(base_url)
    email = f"fuzz-{time.time_ns()}@example.com"
    _ok(gateway.post("/api/v1/auth/register/", json={"email": email, "password": PASSWORD}), 201)
    access = _ok(gateway.post("/api/v1/auth/token/", json={"email": email, "password": PASSWORD}))
    signed_in = {"Authorization": f"Bearer {access['access']}"}
    # An API key does not expire during a long run, and fuzzing logout cannot revoke it.
    key = _ok(gateway.post("/api/v1/auth/api-keys/", json={"name": "fuzz"}, headers=signed_in), 201)
    auth = {"Authorization": f"Bearer {key['key']}"}
    project = _ok(
        gateway.post("/api/v1/projects/", json={"name": "Fuzzed site", "template": "landing"}, headers=auth),
        201,
    )
    _ok(
        gateway.put(
            f"/api/v1/projects/{project['id']}/files/notes.txt",
            data=b"Opening hours\n",
            headers=auth,
        ),
        201,
    )
    generation = _ok(
        gateway.post(
            f"/api/v1/builder/projects/{project['id']}/generations/",
            json={"prompt": PROMPT},
            headers=auth,
        ),
        202,
    )
    deadline = time.monotonic() + 60
    while generation["status"] not in TERMINAL and time.monotonic() < deadline:
        time.sleep(0.2)
        generation = _ok(gateway.get(f"/api/v1/builder/generations/{generation['id']}/", headers=auth))
    assert generation["status"] == "done", generation
    site = _ok(
        gateway.post(
            "/api/v1/sites/", json={"project_id": project["id"], "slug": "fuzzed-site"}, headers=auth
        ),
        201,
    )
    deployment = _ok(gateway.post(f"/api/v1/sites/{site['id']}/deployments/", json={}, headers=auth), 201)
    domain = _ok(
        gateway.post(
            f"/api/v1/sites/{site['id']}/domains/", json={"hostname": "www.fuzzed.example"}, headers=auth
        ),
        201,
    )
    return {
        "headers": auth,
        "ids": {
            "project_id": project["id"],
            "generation_id": generation["id"],
            "key_id": key["id"],
            "site_id": site["id"],
            "deployment_id": deployment["id"],
            "domain_id": domain["id"],
        },
    }


@pytest.fixture(scope="session")
def stripe():
    """Checkout talks to a local stand-in for Stripe: fuzzing never reaches the internet."""
    server = FakeStripe()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def fuzz_target(tmp_path_factory, stripe):
    stripe_settings = {
        "STRIPE_SECRET_KEY": "sk_test_fuzz",
        "STRIPE_WEBHOOK_SECRET": "whsec_fuzz",
        "OASIS_STRIPE_API_BASE": stripe.url,
        "OASIS_CHECKOUT_REDIRECT_ORIGINS": "https://app.example.test",
    }
    system = System(root=tmp_path_factory.mktemp("fuzz"), env_overrides={"payments": stripe_settings})
    dns = None
    try:
        system.start()
        # Custom domains are verified against a local DNS server that knows no records: a clean 422.
        dns = DnsServer(system.dns_port).start()
        data = seed(system.url)
    except Exception:
        system.stop()
        if dns is not None:
            dns.stop()
        raise
    checks.REAL_IDS.update(data["ids"])
    yield {"base_url": system.url, "headers": data["headers"], "system": system}
    system.stop()
    dns.stop()
    if os.environ.get("OASIS_E2E_SHOW_LOGS"):
        for name in system.processes:
            print(f"===== {name} =====\n{system.log(name)}")


def pytest_terminal_summary(terminalreporter):
    if checks.SENT:
        terminalreporter.write_sep("=", "fuzzing")
        for service, count in sorted(checks.SENT.items()):
            terminalreporter.write_line(f"{service}: {count} requests")
        terminalreporter.write_line(f"total: {sum(checks.SENT.values())} requests")
