"""`make dev`: check the ports, migrate, build the studio, render the gateway, run the Procfile (honcho)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from platform_tools import REPO, dev_processes, django_services, ensure_nginx, migrate_all
from ports import DEFAULT_PORTS, PortError, dev_ports, port_variable, ports_taken, taken_message

VAR = REPO / "var"
DEV_ENV = VAR / "dev.env"
# The studio's development servers (npm), besides the gateway itself.
STUDIO_DEV_ORIGINS = "http://localhost:3000,http://localhost:5173"
SITES_DEV_DOMAIN = "sites.localhost"


def dev_environment() -> dict[str, str]:
    """The environment as honcho will give it to the processes: var/dev.env over the shell's."""
    from honcho.environ import parse

    env = dict(os.environ)
    if DEV_ENV.exists():
        env.update(parse(DEV_ENV.read_text()))
    return env


def checked_ports(env: dict[str, str], processes: list[str]) -> dict[str, int]:
    """The port of every process that listens; exits with one message when one is unusable or taken."""
    try:
        ports = dev_ports(env, [name for name in processes if name in DEFAULT_PORTS])
    except PortError as error:
        sys.exit(f"make dev cannot start: {error}")
    taken = ports_taken(ports)
    if taken:
        sys.exit(taken_message(taken, ports, env))
    return ports


def wire(env: dict[str, str], ports: dict[str, int], services: list[str]) -> None:
    """Point every process at the others, on the ports of the table (a value already set wins)."""
    # The Procfile's commands and the demo model read these; the table decided them.
    env.update({port_variable(name): str(port) for name, port in ports.items()})
    for service in services:
        env.setdefault(f"OASIS_{service.upper()}_UPSTREAM", f"127.0.0.1:{ports[service]}")
        env.setdefault(f"OASIS_{service.upper()}_URL", f"http://127.0.0.1:{ports[service]}")
    env.setdefault("OASIS_DEMO_MODEL_URL", f"http://127.0.0.1:{ports['demo-model']}/v1")
    env["OASIS_GATEWAY_LISTEN"] = str(ports["gateway"])
    gateway = f"http://localhost:{ports['gateway']}"
    env.setdefault("OASIS_CORS_ORIGINS", STUDIO_DEV_ORIGINS)
    env.setdefault("OASIS_CHECKOUT_REDIRECT_ORIGINS", f"{gateway},{STUDIO_DEV_ORIGINS}")
    env.setdefault("OASIS_PASSWORD_RESET_URL", f"{gateway}/reset-password?uid={{uid}}&token={{token}}")
    if "sites" in services:
        # One store, written by sites and served by the gateway: both must be given the same path.
        var = Path(env.get("OASIS_VAR_DIR") or VAR)
        env.setdefault("OASIS_SITES_STORE", str(var / "sites" / "store"))
        # Browsers resolve every *.localhost name to this machine: <slug>.sites.localhost is the gateway.
        env.setdefault("OASIS_SITES_DOMAIN", SITES_DEV_DOMAIN)
        env.setdefault("OASIS_PUBLIC_URL", gateway)


def build_studio_once() -> None:
    """The studio at /studio/, built now (npm ci first if the lockfile changed); `npm run dev` watches."""
    from studio import build_studio

    try:
        build_studio()
    except (OSError, SystemExit, subprocess.CalledProcessError) as error:
        print(f"The studio was not built ({error}); /studio/ will answer 404 until it is.", flush=True)


def main() -> None:
    env = dev_environment()
    processes = dev_processes()
    ports = checked_ports(env, processes)
    nginx = ensure_nginx()
    env.setdefault("OASIS_ENVIRONMENT", "development")
    env.setdefault("OASIS_VAR_DIR", str(VAR))
    env["OASIS_NGINX"] = nginx
    env.setdefault("OASIS_GATEWAY_RUNTIME_DIR", str(VAR / "gateway"))
    if os.geteuid() == 0:
        env.setdefault("OASIS_GATEWAY_USER", "root")
    services = [service for service in django_services() if service in processes]
    # Before the migrations: sync_models writes the demo model's URL into the builder's catalog.
    wire(env, ports, services)

    print("Preparing the development databases (SQLite under var/)…", flush=True)
    migrate_all(env, services)
    build_studio_once()
    render = [
        sys.executable,
        str(REPO / "gateway" / "render.py"),
        "--config",
        str(VAR / "gateway" / "nginx.conf"),
    ]
    if os.spawnve(os.P_WAIT, sys.executable, render, env) != 0:
        sys.exit("Could not render the gateway configuration.")

    if not DEV_ENV.exists():
        DEV_ENV.parent.mkdir(parents=True, exist_ok=True)
        DEV_ENV.write_text(
            "# Local overrides for `make dev` (git-ignored), one NAME=value per line.\n"
            "# For example: OPENAI_API_KEY=sk-… or STRIPE_SECRET_KEY=sk_test_…\n"
            "# Ports: OASIS_DEV_PORT_BASE=9000 moves them all (auth 9001 … gateway 9080), or\n"
            "# one at a time, e.g. OASIS_GATEWAY_PORT=8180 (docs/operations.md lists them).\n"
        )
    honcho = str(REPO / ".venv" / "bin" / "honcho")
    os.chdir(REPO)
    os.execve(honcho, [honcho, "start", "-f", "Procfile", "-e", str(DEV_ENV)], env)


if __name__ == "__main__":
    main()
