"""N concurrent generations through the gateway against the demo model: time to first token, memory.

Starts the whole system (tests/e2e/system.py: every service under gunicorn, builder
workers, the demo model paced at --tokens-per-second, nginx), then runs --runs builds,
--concurrency at a time (the first ones started evenly over --ramp seconds), each the way
a browser does it: POST a generation, open its event stream through the gateway, read to
the terminal event. Prints the time to the first `text` or `tool_call` event (from the
POST) beside the demo model's own time to first byte, the completions and errors, and the
peak RSS of the builder's processes. See README.md beside it:

    OASIS_TEST_DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres \\
        OASIS_TEST_REDIS_URL=redis://127.0.0.1:6379/0 .venv/bin/python bench/streams/run.py
"""

from __future__ import annotations

import argparse
import json
import math
import os
import random
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import requests

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO))

from spy import Profile  # noqa: E402  (bench/streams/spy.py, beside this script)

from tests.e2e.system import TERMINAL_STATUSES, System  # noqa: E402

PASSWORD = "a perfectly long passphrase"
PROMPT = "A bakery in Lisbon called Crumb, with a menu and opening hours"
TERMINAL = TERMINAL_STATUSES
# Access tokens live five minutes; sign in again before that.
TOKEN_MAX_AGE = 240
SETUP_THREADS = 16
# Seconds without a byte before a request is given up; streams send a keep-alive every 15s.
READ_TIMEOUT = 60
# The first tool call's arguments chunk that completes its path: 32 characters, 8 tokens.
PATH_TOKENS = 8


# ---- users and runs ----


class User:
    def __init__(self, gateway: str) -> None:
        self.gateway = gateway
        self.email = f"bench-{uuid.uuid4().hex[:12]}@example.com"
        self.lock = threading.Lock()
        self.access = ""
        self.signed_in_at = float("-inf")  # never: a just-booted machine's monotonic clock is near 0

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


class Gauge:
    """How many event streams are open at once, and the most there were."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def change(self, by: int) -> None:
        with self.lock:
            self.now += by
            self.peak = max(self.peak, self.now)


OPEN_STREAMS = Gauge()


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
    generation_id: str = ""
    posted_at: float | None = None  # the wall clock when the (first) POST was sent
    refused_busy: int = 0  # POSTs refused with 429 `builder_busy` and sent again (--retry-busy)
    first_token_at: float | None = None  # … when the first token event arrived


def run_one(run: Run, gateway: str, timeout: float, start_at: float, retry_busy: float = 0) -> Run:
    """One build as a browser makes it; a start refused as busy is sent again for up to `retry_busy`
    seconds, as the studio does, and every figure counts from the first POST, as its user waits."""
    time.sleep(max(0.0, start_at - time.monotonic()))
    session = requests.Session()
    try:
        headers = run.user.headers()
        posted, run.posted_at = time.monotonic(), time.time()
        while True:
            response = session.post(
                f"{gateway}/api/v1/builder/projects/{run.project_id}/generations/",
                json={"prompt": PROMPT},
                headers=headers,
                timeout=READ_TIMEOUT,
            )
            wait = _busy_wait(response)
            if wait is None or time.monotonic() + wait > posted + retry_busy:
                break
            run.refused_busy += 1
            time.sleep(wait)
        if response.status_code != 202:
            run.outcome = f"POST {response.status_code} {_error_code(response)}"
            return run
        run.accepted = time.monotonic() - posted
        run.generation_id = response.json()["id"]
        url = f"{gateway}{response.json()['events_url']}"
        with session.get(
            url, headers={**headers, "Accept": "text/event-stream"}, stream=True, timeout=READ_TIMEOUT
        ) as stream:
            if stream.status_code != 200:
                run.outcome = f"stream {stream.status_code} {_error_code(stream)}"
                return run
            OPEN_STREAMS.change(+1)
            try:
                _follow(run, stream, posted, timeout)
            finally:
                OPEN_STREAMS.change(-1)
        if not run.outcome:
            run.outcome = "stream ended without a terminal event"
    except requests.RequestException as exc:
        run.outcome = f"client {type(exc).__name__}"
    finally:
        session.close()
    return run


def _follow(run: Run, stream: requests.Response, posted: float, timeout: float) -> None:
    """Read a run's events to the terminal one, noting when the milestones arrived."""
    for kind, data in _events(stream):
        now = time.monotonic() - posted
        run.events += kind != "comment"
        if kind == "status" and data.get("status") == "running" and run.running is None:
            run.running = now
        if kind in ("text", "tool_call") and run.first_token is None:
            run.first_token = now
            run.first_token_at = time.time()
        if kind in TERMINAL:
            run.finished = now
            run.outcome = kind
            return
        if now > timeout:
            run.outcome = f"no terminal event within {timeout:g}s"
            return


def _events(response: requests.Response):
    """(type, data) of each Server-Sent Event, as it arrives."""
    kind, data = "", ""
    for line in response.iter_lines(chunk_size=1, decode_unicode=True):
        if line.startswith(":"):
            yield "comment", {}  # a keep-alive: lets the caller check its deadline
            continue
        if line.startswith("event:"):
            kind = line[6:].strip()
        elif line.startswith("data:"):
            data = line[5:].strip()
        elif not line and data:
            yield kind, json.loads(data)
            kind, data = "", ""


def _busy_wait(response: requests.Response) -> float | None:
    """For a start refused as busy, how long the studio waits before it sends it again (`whenNotBusy`
    in web/src/api.ts): `Retry-After` plus a random part of as long again. None for any other answer."""
    if response.status_code != 429 or _error_code(response) != "builder_busy":
        return None
    try:
        return float(response.headers["Retry-After"]) * (1 + random.random())
    except (KeyError, ValueError):
        return None


def _error_code(response: requests.Response) -> str:
    try:
        return response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return ""


# ---- memory ----


class Sampler(threading.Thread):
    """From /proc, every few tenths of a second: the RSS of each process group and the CPU each used.

    A group is named by process group ids (a gunicorn master and its workers, a worker
    process, nginx…) or by a command name (`postgres`, `redis-server`: the servers' processes).
    """

    def __init__(
        self,
        groups: dict[str, list[int]],
        commands: dict[str, str],
        database_url: str,
        interval: float = 0.2,
    ) -> None:
        super().__init__(daemon=True, name="sampler")
        self.groups = groups  # name -> process group ids
        self.commands = commands  # command name -> group name
        self.database_url = database_url if database_url.startswith("postgres") else ""
        self.interval = interval
        self.stopped = threading.Event()
        self.samples = 0
        self.peaks: dict[str, int] = {}  # name -> peak of the group's summed RSS, bytes
        self.peak_process: dict[str, int] = {}  # name -> the largest single process, bytes
        self.processes: dict[str, int] = {}  # name -> the most processes seen at once
        self.cpu_first: dict[int, int] = {}  # pid -> clock ticks used when first seen (0 if born later)
        self.cpu_last: dict[int, tuple[str, int]] = {}  # pid -> (group, clock ticks used when last seen)
        self.peak_connections = 0  # the most connections to the builder's PostgreSQL database at once

    def run(self) -> None:
        database = None
        if self.database_url:
            import psycopg

            database = psycopg.connect(self.database_url, autocommit=True)
        try:
            while not self.stopped.wait(self.interval):
                self.sample()
                if database is not None:
                    with database.cursor() as cursor:
                        cursor.execute(
                            "SELECT count(*) - 1 FROM pg_stat_activity WHERE datname = current_database()"
                        )
                        self.peak_connections = max(self.peak_connections, cursor.fetchone()[0])
        finally:
            if database is not None:
                database.close()

    def sample(self) -> None:
        by_group: dict[str, list[int]] = {name: [] for name in self.groups}
        for entry in os.scandir("/proc"):
            if not entry.name.isdigit():
                continue
            try:
                stat = Path(entry.path, "stat").read_text()
                command, rest = stat[stat.index("(") + 1 : stat.rindex(")")], stat.rsplit(")", 1)[1].split()
                pgrp, ticks = int(rest[2]), int(rest[11]) + int(rest[12])
                name = self.commands.get(command) or next(
                    (group for group, ids in self.groups.items() if pgrp in ids), None
                )
                if name is None:
                    continue
                status = Path(entry.path, "status").read_text()
            except (OSError, IndexError, ValueError):
                continue
            pid = int(entry.name)
            self.cpu_first.setdefault(pid, ticks if self.samples == 0 else 0)
            self.cpu_last[pid] = (name, ticks)
            for line in status.splitlines():
                if line.startswith("VmRSS:") and name in by_group:
                    by_group[name].append(int(line.split()[1]) * 1024)
        self.samples += 1
        for name, sizes in by_group.items():
            self.peaks[name] = max(self.peaks.get(name, 0), sum(sizes))
            self.peak_process[name] = max(self.peak_process.get(name, 0), max(sizes, default=0))
            self.processes[name] = max(self.processes.get(name, 0), len(sizes))

    def cpu_seconds(self) -> dict[str, float]:
        """CPU each group used between the first sample and the last."""
        used: Counter[str] = Counter()
        for pid, (name, ticks) in self.cpu_last.items():
            used[name] += ticks - self.cpu_first[pid]
        hertz = os.sysconf("SC_CLK_TCK")
        return {name: ticks / hertz for name, ticks in used.most_common()}

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.sample()


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
    # Each run calls projects and payments a few times; their gunicorn threads bound how many wait.
    peers = {"OASIS_WEB_THREADS": str(options.peer_threads)}
    system = System(
        root=root,
        env_overrides={
            "builder": {
                "OASIS_WEB_WORKERS": str(options.web_workers),
                "OASIS_MAX_RUNNING_GENERATIONS_PER_USER": str(runs),
                "OASIS_LOG_LEVEL": os.environ.get("BENCH_BUILDER_LOG_LEVEL", "WARNING"),
            },
            "auth": peers,
            "payments": {**peers, "OASIS_WELCOME_CREDITS": "10000000"},
            "projects": {**peers, "OASIS_MAX_PROJECTS_PER_USER": str(runs + options.warmup)},
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
    # A pool of connections to each peer as large as the threads (docs/operations.md, scaling the workers).
    pool = {"OASIS_HTTP_POOL_SIZE": str(max(100, threads))}
    for name in builder_workers(options):
        system.start_builder_worker(name, threads=threads, env=pool)
    return system


def builder_workers(options) -> list[str]:
    """The names of the bench's own builder workers in the system."""
    return [f"builder-worker-{index}" for index in range(options.worker_processes)]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--concurrency", type=int, default=200, help="generations running at once")
    parser.add_argument("--runs", type=int, default=None, help="generations in all (default: --concurrency)")
    parser.add_argument(
        "--tokens-per-second", type=float, default=50, help="the demo model's pace, per stream"
    )
    parser.add_argument(
        "--ramp",
        type=float,
        default=30,
        help="seconds over which the first --concurrency runs start (0: all at once)",
    )
    parser.add_argument(
        "--users", type=int, default=0, help="users sharing the runs (default: one per 10 runs)"
    )
    parser.add_argument("--worker-processes", type=int, default=2, help="builder worker processes")
    parser.add_argument("--web-workers", type=int, default=2, help="builder web (uvicorn) processes")
    parser.add_argument(
        "--peer-threads", type=int, default=1, help="threads of each auth/projects/payments web process"
    )
    parser.add_argument("--warmup", type=int, default=4, help="builds run (and not measured) first")
    parser.add_argument(
        "--retry-busy",
        type=float,
        default=0,
        metavar="SECONDS",
        help="send a start refused with 429 builder_busy again after Retry-After (plus up to as long"
        " again at random), for up to this long, as the studio does (0: a refusal ends the run)",
    )
    parser.add_argument("--timeout", type=float, default=600, help="seconds a run may take")
    parser.add_argument("--keep", action="store_true", help="leave the system's logs and databases in place")
    add_profile_option(parser)
    options = parser.parse_args()
    options.runs = options.runs or options.concurrency
    backend = "SQLite"
    if os.environ.get("OASIS_TEST_DATABASE_URL"):
        backend = "PostgreSQL + Redis" if os.environ.get("OASIS_TEST_REDIS_URL") else "PostgreSQL (no Redis)"

    root = Path(tempfile.mkdtemp(prefix="bench-streams-"))
    print(
        f"bench/streams: {options.runs} builds, {options.concurrency} at a time (started over "
        f"{options.ramp:g}s), demo model at {options.tokens_per_second:g} tokens/s, {backend}; "
        f"system in {root}",
        flush=True,
    )
    started = time.monotonic()
    system = start_system(options, root)
    try:
        print(f"  system up in {time.monotonic() - started:.0f}s; setting up users and projects", flush=True)
        runs = prepare(system, options)
        print(f"  running {options.runs} builds…", flush=True)
        with profiled(system, options, root):
            measured = measure(system, options, runs)
    finally:
        # Stopping the system ends any stream still open, so nothing waits on it.
        system.stop()
        if not options.keep:
            shutil.rmtree(root, ignore_errors=True)
    return report(options, measured)


def add_profile_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile",
        type=float,
        default=0,
        metavar="SECONDS",
        help="sample the system's Python processes with py-spy for this long once the runs start,"
        " then print where each part's own code spent its time (spy.py)",
    )


@contextmanager
def profiled(system: System, options, root: Path) -> Iterator[None]:
    """With --profile: py-spy on every Python part of the system while the body runs, then its report."""
    if not options.profile:
        yield
        return
    parts = {
        "builder web": system.processes["builder"].pid,
        **{name: system.processes[name].pid for name in builder_workers(options)},
        **{name: system.processes[name].pid for name in ("auth", "projects", "payments")},
    }
    profile = Profile(parts, options.profile, root / "profile")
    profile.start()
    try:
        yield
    finally:
        profile.wait()
    profile.report()


def prepare(system: System, options) -> list[Run]:
    """Users (signed in) and one empty project per run, made before anything is measured.

    A few builds first warm every process up (JWKS, service tokens, connections, imports),
    so the figures are those of a system that has been running, not of its first requests.
    """
    users = [User(system.url) for _ in range(options.users or max(1, math.ceil(options.runs / 10)))]
    total = options.warmup + options.runs
    with ThreadPoolExecutor(SETUP_THREADS) as setup:
        list(setup.map(lambda user: (user.register(), user.headers()), users))
        projects = list(setup.map(lambda index: users[index % len(users)].new_project(), range(total)))
        runs = [Run(users[index % len(users)], project) for index, project in enumerate(projects)]
        warm = list(setup.map(lambda run: run_one(run, system.url, 60, 0), runs[: options.warmup]))
    if any(run.outcome != "done" for run in warm):
        raise SystemExit(f"the warm-up builds did not all finish: {[run.outcome for run in warm]}")
    return runs[options.warmup :]


@dataclass
class Measured:
    runs: list[Run]
    elapsed: float  # seconds from the first POST to the last terminal event
    demo: dict  # the demo model's /_control/stats at the end
    first_calls: dict  # … once every run had its first token: the runs' first model calls only
    sampler: Sampler
    idle: dict[str, int]  # RSS of each group before the runs, bytes
    client_cpu: float  # CPU seconds this script used meanwhile
    phases: dict[str, list[float]]  # phase -> milliseconds each run spent in it (see `phases_of`)


def measure(system: System, options, runs: list[Run]) -> Measured:
    requests.delete(f"{system.demo_url}/_control/stats", timeout=10).raise_for_status()
    groups = {
        "builder web": [system.processes["builder"].pid],
        "builder workers": [system.processes[name].pid for name in builder_workers(options)],
        **{
            name: [system.processes[name].pid]
            for name in ("demo-model", "gateway", "auth", "projects", "payments")
        },
    }
    sampler = Sampler(
        groups, {"postgres": "postgres (all)", "redis-server": "redis (all)"}, system.database_urls["builder"]
    )
    sampler.sample()
    idle = dict(sampler.peaks)
    client_cpu = sum(os.times()[:2])
    sampler.start()
    began = time.monotonic()
    step = options.ramp / options.concurrency
    pool = ThreadPoolExecutor(options.concurrency)
    first_calls: dict = {}
    watcher = threading.Thread(
        target=_first_calls, args=(f"{system.demo_url}/_control/stats", runs, first_calls), daemon=True
    )
    watcher.start()
    try:
        done = list(
            pool.map(
                lambda index: run_one(
                    runs[index],
                    system.url,
                    options.timeout,
                    began + step * min(index, options.concurrency),
                    options.retry_busy,
                ),
                range(len(runs)),
            )
        )
    finally:
        pool.shutdown(wait=False, cancel_futures=True)
        sampler.stop()
    elapsed = time.monotonic() - began
    client_cpu = sum(os.times()[:2]) - client_cpu
    demo = requests.get(f"{system.demo_url}/_control/stats", timeout=10).json()
    watcher.join(timeout=5)
    calls = requests.get(f"{system.demo_url}/_control/calls", timeout=10).json()["calls"]
    phases = phases_of(done, _milestones(system.database_urls["builder"]), calls)
    return Measured(done, elapsed, demo, first_calls, sampler, idle, client_cpu, phases)


# ---- where the time to first token goes ----

PHASES = (
    ("POST → a worker picks the run up", "picked_up"),
    ("pick-up → first model request", "model_request"),
    ("model request → its first byte (demo)", "model_first_byte"),
    ("first byte → first token event created", "created"),
    ("created → delivered to the client", "delivered"),
)


def _milestones(database_url: str) -> dict[str, tuple[float, float | None, float | None]]:
    """generation id (hex) -> when its row was written, when a worker picked it up, and when its first
    `text`/`tool_call` event was created (its `created_at`: when the run numbered it, then published
    it, or stored it without Redis): seconds since the epoch, from the builder's own database."""
    query = (
        "SELECT g.id, g.created_at, g.started_at, MIN(e.created_at) FROM generations_generation g "
        "LEFT JOIN generations_event e ON e.generation_id = g.id AND e.type IN ('text', 'tool_call') "
        "GROUP BY g.id, g.created_at, g.started_at"
    )
    found = rows(database_url, query)
    return {uuid.UUID(str(row[0])).hex: tuple(_epoch(value) for value in row[1:]) for row in found}


def rows(database_url: str, query: str) -> list[tuple]:
    """What `query` returns from one of the system's databases (PostgreSQL or SQLite)."""
    if database_url.startswith("postgres"):
        import psycopg

        database = psycopg.connect(database_url)
    else:
        import sqlite3

        database = sqlite3.connect(database_url.removeprefix("sqlite:///"))
    try:
        cursor = database.cursor()
        cursor.execute(query)
        return cursor.fetchall()
    finally:
        database.close()


def _epoch(value) -> float | None:
    """A timestamp as the database gives it (an aware datetime, or SQLite's UTC text) in epoch seconds."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.timestamp()


def phases_of(runs: list[Run], milestones: dict, calls: list[dict]) -> dict[str, list[float]]:
    """Each run's time to first token cut at its milestones, in milliseconds.

    The clocks: the client's (POST, delivery), the builder's database (row, pick-up, first event),
    the demo model's (its first request of the run, named `<generation id>/1`); one machine's.
    """
    first_calls = {
        uuid.UUID(call["id"].split("/")[0]).hex: call for call in calls if call["id"].endswith("/1")
    }
    phases: dict[str, list[float]] = {key: [] for _, key in PHASES}
    for run in runs:
        if run.first_token_at is None or not run.generation_id:
            continue
        key = uuid.UUID(run.generation_id).hex
        _, picked_up, created = milestones.get(key, (None, None, None))
        call = first_calls.get(key)
        if picked_up is None or created is None or call is None:
            continue
        spans = {
            "picked_up": picked_up - run.posted_at,
            "model_request": call["received_at"] - picked_up,
            "model_first_byte": call["first_byte_at"] - call["received_at"],
            "created": created - call["first_byte_at"],
            "delivered": run.first_token_at - created,
        }
        for name, seconds in spans.items():
            phases[name].append(seconds * 1000)
    return phases


def _first_calls(stats_url: str, runs: list[Run], into: dict) -> None:
    """The demo's figures once every run has had its first token, before (as a rule) any second call.

    Each build calls the model twice: first the tool calls, then a short closing text whose first
    byte comes at once. The time to first token compares with the first calls only.
    """
    while not all(run.first_token is not None or run.outcome for run in runs):
        time.sleep(0.1)
    into.update(requests.get(stats_url, timeout=10).json())


def report(options, measured: Measured) -> int:
    done, elapsed, demo, sampler = measured.runs, measured.elapsed, measured.demo, measured.sampler
    outcomes = Counter(run.outcome for run in done)
    completed = outcomes.pop("done", 0)
    system_first = percentiles([run.first_token * 1000 for run in done if run.first_token is not None])
    started = sum(run.first_token is not None for run in done)
    first_calls = measured.first_calls if measured.first_calls.get("requests") == started else demo
    demo_first = {key: first_calls["first_byte_ms"][key] for key in ("p50", "p95", "max")}
    overhead = {
        key: None
        if system_first[key] is None or demo_first[key] is None
        else system_first[key] - demo_first[key]
        for key in ("p50", "p95", "max")
    }
    # A tool call is announced once its path has streamed: the demo sends the opening chunk (the
    # call's name) as its first byte, then 32 characters of arguments, 8 tokens later at its pace.
    path_ms = PATH_TOKENS / options.tokens_per_second * 1000
    print()
    print(
        f"completed: {completed}/{options.runs} done in {elapsed:.1f}s; "
        f"{OPEN_STREAMS.peak} event streams open at once at the peak"
    )
    print(f"errors: {sum(outcomes.values())} {dict(outcomes) if outcomes else ''}".rstrip())
    print(f"demo model: {demo['requests']} requests {demo['by_outcome']}")
    if options.retry_busy:
        waited = [run for run in done if run.refused_busy]
        tries = percentiles([run.refused_busy for run in waited])
        print(
            f"refused as busy and sent again (--retry-busy {options.retry_busy:g}): "
            f"{sum(run.refused_busy for run in done)} times, by {len(waited)} runs "
            f"(p50 {tries['p50'] or 0:g}, max {tries['max'] or 0:g} times a run)"
        )
    sent = sorted(run.posted_at for run in done[: options.concurrency] if run.posted_at is not None)
    if sent:
        print(f"the first {len(sent)} POSTs left over {sent[-1] - sent[0]:.2f}s (--ramp {options.ramp:g})")
    print("milliseconds (p50, p95, max over the runs):")
    print(row("POST → 202 accepted", percentiles([run.accepted * 1000 for run in done if run.accepted])))
    print(row("POST → `running` event", percentiles([run.running * 1000 for run in done if run.running])))
    print(row("POST → first text/tool_call event (system)", system_first))
    print(row(f"demo's own time to first byte ({first_calls['requests']} calls)", demo_first))
    print(row("system minus demo", overhead))
    print(
        row(
            f"… less the path's {PATH_TOKENS} tokens ({path_ms:.0f} ms)",
            {key: None if value is None else value - path_ms for key, value in overhead.items()},
        )
    )
    print(row("POST → terminal event", percentiles([run.finished * 1000 for run in done if run.finished])))
    counted = len(next(iter(measured.phases.values()), []))
    print(f"where the first token's time goes ({counted} runs; the phases add up to POST → first token):")
    for title, key in PHASES:
        print(row(title, percentiles(measured.phases[key])))
    print("peak RSS of the builder's processes (sampled every 0.2s from /proc):")
    for name in ("builder web", "builder workers"):
        peak, count = sampler.peaks.get(name, 0), sampler.processes.get(name, 0)
        print(
            f"  {name:<16} {mib(peak):>9} over {count} processes (idle {mib(measured.idle.get(name, 0))}; "
            f"largest process {mib(sampler.peak_process.get(name, 0))})"
        )
    if sampler.database_url:
        print(f"peak connections to the builder's database: {sampler.peak_connections}")
    used = {**sampler.cpu_seconds(), "bench client": measured.client_cpu}
    print(f"CPU seconds used during the runs ({os.cpu_count()} cores x {elapsed:.0f}s):")
    print("  " + ", ".join(f"{name} {seconds:.1f}" for name, seconds in used.items()))
    return 0 if completed == options.runs else 1


if __name__ == "__main__":
    sys.exit(main())
