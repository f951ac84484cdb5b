"""What `make dev` and `make test` share: the services in this checkout, the Procfile, nginx, migrations."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

from oasis_common.settings import SERVICE_NAMES

REPO = Path(__file__).resolve().parent.parent
SERVICES_DIR = REPO / "services"
PROCFILE = REPO / "Procfile"
# How each service's web process is served by gunicorn (the builder streams events: ASGI).
WEB_APPLICATION = {"builder": ["-k", "uvicorn_worker.UvicornWorker", "config.asgi"]}
# Management commands that run after a service's migrations, before it starts.
AFTER_MIGRATE = {"builder": [("sync_models",)]}


def django_services() -> list[str]:
    """Services present in this checkout, in dependency order."""
    return [name for name in SERVICE_NAMES if (SERVICES_DIR / name / "manage.py").exists()]


def dev_processes() -> list[str]:
    """The processes `make dev` runs: the Procfile's, in its order."""
    from honcho.environ import parse_procfile

    return list(parse_procfile(PROCFILE.read_text()).processes)


def find_nginx() -> str | None:
    return shutil.which("nginx") or next(
        (path for path in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if os.access(path, os.X_OK)), None
    )


def ensure_nginx() -> str:
    """nginx's path; installs Debian's package when running as root on Debian, else says what to do."""
    return _ensure_debian_package(
        "nginx",
        find_nginx,
        "nginx is needed for the gateway and is not installed.\n"
        "  Debian/Ubuntu: sudo apt-get install -y nginx\n"
        "  Fedora:        sudo dnf install -y nginx\n"
        "  macOS:         brew install nginx\n"
        "Then run the command again.",
    )


def find_chromium() -> str | None:
    return next(
        (path for path in ("/usr/bin/chromium", "/usr/bin/chromium-browser") if os.access(path, os.X_OK)),
        shutil.which("chromium") or shutil.which("chromium-browser"),
    )


def ensure_chromium() -> str:
    """Chromium's path for the browser tests; installs Debian's package when root on Debian, else says how."""
    return _ensure_debian_package(
        "chromium",
        find_chromium,
        "Chromium is needed for the browser tests (tests/browser) and is not installed.\n"
        "  Debian/Ubuntu: sudo apt-get install -y chromium\n"
        "  Fedora:        sudo dnf install -y chromium\n"
        "Then run the command again (Playwright drives this Chromium; it never downloads one).",
    )


def _ensure_debian_package(package: str, find, missing: str) -> str:
    """What `find` finds; else Debian's `package` installed when root on Debian; else exit with `missing`."""
    found = find()
    if found:
        return found
    if os.geteuid() == 0 and Path("/etc/debian_version").exists() and shutil.which("apt-get"):
        print(f"{package} is missing; installing Debian's {package} package…", flush=True)
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        install = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", package]
        if subprocess.run(install, env=env).returncode != 0:
            subprocess.run(["apt-get", "update", "-qq"], env=env, check=True)
            subprocess.run(install, env=env, check=True)
        found = find()
        if found:
            return found
    sys.exit(missing)


def manage(service: str, *args: str, env: dict | None = None) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=SERVICES_DIR / service,
        env=env,
        check=True,
    )


def migrate_all(env: dict | None = None, services: Iterable[str] | None = None) -> None:
    for service in django_services() if services is None else services:
        print(f"  migrating {service}", flush=True)
        manage(service, "migrate", "--no-input", "-v", "0", env=env)
        manage(service, "createcachetable", env=env)
        for command in AFTER_MIGRATE.get(service, ()):
            manage(service, *command, env=env)
