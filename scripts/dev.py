"""`make dev`: migrate, render the gateway, and run every service plus nginx under honcho."""

from __future__ import annotations

import os
import sys

from platform_tools import PORTS, REPO, django_services, ensure_nginx, migrate_all

VAR = REPO / "var"


def main() -> None:
    nginx = ensure_nginx()
    env = dict(os.environ)
    env.setdefault("OASIS_ENVIRONMENT", "development")
    env.setdefault("OASIS_VAR_DIR", str(VAR))
    env["OASIS_NGINX"] = nginx

    print("Preparing the development databases (SQLite under var/)…", flush=True)
    migrate_all(env)

    for service in django_services():
        env.setdefault(f"OASIS_{service.upper()}_UPSTREAM", f"127.0.0.1:{PORTS[service]}")
    env.setdefault("OASIS_GATEWAY_RUNTIME_DIR", str(VAR / "gateway"))
    env.setdefault("OASIS_CORS_ORIGINS", "http://localhost:3000,http://localhost:5173")
    if os.geteuid() == 0:
        env.setdefault("OASIS_GATEWAY_USER", "root")
    render = [
        sys.executable,
        str(REPO / "gateway" / "render.py"),
        "--config",
        str(VAR / "gateway" / "nginx.conf"),
    ]
    if os.spawnve(os.P_WAIT, sys.executable, render, env) != 0:
        sys.exit("Could not render the gateway configuration.")

    dev_env = VAR / "dev.env"
    if not dev_env.exists():
        dev_env.write_text(
            "# Local overrides for `make dev` (git-ignored), one NAME=value per line.\n"
            "# For example: OPENAI_API_KEY=sk-… or STRIPE_SECRET_KEY=sk_test_…\n"
        )
    honcho = str(REPO / ".venv" / "bin" / "honcho")
    os.chdir(REPO)
    os.execve(honcho, [honcho, "start", "-f", "Procfile", "-e", str(dev_env)], env)


if __name__ == "__main__":
    main()
