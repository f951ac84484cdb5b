"""Wait until every process of `make dev` answers as itself, then say where to go. Stays up with the rest."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Mapping

from platform_tools import REPO, SERVICE_NAMES, dev_processes
from ports import DEFAULT_PORTS, answers_as, describe, dev_ports, get_json

# After this long, say what is still missing (and keep waiting: a slow first start is no failure).
PATIENCE_SECONDS = 120
# Processes without a port, and the command that says whether they are alive.
LIVENESS_COMMANDS = {
    "builder-worker": [sys.executable, str(REPO / "services" / "builder" / "manage.py"), "worker_alive"],
}


def port_problem(name: str, port: int) -> str | None:
    """What keeps the process on this port from being ours and ready, or None."""
    if not answers_as(name, port):
        if get_json(f"http://127.0.0.1:{port}/healthz")[0] == 0:
            return f"nothing answers on port {port} yet"
        return f"port {port} answers, but not as {describe(name)}: another program holds it"
    if name in SERVICE_NAMES:
        status, _ = get_json(f"http://127.0.0.1:{port}/readyz", timeout=3)
        if status != 200:
            return f"alive on port {port}, not ready yet (its /readyz answers {status or 'nothing'})"
    return None


def liveness_problem(name: str, since: float) -> str | None:
    """Whether a process without a port has shown a sign of life since `since` (a time.time())."""
    max_age = f"{time.time() - since + 1:.1f}"
    result = subprocess.run(
        [*LIVENESS_COMMANDS[name], "--max-age", max_age], capture_output=True, text=True, check=False
    )
    return None if result.returncode == 0 else "no sign of life yet"


def problems(ports: Mapping[str, int], processes: list[str], since: float) -> dict[str, str]:
    """Every process that is not yet ours and answering, with what is wrong."""
    found = {name: problem for name, port in ports.items() if (problem := port_problem(name, port))}
    if not found:
        # These start a Django process each: only once everything with a port answers.
        for name in processes:
            if name in LIVENESS_COMMANDS and (problem := liveness_problem(name, since)):
                found[name] = problem
    return found


def published_sites_line(ports: Mapping[str, int], environ: Mapping[str, str]) -> str:
    """Where published sites answer, when sites runs: its subdomain form and its path form."""
    if "sites" not in ports:
        return ""
    domain = environ.get("OASIS_SITES_DOMAIN") or "sites.localhost"
    port = ports["gateway"]
    return f"    Sites           http://<slug>.{domain}:{port}/  or  http://localhost:{port}/s/<slug>/\n"


def main() -> None:
    since = time.time()
    processes = dev_processes()
    ports = dev_ports(os.environ, [name for name in processes if name in DEFAULT_PORTS])
    deadline, reported = time.monotonic() + PATIENCE_SECONDS, False
    while found := problems(ports, processes, since):
        if not reported and time.monotonic() > deadline:
            lines = "\n".join(f"    {describe(name)}: {problem}" for name, problem in found.items())
            print(f"\n  Still waiting for:\n{lines}\n  (their own lines above say why)\n", flush=True)
            reported = True
        time.sleep(0.5)
    gateway = f"http://localhost:{ports['gateway']}"
    print(
        "\n"
        "  Imagi Oasis is running.\n\n"
        f"    Studio          {gateway}/studio/\n"
        f"    Home page       {gateway}/\n"
        f"    API reference   {gateway}/docs/\n"
        f"    API             {gateway}/api/v1/  (start with POST /api/v1/auth/register/)\n"
        f"{published_sites_line(ports, os.environ)}\n"
        "  Press Ctrl-C to stop everything.\n",
        flush=True,
    )
    # honcho stops every process when one exits, so this one waits for the others.
    signal.pause()


if __name__ == "__main__":
    main()
