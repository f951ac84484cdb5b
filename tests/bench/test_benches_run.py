"""Every benchmark script under bench/ still runs, at its smallest size.

The figures in bench/*/README.md are only worth their command if it can be run again: each script
here starts what it measures (the system, a service's views) and must finish with exit status 0
and its report. On the database the tests are given (SQLite, or PostgreSQL + Redis).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]

# A script that starts the whole system takes under a minute here; the test's limit is past the script's.
SCRIPT_SECONDS = 240
pytestmark = [pytest.mark.slow, pytest.mark.timeout(SCRIPT_SECONDS + 30)]


def bench(script: str, *args: str) -> str:
    """The script's report; a failure shows the end of what it printed."""
    done = subprocess.run(
        [sys.executable, script, *args], cwd=REPO, capture_output=True, text=True, timeout=SCRIPT_SECONDS
    )
    printed = f"{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    assert done.returncode == 0, f"{script} exited {done.returncode}:\n{printed}"
    return done.stdout


def test_payments_holds():
    report = bench("bench/payments_holds.py", "--holds", "4")
    for step in ("hold", "capture", "release"):
        assert re.search(rf"^  {step} +median .+ms  p95 .+ms  \(\d+ queries\)$", report, re.MULTILINE), report


def test_projects_tree():
    report = bench("bench/projects_tree.py", "--files", "20", "--rounds", "1")
    assert "snapshot, 2 MiB budget" in report
    assert "export a zip" in report


def test_streams():
    report = bench(
        "bench/streams/run.py",
        *("--concurrency", "3", "--ramp", "1", "--warmup", "1", "--tokens-per-second", "200"),
        *("--timeout", "120"),
    )
    assert "completed: 3/3 done" in report
    assert "where the first token's time goes" in report
    assert "peak RSS of the builder's processes" in report


@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk sends the burst (apt-get install wrk)")
def test_streams_burst():
    report = bench(
        "bench/streams/burst.py",
        *("--concurrency", "4", "--wrk-threads", "2", "--warmup", "1", "--tokens-per-second", "200"),
        *("--answer-seconds", "10", "--wait", "120"),
    )
    assert "answered 202 (4)" in report
    assert "how the runs ended" in report


def test_sites():
    report = bench("bench/sites/run.py", *("--duration", "1", "--connections", "2", "--publish-files", "20"))
    assert "| target | requests/s" in report
    assert "publish of a 20-file project through the API" in report
