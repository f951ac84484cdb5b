"""A burst of build POSTs that really is one: wrk sends them, then the builder's database and nginx tell.

`run.py` sends each run's POST from a Python thread of its own; on two cores shared with the
system its 1,000 POSTs leave over several seconds. Here wrk (C; `apt-get install wrk`) opens
one connection per run and sends one POST on each as soon as it is connected, then nothing
more. The system is the one `run.py` starts, set up the same way (users, one empty project
per run, a few warm-up builds). Nobody reads the event streams: this measures the start path.

    OASIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        OASIS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/streams/burst.py

It prints how the POSTs were answered (by status, from nginx's access log: when each arrived
and how long it took), how many runs were accepted per second, and for the accepted runs the
time from their row to a worker's pick-up and to their first `text`/`tool_call` event, from
the builder's database; then waits for the accepted runs to end and counts how they ended.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from datetime import datetime
from pathlib import Path

import run as streams  # bench/streams/run.py, beside this script; it puts the repository on the path

from tests.e2e.system import AccessLog

STATUS_COUNTS = "SELECT status, COUNT(*) FROM generations_generation GROUP BY status"
# After its one POST a connection waits this long before wrk would send another: past the burst.
IDLE_MS = 600_000
WRK_SCRIPT = """
local runs, count, delayed, sent = {}, 0, 0, 0
first = 0  -- where this thread's runs begin in the list: set by setup() for each thread
local given = 0

function setup(thread)
  thread:set("first", given)
  given = given + tonumber(os.getenv("BURST_PER_THREAD"))
end

function init(args)
  for line in io.lines(os.getenv("BURST_RUNS")) do
    local path, token = line:match("([^\\t]+)\\t(.+)")
    runs[#runs + 1] = {path, token}
  end
  count = tonumber(os.getenv("BURST_PER_THREAD"))
end

function delay()
  delayed = delayed + 1
  if delayed > count then return IDLE_MS end
  return 0
end

function request()
  sent = sent + 1
  local run = runs[first + ((sent - 1) % count) + 1]
  return wrk.format("POST", run[1], {
    ["Authorization"] = "Bearer " .. run[2],
    ["Content-Type"] = "application/json",
  }, '{"prompt": "A bakery in Lisbon called Crumb, with a menu and opening hours"}')
end
""".replace("IDLE_MS", str(IDLE_MS))


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=1000, help="POSTs in the burst")
    parser.add_argument("--tokens-per-second", type=float, default=50, help="the demo model's pace")
    parser.add_argument("--wrk-threads", type=int, default=2, help="wrk threads (they split the POSTs)")
    parser.add_argument("--worker-processes", type=int, default=2, help="builder worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="builder web (uvicorn) processes")
    parser.add_argument("--peer-threads", type=int, default=1, help="threads of auth/projects/payments")
    parser.add_argument("--users", type=int, default=0, help="users sharing the runs (default: one per 10)")
    parser.add_argument("--warmup", type=int, default=4, help="builds run (and not measured) first")
    parser.add_argument("--answer-seconds", type=int, default=30, help="how long wrk waits for answers")
    parser.add_argument("--wait", type=float, default=600, help="seconds to wait for the accepted runs")
    parser.add_argument("--keep", action="store_true", help="leave the system's logs and databases in place")
    streams.add_profile_option(parser)
    options = parser.parse_args()
    if not shutil.which("wrk"):
        raise SystemExit("wrk is not installed (apt-get install wrk)")
    if options.concurrency % options.wrk_threads:
        raise SystemExit("--concurrency must be a multiple of --wrk-threads")
    options.runs, options.ramp = options.concurrency, 0

    root = Path(tempfile.mkdtemp(prefix="bench-burst-"))
    print(f"bench/streams/burst: {options.concurrency} POSTs at once from wrk; system in {root}", flush=True)
    system = streams.start_system(options, root)
    try:
        runs = streams.prepare(system, options)
        listing = root / "burst-runs.tsv"
        listing.write_text(
            "".join(
                f"/api/v1/builder/projects/{run.project_id}/generations/\t"
                f"{run.user.headers()['Authorization'].removeprefix('Bearer ')}\n"
                for run in runs
            )
        )
        script = root / "burst.lua"
        script.write_text(WRK_SCRIPT)
        access_log = AccessLog(system)
        mark, began = access_log.mark(), time.time()
        print(f"  sending {options.concurrency} POSTs…", flush=True)
        with streams.profiled(system, options, root):
            wrk = _burst(options, script, listing, system.url)
        answers = _starts_answered(access_log.answers_since(mark))
        statuses = _wait_for_runs(system.database_urls["builder"], options.wait)
        milestones = streams._milestones(system.database_urls["builder"])
    finally:
        system.stop()
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    return report(options, wrk, answers, milestones, statuses, began)


def _burst(options, script: Path, listing: Path, url: str) -> subprocess.CompletedProcess:
    """Every POST at once from wrk, each waited for up to --answer-seconds."""
    return subprocess.run(
        [
            "wrk",
            f"-t{options.wrk_threads}",
            f"-c{options.concurrency}",
            f"-d{options.answer_seconds}s",
            f"--timeout={options.answer_seconds}s",
            "-s",
            str(script),
            url,
        ],
        env={
            "BURST_RUNS": str(listing),
            "BURST_PER_THREAD": str(options.concurrency // options.wrk_threads),
            "PATH": "/usr/bin:/bin",
        },
        capture_output=True,
        text=True,
        check=False,
    )


def _starts_answered(entries: list[dict]) -> list[dict]:
    """The POSTs to start a generation among nginx's log entries: status, when answered, duration."""
    answers = []
    for entry in entries:
        if entry["method"] != "POST" or not entry["uri"].endswith("/generations/"):
            continue
        ended = datetime.fromisoformat(entry["time"]).timestamp()
        answers.append({"status": entry["status"], "seconds": entry["duration_s"], "ended": ended})
    return answers


def _wait_for_runs(database_url: str, wait: float) -> Counter:
    """Wait until no generation is queued or running (at most `wait` seconds); how they all ended."""
    deadline = time.monotonic() + wait
    while True:
        statuses = Counter(dict(streams.rows(database_url, STATUS_COUNTS)))
        if not set(statuses) - set(streams.TERMINAL) or time.monotonic() > deadline:
            return statuses
        time.sleep(1)


def report(options, wrk, answers: list[dict], milestones: dict, statuses: Counter, began: float) -> int:
    by_status: dict[int, list[float]] = defaultdict(list)
    for answer in answers:
        by_status[answer["status"]].append(answer["seconds"] * 1000)
    print()
    print(f"answered: {len(answers)}/{options.concurrency} {dict(Counter(a['status'] for a in answers))}")
    if answers:
        # nginx logs whole seconds: arrival is the answer's second less its duration.
        arrivals = sorted(answer["ended"] - answer["seconds"] for answer in answers)
        ends = sorted(answer["ended"] for answer in answers)
        print(
            f"arrived at nginx within {arrivals[-1] - arrivals[0]:.1f}s; the last answered "
            f"{ends[-1] - began:.1f}s after the burst began (±1 s: nginx logs whole seconds)"
        )
    print("milliseconds (p50, p95, max), POST to its answer as nginx timed it:")
    for status, durations in sorted(by_status.items()):
        print(streams.row(f"answered {status} ({len(durations)})", streams.percentiles(durations)))
    # The accepted runs: each row's own clock, from its creation in the POST.
    accepted = [times for times in milestones.values() if times[0] is not None and times[0] >= began - 1]
    if accepted:
        created = sorted(times[0] for times in accepted)
        span = created[-1] - created[0]
        print(
            f"accepted {len(accepted)} runs, their rows written over {span:.1f}s "
            f"({len(accepted) / span if span else float('nan'):.1f} a second)"
        )
        print(
            streams.row(
                "row → a worker picks the run up",
                streams.percentiles([(picked - made) * 1000 for made, picked, _ in accepted if picked]),
            )
        )
        print(
            streams.row(
                "row → first text/tool_call event created",
                streams.percentiles([(first - made) * 1000 for made, _, first in accepted if first]),
            )
        )
    print(f"how the runs ended (warm-up builds included): {dict(statuses)}")
    print("wrk:")
    print("  " + "\n  ".join(wrk.stdout.strip().splitlines()))
    if wrk.returncode:
        print(wrk.stderr, file=sys.stderr)
    return 0 if len(answers) == options.concurrency and not wrk.returncode else 1


if __name__ == "__main__":
    sys.exit(main())
