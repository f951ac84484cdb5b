"""Provider verification: replay the committed pacts against providers started for real.

`started_providers` starts auth, projects and payments with gunicorn, migrations and
throwaway databases (tests/e2e/system.py), each with the provider-state hook mounted;
`verify` replays pact files against one of them with Pact's verifier.
"""

from __future__ import annotations

import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import requests
from pact import Verifier

from tests.contract import examples
from tests.contract.conftest import PACTS
from tests.e2e.system import REPO, System, free_port

PROVIDERS = ("auth", "projects", "payments")
PLANTED = Path(__file__).resolve().parent / "planted"


def started_providers(root: Path) -> System:
    system = System(root=root, services=PROVIDERS, provider_states=PROVIDERS)
    # The consumer tests sign the builder in with this secret; auth must know it.
    system.client_secrets["builder"] = examples.BUILDER_CLIENT_SECRET
    try:
        system.start()
    except Exception:
        system.stop()
        raise
    return system


def pacts_for(provider: str) -> list[Path]:
    return sorted(PACTS.glob(f"*-{provider}.json"))


def service_token(system: System, audience: str) -> str:
    """A real service token for the builder, from the running auth, as the builder would get one."""
    response = requests.post(
        f"{system.service_url('auth')}/internal/v1/service-token",
        json={"client_id": "builder", "client_secret": examples.BUILDER_CLIENT_SECRET, "audience": audience},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()["access"]


@dataclass
class Verification:
    passed: bool
    output: str


def verify(
    system: System,
    provider: str,
    pacts: list[Path],
    *,
    base_url: str | None = None,
    description: str | None = None,
) -> Verification:
    """Replay `pacts` against `provider` (or another build of it at `base_url`), states through its hook."""
    base_url = base_url or system.service_url(provider)
    verifier = (
        Verifier(provider, host="127.0.0.1")
        .add_transport(url=base_url)
        .state_handler(f"{base_url}/_provider-states", body=True)
        .set_coloured_output(enabled=False)
    )
    for pact in pacts:
        verifier.add_source(pact)
    if description:
        verifier.filter(description=description)
    if provider != "auth":
        # Internal APIs take only service tokens; the pacts hold an example, auth issues a real one.
        verifier.add_custom_header("Authorization", f"Bearer {service_token(system, provider)}")
    try:
        verifier.verify()
    except Exception:
        return Verification(passed=False, output=verifier.output(strip_ansi=True))
    return Verification(passed=True, output=verifier.output(strip_ansi=True))


def start_planted(system: System, service: str, module: str) -> str:
    """Another web process of `service` with a deliberate change from planted/<module>.py; its URL."""
    port = free_port()
    name = f"{service}-{module}"
    log = (system.logs / f"{name}.log").open("ab")
    system.processes[name] = subprocess.Popen(
        [
            str(Path(sys.executable).parent / "gunicorn"),
            "-c",
            "python:oasis_common.gunicorn_conf",
            "--chdir",
            str(REPO / "services" / service),
            "--pythonpath",
            str(PLANTED),
            "--bind",
            f"127.0.0.1:{port}",
            f"{module}:application",
        ],
        env=system.service_env(service),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if system.processes[name].poll() is not None:
            raise RuntimeError(f"{name} exited early:\n{system.log(name)}")
        try:
            if requests.get(f"{url}/readyz", timeout=1).status_code == 200:
                return url
        except requests.RequestException:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{name} did not become ready:\n{system.log(name)}")
