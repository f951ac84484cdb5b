"""How long payments takes to place a hold, capture it and release one, through its internal API.

Runs the payments service's views in this process (Django's test client, the builder's service
token) against a throwaway test database (SQLite, or PostgreSQL when OASIS_TEST_DATABASE_URL is
set), each request a whole idempotent view: the record, the account's lock, the hold, the ledger.
Prints the median and p95 of each, and the queries each took:

    OASIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        .venv/bin/python bench/payments_holds.py --holds 500
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import uuid
from pathlib import Path

SERVICE = Path(__file__).resolve().parent.parent / "services" / "payments"
sys.path.insert(0, str(SERVICE))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.db import connection, reset_queries  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

HOLDS_URL = "/internal/v1/holds"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--holds", type=int, default=500, help="holds placed (each captured or released)")
    options = parser.parse_args()
    if options.holds < 2:
        parser.error("--holds must be at least 2: one captured, one released")

    from rest_framework.test import APIClient

    from oasis_common.testing import service_token_for

    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {service_token_for('builder', 'payments')}")

    def call(url: str, body: dict) -> tuple[float, int, dict]:
        reset_queries()  # the log keeps 9,000 queries at most, and counts by its length
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            response = client.post(url, body, format="json", HTTP_IDEMPOTENCY_KEY=uuid.uuid4().hex)
            elapsed = time.perf_counter() - started
        if response.status_code >= 300:
            raise SystemExit(f"{url} answered {response.status_code}: {response.content[:300]!r}")
        return elapsed, len(queries.captured_queries), response.json()

    setup_test_environment()  # the test client's host allowed, as in the service's tests
    name = connection.creation.create_test_db(verbosity=0, autoclobber=True, keepdb=False)
    try:
        # Ten accounts, or fewer when there are few holds: each account's first is left out below.
        users = [str(uuid.uuid4()) for _ in range(max(1, min(10, options.holds // 2)))]
        timings: dict[str, list[float]] = {"hold": [], "capture": [], "release": []}
        queries: dict[str, int] = {}
        for index in range(options.holds):
            user = users[index % len(users)]
            seconds, count, hold = call(HOLDS_URL, {"user_id": user, "amount": 5, "reason": "generation"})
            timings["hold"].append(seconds)
            queries["hold"] = count
            action, body = ("capture", {"amount": 3}) if index % 2 else ("release", {})
            seconds, count, _ = call(f"{HOLDS_URL}/{hold['hold_id']}/{action}", body)
            timings[action].append(seconds)
            queries[action] = count
        # The first use of each account opens it (and grants its welcome credits): left out.
        warm = len(users)
        print(f"{connection.vendor}, {options.holds} holds (the first {warm} open accounts: left out):")
        for step, samples in timings.items():
            samples = sorted(samples[warm:] if step == "hold" else samples)
            p95 = samples[int(len(samples) * 0.95)]
            print(
                f"  {step:8} median {statistics.median(samples) * 1000:6.2f} ms  p95 {p95 * 1000:6.2f} ms"
                f"  ({queries[step]} queries)"
            )
    finally:
        connection.creation.destroy_test_db(name, verbosity=0)


if __name__ == "__main__":
    main()
