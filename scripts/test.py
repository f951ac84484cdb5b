"""`make test`: lint, each service's suite, deploy and `make dev` checks, e2e, chaos, studio, contracts, fuzz,
benches.

With OASIS_TEST_DATABASE_URL (a PostgreSQL server URL) and OASIS_TEST_REDIS_URL set, as
.ci/run sets them, every suite uses them; otherwise SQLite and the database cache.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from platform_tools import REPO, SERVICES_DIR, django_services, ensure_nginx

BIN = REPO / ".venv" / "bin"


# Each test has its own limit (pytest-timeout, in every pytest.ini); this bounds a whole step
# in case something hangs outside a test, so a hang costs minutes, never CI's whole budget.
STEP_LIMIT_SECONDS = int(os.environ.get("OASIS_TEST_STEP_LIMIT_SECONDS", "900"))
# The fault-injection suite promises to finish within five minutes (about one on a quiet machine).
CHAOS_LIMIT_SECONDS = min(300, STEP_LIMIT_SECONDS)


def run(title: str, command: list[str], cwd=REPO, limit: int = STEP_LIMIT_SECONDS) -> tuple[str, bool, float]:
    print(f"\n=== {title} ===", flush=True)
    started = time.monotonic()
    process = subprocess.Popen(command, cwd=cwd, start_new_session=True)
    try:
        ok = process.wait(timeout=limit) == 0
    except subprocess.TimeoutExpired:
        print(f"\n{title}: still running after {limit} s; stopped", file=sys.stderr, flush=True)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        ok = False
    return title, ok, time.monotonic() - started


def main(argv: list[str]) -> int:
    extra = argv[1:]
    ensure_nginx()
    backend = "PostgreSQL + Redis" if os.environ.get("OASIS_TEST_DATABASE_URL") else "SQLite"
    print(f"Testing against {backend}.", flush=True)
    results = [
        run("ruff check", [str(BIN / "ruff"), "check", "."]),
        run("ruff format --check", [str(BIN / "ruff"), "format", "--check", "--quiet", "."]),
    ]
    # The platform library first, then every service, each with its own settings.
    suites = ["common", *django_services()]
    suites += sorted(p.parent.name for p in SERVICES_DIR.glob("*/pytest.ini") if p.parent.name not in suites)
    for suite in suites:
        results.append(
            run(f"services/{suite}", [str(BIN / "pytest"), "-q", *extra], cwd=SERVICES_DIR / suite)
        )
    results.append(
        run(
            "tests/deploy (images, compose, Kubernetes, gateway config; offline)",
            [str(BIN / "pytest"), "-q", "tests/deploy", *extra],
        )
    )
    results.append(
        run(
            "tests/dev (make dev: the port table, taken ports, the announcement)",
            [str(BIN / "pytest"), "-q", "tests/dev", *extra],
        )
    )
    results.append(
        run("tests/e2e (the system through the gateway)", [str(BIN / "pytest"), "-q", "tests/e2e", *extra])
    )
    results.append(
        run(
            "tests/chaos (runs survive their dependencies: processes killed, connections dropped)",
            [str(BIN / "pytest"), "-q", "tests/chaos", *extra],
            limit=CHAOS_LIMIT_SECONDS,
        )
    )
    results.append(
        run(
            "tests/browser (the studio in headless Chromium, built first when missing or stale)",
            [str(BIN / "python"), str(REPO / "scripts" / "browser_tests.py"), *extra],
        )
    )
    results.append(
        run(
            "tests/contract (pacts: consumers write them, the providers started for real replay them)",
            [str(BIN / "pytest"), "-q", "tests/contract", *extra],
        )
    )
    results.append(
        run(
            "tests/fuzz (schemathesis on every public API, bounded; `make fuzz` goes deeper)",
            [str(BIN / "pytest"), "-q", "tests/fuzz", *extra],
        )
    )
    results.append(
        run(
            "tests/bench (every script under bench/ runs at its smallest size and reports)",
            [str(BIN / "pytest"), "-q", "tests/bench", *extra],
        )
    )

    print("\n=== summary ===")
    for title, ok, seconds in results:
        print(f"  {'ok  ' if ok else 'FAIL'}  {title}  ({seconds:.0f}s)")
    failed = [title for title, ok, _ in results if not ok]
    if failed:
        print(f"\n{len(failed)} step(s) failed.", file=sys.stderr)
        return 1
    print("\nAll green.")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
