"""N concurrent generations through the gateway against the demo model: time to first token, memory.

Starts the whole system (tests/e2e/system.py: every service under gunicorn, builder
workers, the demo model paced at --tokens-per-second, nginx), then runs --runs builds,
--concurrency at a time, each the way a browser does it: POST a generation, open its
event stream through the gateway, read to the terminal event. Prints the time to the
first `text` or `tool_call` event (from the POST) beside the demo model's own time to
first byte, the completions and errors, and the peak RSS of the builder's processes:

    .venv/bin/python bench/streams/run.py --concurrency 200
    OASIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        OASIS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/streams/run.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from tests.e2e.system import System  # noqa: E402

PASSWORD = "a perfectly long passphrase"
PROMPT = "A bakery in Lisbon called Crumb, with a menu and opening hours"
TERMINAL = {"done", "failed", "cancelled", "conflict", "budget_exhausted"}
# Access tokens live five minutes; sign in again before that.
TOKEN_MAX_AGE = 240
# Connections between the bench and the gateway: one per run, plus the setup's.
SETUP_THREADS = 16


# ---- users and runs ----


class User:
    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        self.lock = threading.Lock()
        self.access = ""
        self.signed_in_at = 0.0

    def register(self) -> None:
        body = {"email": self.email, "password": PASSWORD, "name": "Bench"}
        response = requests.post(f"{self.gateway}/api/v1/auth/register/", json=body, timeout=60)
        response.raise_for_status()

    def headers(self) -> dict:
        with self.lock:
            if time.monotonic() - self.signed_in_at > TOKEN_MAX_AGE:
                response = requests.post(
                    f"{self.gateway}/api/v1/auth/token/",
                    json={"email": self.email, "password": PASSWORD},
                    timeout=60,
                )
                response.raise_for_status()
                self.access = response.json()["access"]
                self.signed_in_at = time.monotonic()
            return {"Authorization": f"Bearer {self.access}"}

    def new_project(self) -> str:
        response = requests.post(
            f"{self.gateway}/api/v1/projects/",
            json={"name": f"Bench {uuid.uuid4().hex[:10]}"},
            headers=self.headers(),
            timeout=60,
        )
        response.raise_for_status()
        return response.json()["id"]


@dataclass
class Run:
    user: User
    project_id: str
    accepted: float | None = None  # seconds from the POST to its 202
    running: float | None = None  # … to the `running` status event
    first_token: float | None = None  # … to the first `text` or `tool_call` event
    finished: float | None = None  # … to the terminal event
    outcome: str = ""  # the terminal event's type, or what went wrong
    events: int = 0


def run_one(run: Run, gateway: str, timeout: float, start_at: float) -> Run:
    time.sleep(max(0.0, start_at - time.monotonic()))
    session = requests.Session()
    try:
        headers = run.user.headers()
        posted = time.monotonic()
        response = session.post(
            f"{gateway}/api/v1/builder/projects/{run.project_id}/generations/",
            json={"prompt": PROMPT},
            headers=headers,
            timeout=timeout,
        )
        if response.status_code != 202:
            run.outcome = f"POST {response.status_code} {_error_code(response)}"
            return run
        run.accepted = time.monotonic() - posted
        url = f"{gateway}{response.json()['events_url']}"
        with session.get(
            url, headers={**headers, "Accept": "text/event-stream"}, stream=True, timeout=timeout
        ) as stream:
            if stream.status_code != 200:
                run.outcome = f"stream {stream.status_code} {_error_code(stream)}"
                return run
            for kind, data in _events(stream):
                run.events += 1
                now = time.monotonic() - posted
                if kind == "status" and data.get("status") == "running" and run.running is None:
                    run.running = now
                if kind in ("text", "tool_call") and run.first_token is None:
                    run.first_token = now
                if kind in TERMINAL:
                    run.finished = now
                    run.outcome = kind
                    break
        if not run.outcome:
            run.outcome = "stream ended without a terminal event"
    except requests.RequestException as exc:
        run.outcome = f"client {type(exc).__name__}"
    finally:
        session.close()
    return run


def _events(response: requests.Response):
    """(type, data) of each Server-Sent Event, as it arrives."""
    kind, data = "", ""
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif not line and data:
            yield kind, json.loads(data)
            kind, data = "", ""


def _error_code(response: requests.Response) -> str:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


# ---- memory ----


class MemorySampler(threading.Thread):
    """Peak RSS of each process group (a gunicorn master and its workers; a worker process), from /proc."""

    def __init__(self, groups: dict[str, list[int]], interval: float = 0.2) -> None:
        super().__init__(daemon=True, name="memory-sampler")
        self.groups = groups  # name -> process group ids
        self.interval = interval
        self.stopped = threading.Event()
        self.peaks: dict[str, int] = {}  # name -> peak of the group's summed RSS, bytes
        self.peak_process: dict[str, int] = {}  # name -> the largest single process, bytes
        self.processes: dict[str, int] = {}  # name -> the most processes seen at once

    def run(self) -> None:
        while not self.stopped.wait(self.interval):
            self.sample()

    def sample(self) -> None:
        by_group: dict[int, list[int]] = {}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                pgrp = int(stat.rsplit(")", 1)[1].split()[2])
                if not any(pgrp in ids for ids in self.groups.values()):
                    continue
                status = Path(entry.path, "status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            for line in status.splitlines():
                if line.startswith("VmRSS:"):
                    by_group.setdefault(pgrp, []).append(int(line.split()[1]) * 1024)
        for name, ids in self.groups.items():
            sizes = [size for pgrp in ids for size in by_group.get(pgrp, [])]
            self.peaks[name] = max(self.peaks.get(name, 0), sum(sizes))
            self.peak_process[name] = max(self.peak_process.get(name, 0), max(sizes, default=0))
            self.processes[name] = max(self.processes.get(name, 0), len(sizes))

    def stop(self) -> None:
        self.stopped.set()
        self.join()


# ---- reporting ----


def percentiles(samples: list[float]) -> dict[str, float | None]:
    if not samples:
        return {"p50": None, "p95": None, "max": None}
    ordered = sorted(samples)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, math.ceil(share * len(ordered)) - 1)]

    return {"p50": at(0.5), "p95": at(0.95), "max": ordered[-1]}


def row(title: str, values: dict) -> str:
    shown = "  ".join(
        f"{key} {'-':>8}" if value is None else f"{key} {value:8.1f}" for key, value in values.items()
    )
    return f"  {title:<44} {shown}"


def mib(size: int) -> str:
    return f"{size / 2**20:.0f} MiB"


# ---- the system ----


def start_system(options, root: Path) -> System:
    runs = options.runs
    system = System(
        root=root,
        env_overrides={
            "builder": {
                "OASIS_WEB_WORKERS": str(options.web_workers),
                "OASIS_MAX_RUNNING_GENERATIONS_PER_USER": str(runs),
                "OASIS_LOG_LEVEL": "WARNING",
            },
            "payments": {"OASIS_WELCOME_CREDITS": "10000000"},
            "projects": {"OASIS_MAX_PROJECTS_PER_USER": str(runs)},
            "demo-model": {
                "OASIS_DEMO_TOKENS_PER_SECOND": str(options.tokens_per_second),
                "OASIS_DEMO_ACCESS_LOG": "0",
            },
        },
        # Every run comes from this one address; real users would not share a per-address limit.
        gateway_overrides={
            "api_rate": "100000r/s",
            "api_burst": 100000,
            "auth_rate": "100000r/s",
            "auth_burst": 100000,
        },
    )
    system.start()
    # The harness starts one small worker; the bench runs its own pool of them.
    system.stop_process("builder-worker")
    threads = math.ceil(options.concurrency / options.worker_processes)
    for index in range(options.worker_processes):
        system.start_builder_worker(f"builder-worker-{index}", threads=threads)
    return system


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=200, help="generations running at once")
    parser.add_argument("--runs", type=int, default=None, help="generations in all (default: --concurrency)")
    parser.add_argument(
        "--tokens-per-second", type=float, default=50, help="the demo model's pace per stream"
    )
    parser.add_argument(
        "--users", type=int, default=0, help="users sharing the runs (default: one per 10 runs)"
    )
    parser.add_argument("--worker-processes", type=int, default=2, help="builder worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="builder web (uvicorn) processes")
    parser.add_argument(
        "--ramp",
        type=float,
        default=0,
        help="seconds over which the first --concurrency runs start (0: at once)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take")
    parser.add_argument("--keep", action="store_true", help="leave the system's logs and databases in place")
    options = parser.parse_args()
    options.runs = options.runs or options.concurrency
    users_wanted = options.users or max(1, math.ceil(options.runs / 10))
    backend = "PostgreSQL + Redis" if os.environ.get("OASIS_TEST_DATABASE_URL") else "SQLite"
    if os.environ.get("OASIS_TEST_DATABASE_URL") and not os.environ.get("OASIS_TEST_REDIS_URL"):
        backend = "PostgreSQL (no Redis)"

    root = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    print(
        f"bench/streams: {options.runs} builds, {options.concurrency} at a time, demo model at "
        f"{options.tokens_per_second:g} tokens/s, {backend}; system in {root}",
        flush=True,
    )
    started = time.monotonic()
    system = start_system(options, root)
    try:
        print(f"  system up in {time.monotonic() - started:.0f}s; setting up users and projects", flush=True)
        users = [User(system.url) for _ in range(users_wanted)]
        with ThreadPoolExecutor(SETUP_THREADS) as pool:
            list(pool.map(lambda user: (user.register(), user.headers()), users))
            projects = list(
                pool.map(lambda index: users[index % len(users)].new_project(), range(options.runs))
            )
        runs = [Run(users[index % len(users)], project) for index, project in enumerate(projects)]

        requests.delete(f"{system.demo_url}/_control/stats", timeout=10).raise_for_status()
        builder_groups = {
            "web": [system.processes["builder"].pid],
            "workers": [system.processes[f"builder-worker-{i}"].pid for i in range(options.worker_processes)],
        }
        sampler = MemorySampler(builder_groups)
        sampler.sample()
        idle = dict(sampler.peaks)
        sampler.start()
        print(f"  running {options.runs} builds…", flush=True)
        began = time.monotonic()
        step = options.ramp / options.concurrency
        with ThreadPoolExecutor(options.concurrency) as pool:
            done = list(
                pool.map(
                    lambda index: run_one(
                        runs[index],
                        system.url,
                        options.timeout,
                        began + step * min(index, options.concurrency),
                    ),
                    range(len(runs)),
                )
            )
        elapsed = time.monotonic() - began
        sampler.stop()
        demo = requests.get(f"{system.demo_url}/_control/stats", timeout=10).json()
    finally:
        system.stop()
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)

    outcomes = Counter(run.outcome for run in done)
    completed = outcomes.pop("done", 0)
    first = [run.first_token * 1000 for run in done if run.first_token is not None]
    demo_first = demo["first_byte_ms"]
    system_first = percentiles(first)
    print()
    print(f"completed: {completed}/{options.runs} done in {elapsed:.1f}s")
    print(f"errors: {sum(outcomes.values())} {dict(outcomes) if outcomes else ''}".rstrip())
    print(f"demo model: {demo['requests']} requests {demo['by_outcome']}")
    print("milliseconds:")
    print(row("POST → 202 accepted", percentiles([run.accepted * 1000 for run in done if run.accepted])))
    print(row("POST → `running` event", percentiles([run.running * 1000 for run in done if run.running])))
    print(row("POST → first text/tool_call event (system)", system_first))
    print(row("demo model's own time to first byte", {k: demo_first[k] for k in ("p50", "p95", "max")}))
    print(
        row(
            "system minus demo",
            {
                key: None if system_first[key] is None else system_first[key] - demo_first[key]
                for key in ("p50", "p95", "max")
            },
        )
    )
    print(row("POST → terminal event", percentiles([run.finished * 1000 for run in done if run.finished])))
    print("peak RSS of the builder's processes (sampled every 0.2s from /proc):")
    for name in builder_groups:
        peak, count = sampler.peaks.get(name, 0), sampler.processes.get(name, 0)
        print(
            f"  {name:<8} {mib(peak):>9} over {count} processes (idle {mib(idle.get(name, 0))}; "
            f"largest process {mib(sampler.peak_process.get(name, 0))})"
        )
    return 0 if completed == options.runs else 1


if __name__ == "__main__":
    sys.exit(main())
