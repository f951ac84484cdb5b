"""The builder through the gateway, against the real services, worker and demo model.

Runs that must still be going when the test acts (streams, cancel, a crash, two builds at
once) use a second demo model paced at a few hundred tokens a second, registered in the
catalog as `oasis-demo-slow`; everything else uses the system's own, unpaced demo model.
"""

from __future__ import annotations

import functools
import itertools
import json
import signal
import socket
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from html.parser import HTMLParser

import pytest
import requests

from tests.e2e.conftest import bearer, eventually, register, sign_in
from tests.e2e.system import SERVICES, TERMINAL_STATUSES

pytestmark = pytest.mark.skipif("builder" not in SERVICES, reason="the builder service is not started")

BUILDER = "/api/v1/builder/"
PROJECTS = "/api/v1/projects/"
PAYMENTS = "/api/v1/payments/"
TERMINAL = TERMINAL_STATUSES
WELCOME_CREDITS = 2000
SLOW_MODEL = "oasis-demo-slow"
# The slow demo writes the first build's ~2,100 tokens in about four seconds.
SLOW_TOKENS_PER_SECOND = 500
# The worker's heartbeat also carries cancel requests to the run; fast here so a cancel lands at once.
HEARTBEAT_SECONDS = "0.5"
BUILD_PROMPT = "A bakery in Lisbon called Crumb, with a menu and opening hours"


# ---- fixtures ----


QUICK_WORKER = {"OASIS_GENERATION_HEARTBEAT_SECONDS": HEARTBEAT_SECONDS}


def start_quick_worker(system) -> None:
    system.start_builder_worker(env=QUICK_WORKER)


@pytest.fixture(scope="module", autouse=True)
def quick_worker(system):
    """The shared worker, restarted with a short heartbeat; the default one comes back afterwards."""
    system.stop_process("builder-worker")
    start_quick_worker(system)
    yield
    system.stop_process("builder-worker")
    system.start_builder_worker()


@pytest.fixture(scope="module")
def slow_model(system) -> str:
    url = system.start_demo_model(
        "demo-model-slow", env={"OASIS_DEMO_TOKENS_PER_SECOND": str(SLOW_TOKENS_PER_SECOND)}
    )
    entry = {
        "slug": SLOW_MODEL,
        "display_name": "Oasis demo, paced (tests)",
        "upstream_model": "oasis-demo",
        "base_url": f"{url}/v1",
        "context_window": 32_768,
        "max_output_tokens": 4_096,
        "input_price": 1_000,
        "output_price": 4_000,
        "is_default": False,
        "enabled": True,
        "position": 99,
    }
    system.manage("builder", "sync_models", env={"OASIS_MODELS": json.dumps([entry])})
    yield SLOW_MODEL
    system.manage("builder", "sync_models", env={"OASIS_MODELS": json.dumps([{**entry, "enabled": False}])})
    system.stop_process("demo-model-slow")


@pytest.fixture
def auth(account) -> dict:
    return bearer(account["access"])


@pytest.fixture
def project(gateway, auth) -> dict:
    return new_project(gateway, auth)


@pytest.fixture
def demo_faults(system):
    """The system demo model's fault queue, empty before and after the test."""
    faults = f"{system.demo_url}/_control/faults"
    requests.delete(faults, timeout=5)
    yield faults
    requests.delete(faults, timeout=5)


@pytest.fixture(scope="module")
def builder_token(system) -> str:
    """A service token for calling payments as the builder does."""
    response = requests.post(
        f"{system.service_url('auth')}/internal/v1/service-token",
        json={
            "client_id": "builder",
            "client_secret": system.client_secrets["builder"],
            "audience": "payments",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


# ---- helpers ----


def new_project(gateway, auth) -> dict:
    response = gateway.post(PROJECTS, json={"name": f"Site {uuid.uuid4().hex[:8]}"}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def start(gateway, auth, project: dict, prompt: str = BUILD_PROMPT, **extra) -> requests.Response:
    return gateway.post(
        f"{BUILDER}projects/{project['id']}/generations/", json={"prompt": prompt, **extra}, headers=auth
    )


def started(gateway, auth, project: dict, prompt: str = BUILD_PROMPT, **extra) -> dict:
    response = start(gateway, auth, project, prompt, **extra)
    assert response.status_code == 202, response.text
    return response.json()


def generation_of(gateway, auth, generation_id: str) -> dict:
    response = gateway.get(f"{BUILDER}generations/{generation_id}/", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()


def wait_for(gateway, auth, generation_id: str, statuses, timeout: float = 30) -> dict:
    return eventually(
        lambda: generation_of(gateway, auth, generation_id),
        lambda generation: generation["status"] in statuses,
        timeout=timeout,
        what=f"generation {generation_id} in {sorted(statuses)}",
    )


def finished(gateway, auth, generation_id: str, timeout: float = 30) -> dict:
    return wait_for(gateway, auth, generation_id, TERMINAL, timeout)


def settled_balance(gateway, auth, timeout: float = 10) -> dict:
    """The balance once nothing is held any more (settlement follows the terminal event)."""
    return eventually(
        lambda: gateway.get(f"{PAYMENTS}balance/", headers=auth).json(),
        lambda balance: balance["held"] == 0,
        timeout=timeout,
        what="no credits held",
    )


def ledger_of(gateway, auth, generation_id: str) -> list[dict]:
    entries = gateway.get(f"{PAYMENTS}ledger/", headers=auth).json()["results"]
    return [entry for entry in entries if entry["generation_id"] == generation_id]


def captured(entries: list[dict]) -> int:
    return -sum(entry["amount"] for entry in entries if entry["kind"] == "capture")


def revisions_of(gateway, auth, project: dict) -> list[dict]:
    response = gateway.get(f"{PROJECTS}{project['id']}/revisions/", headers=auth)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def files_of(gateway, auth, project: dict) -> dict[str, str]:
    response = gateway.get(f"{PROJECTS}{project['id']}/files/", headers=auth)
    assert response.status_code == 200, response.text
    return {entry["path"]: entry["sha256"] for entry in response.json()["files"]}


def text_of(gateway, auth, project: dict, path: str) -> str:
    response = gateway.get(f"{PROJECTS}{project['id']}/files/{path}", headers=auth)
    assert response.status_code == 200, response.text
    return response.content.decode()


@dataclass
class Event:
    id: int
    type: str
    data: dict
    at: float  # time.monotonic() when the client received it


def events_url(generation_id: str) -> str:
    return f"{BUILDER}generations/{generation_id}/events/"


class EventStream:
    """One open event stream, read a piece at a time (one line iterator, so nothing read is dropped)."""

    def __init__(self, response: requests.Response) -> None:
        self.response = response
        self.lines = response.iter_lines(chunk_size=1, decode_unicode=True)

    def __enter__(self) -> EventStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.response.close()

    def read(self, *, until=None) -> list[Event]:
        """Events as they arrive, up to the end of the stream or the first one `until` accepts."""
        events: list[Event] = []
        fields: dict[str, str] = {}
        for raw in self.lines:
            if raw:
                if not raw.startswith(":"):
                    name, _, value = raw.partition(":")
                    fields[name] = value.removeprefix(" ")
                continue
            if "data" in fields:
                event = Event(
                    int(fields["id"]), fields["event"], json.loads(fields["data"]), time.monotonic()
                )
                events.append(event)
                if until is not None and until(event):
                    break
            fields = {}
        return events

    def at_end(self) -> bool:
        return next(self.lines, None) is None


def open_stream(gateway, auth, generation_id: str, last_event_id: int | None = None) -> EventStream:
    headers = {**auth, "Accept": "text/event-stream"}
    if last_event_id is not None:
        headers["Last-Event-ID"] = str(last_event_id)
    response = gateway.get(events_url(generation_id), headers=headers, stream=True)
    assert response.status_code == 200, response.text
    assert response.headers["Content-Type"].startswith("text/event-stream")
    return EventStream(response)


def stream_all(gateway, auth, generation_id: str, last_event_id: int | None = None) -> list[Event]:
    with open_stream(gateway, auth, generation_id, last_event_id) as stream:
        return stream.read()


def assert_gaps_only_where_a_worker_was_lost(events: list[Event]) -> None:
    """No repeat, and a gap only where a lost worker's unstored deltas were: right before the
    run's next event, the sweeper's `requeued` status."""
    ids = [event.id for event in events]
    assert ids == sorted(set(ids)), ids
    gaps = [later for earlier, later in itertools.pairwise(events) if later.id != earlier.id + 1]
    assert all(event.type == "status" and event.data.get("requeued") for event in gaps), gaps


def tool_names(events: list[Event]) -> list[str]:
    return [event.data["name"] for event in events if event.type == "tool_call"]


VOID_ELEMENTS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class _HtmlChecker(HTMLParser):
    """Well-formed enough for a browser and a validator: a doctype, nesting that closes, alt texts."""

    def __init__(self) -> None:
        super().__init__()
        self.doctype = ""
        self.open: list[str] = []
        self.seen: dict[str, dict] = {}
        self.problems: list[str] = []

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        self.seen.setdefault(tag, dict(attrs))
        if tag == "img" and not dict(attrs).get("alt"):
            self.problems.append("an <img> without alt text")
        if tag not in VOID_ELEMENTS:
            self.open.append(tag)

    def handle_endtag(self, tag):
        if not self.open or self.open[-1] != tag:
            self.problems.append(f"</{tag}> closes <{self.open[-1] if self.open else 'nothing'}>")
            return
        self.open.pop()


def assert_valid_html(text: str) -> None:
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    assert checker.doctype.lower() == "doctype html"
    assert checker.seen.get("html", {}).get("lang")
    assert {"head", "title", "body"} <= set(checker.seen)
    assert checker.problems == []
    assert checker.open == []


# ---- the catalog ----


def test_the_model_catalog_is_public(gateway):
    response = gateway.get(f"{BUILDER}models/")

    assert response.status_code == 200, response.text
    models = {model["id"]: model for model in response.json()}
    assert models["oasis-demo"]["input_price"] > 0
    assert models["oasis-demo"]["output_price"] > 0
    assert sum(model["default"] for model in models.values()) == 1


# ---- building ----


def test_a_build_from_an_empty_project_lands_as_one_revision_with_valid_html(gateway, auth, project):
    assert project["current_revision"] == 0

    accepted = start(gateway, auth, project)
    generation = finished(gateway, auth, accepted.json()["id"])

    assert accepted.status_code == 202, accepted.text
    assert accepted.headers["Location"] == events_url(generation["id"])
    assert generation["status"] == "done", generation["error"]
    [revision] = revisions_of(gateway, auth, project)
    assert revision["number"] == generation["revision"] == 1
    assert revision["author"]["type"] == "generation"
    assert revision["author"]["generation_id"] == generation["id"]
    assert revision["message"] == generation["summary"][:500]
    assert {"index.html", "style.css", "script.js"} <= set(files_of(gateway, auth, project))
    assert_valid_html(text_of(gateway, auth, project, "index.html"))
    assert "Crumb" in text_of(gateway, auth, project, "index.html")


def test_a_follow_up_prompt_edits_with_edit_file(gateway, auth, project):
    first = finished(gateway, auth, started(gateway, auth, project)["id"])
    before = files_of(gateway, auth, project)

    follow_up = finished(gateway, auth, started(gateway, auth, project, "Make the background dark")["id"])

    assert (first["status"], follow_up["status"]) == ("done", "done"), follow_up["error"]
    names = tool_names(stream_all(gateway, auth, follow_up["id"]))
    assert "edit_file" in names
    assert "write_file" not in names
    latest = revisions_of(gateway, auth, project)[0]
    assert latest["number"] == follow_up["revision"] == 2
    assert latest["author"]["generation_id"] == follow_up["id"]
    after = files_of(gateway, auth, project)
    changed = {path for path in after if after[path] != before.get(path)}
    assert changed == {change["path"] for change in latest["changes"]} != set()


def test_a_chat_prompt_changes_nothing(gateway, auth, project):
    finished(gateway, auth, started(gateway, auth, project)["id"])
    before = files_of(gateway, auth, project)

    chat = finished(
        gateway, auth, started(gateway, auth, project, "What colours does my site use?", mode="chat")["id"]
    )

    assert chat["status"] == "done", chat["error"]
    assert chat["revision"] is None
    assert chat["summary"]
    assert set(tool_names(stream_all(gateway, auth, chat["id"]))) <= {"list_files", "read_file"}
    assert [revision["number"] for revision in revisions_of(gateway, auth, project)] == [1]
    assert files_of(gateway, auth, project) == before
    messages = gateway.get(f"{BUILDER}projects/{project['id']}/messages/", headers=auth).json()["results"]
    assert [message["role"] for message in messages] == ["user", "assistant", "user", "assistant"]
    assert messages[-1]["content"] == chat["summary"]
    settled_balance(gateway, auth)
    assert captured(ledger_of(gateway, auth, chat["id"])) == chat["cost"] > 0


# ---- live events ----


def test_events_stream_through_the_gateway_unbuffered_and_end_with_the_terminal_event(
    gateway, auth, project, slow_model
):
    posted = time.monotonic()
    generation = started(gateway, auth, project, model=slow_model)

    with open_stream(gateway, auth, generation["id"]) as stream:
        events = stream.read()
        # The stream closes itself after the terminal event.
        assert stream.at_end()

    assert events[-1].type == "done"
    assert [event.type for event in events].count("done") == 1
    assert [event.id for event in events] == list(range(1, len(events) + 1))
    # The slow run takes seconds. Its first event must not wait for the end, and neither must
    # the first tool call, which the run produces while the stream is already open.
    first, last = events[0].at - posted, events[-1].at - posted
    first_call = next(event for event in events if event.type == "tool_call").at - posted
    assert first < 1.5, first
    assert last - first > 2, (first, last)
    assert last - first_call > 1.5, (first_call, last)


def test_an_interrupted_client_resumes_with_last_event_id_and_sees_every_event_once(
    gateway, auth, project, slow_model
):
    generation = started(gateway, auth, project, model=slow_model)
    with open_stream(gateway, auth, generation["id"]) as stream:
        before = stream.read(until=lambda event: event.data.get("status") == "running")
    # Events keep coming while the client is away: another reader sees the run go past what it saw.
    with open_stream(gateway, auth, generation["id"]) as watcher:
        missed = watcher.read(until=lambda event: event.id > before[-1].id)
    assert missed[-1].id > before[-1].id, f"no event after #{before[-1].id} while the client was away"
    assert missed[-1].type not in TERMINAL, "the run ended before the client came back"
    assert generation_of(gateway, auth, generation["id"])["status"] == "running"

    after = stream_all(gateway, auth, generation["id"], last_event_id=before[-1].id)

    seen = [event.id for event in before + after]
    assert seen == list(range(1, len(seen) + 1))
    assert after[0].id == before[-1].id + 1
    assert after[-1].type == "done"
    replay = stream_all(gateway, auth, generation["id"])
    assert [(event.id, event.type, event.data) for event in replay] == [
        (event.id, event.type, event.data) for event in before + after
    ]


def test_a_finished_run_replays_in_full(gateway, auth, project):
    generation = finished(gateway, auth, started(gateway, auth, project)["id"])

    replay = stream_all(gateway, auth, generation["id"])
    from_the_middle = stream_all(gateway, auth, generation["id"], last_event_id=3)

    assert [event.id for event in replay] == list(range(1, len(replay) + 1))
    assert replay[0].type == "status"
    assert replay[-1].type == "done"
    assert replay[-1].data["revision"] == generation["revision"]
    assert {"tool_call", "tool_result", "file_changed", "usage"} <= {event.type for event in replay}
    assert [event.id for event in from_the_middle] == [event.id for event in replay[3:]]


# ---- accepting work ----


def test_two_builds_of_one_project_at_once_one_is_refused(gateway, auth, project, slow_model):
    with ThreadPoolExecutor(max_workers=2) as pool:
        responses = list(pool.map(lambda _: start(gateway, auth, project, model=slow_model), range(2)))

    assert sorted(response.status_code for response in responses) == [202, 409]
    [refused] = [response for response in responses if response.status_code == 409]
    assert refused.json()["error"]["code"] == "build_in_progress"
    [accepted] = [response.json() for response in responses if response.status_code == 202]
    listed = gateway.get(f"{BUILDER}projects/{project['id']}/generations/", headers=auth).json()
    assert [generation["id"] for generation in listed["results"]] == [accepted["id"]]
    gateway.post(f"{BUILDER}generations/{accepted['id']}/cancel/", headers=auth)
    assert finished(gateway, auth, accepted["id"])["status"] == "cancelled"
    # Once the first build has ended, the project takes the next one.
    next_build = start(gateway, auth, project)
    assert next_build.status_code == 202, next_build.text
    assert finished(gateway, auth, next_build.json()["id"])["status"] == "done"


def test_too_few_credits_is_402_and_nothing_runs(system, gateway, account, auth, project, builder_token):
    held = requests.post(
        f"{system.service_url('payments')}/internal/v1/holds",
        json={
            "user_id": account["id"],
            "amount": WELCOME_CREDITS - 10,
            "reason": "e2e",
            "generation_id": "x",
        },
        headers={**bearer(builder_token), "Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )
    assert held.status_code == 201, held.text

    response = start(gateway, auth, project)

    assert response.status_code == 402, response.text
    error = response.json()["error"]
    assert error["code"] == "insufficient_credits"
    assert error["details"]["available"] == 10
    assert error["details"]["required"] > 10
    listed = gateway.get(f"{BUILDER}projects/{project['id']}/generations/", headers=auth).json()
    assert listed["count"] == 0
    assert gateway.get(f"{BUILDER}projects/{project['id']}/messages/", headers=auth).json()["count"] == 0
    assert gateway.get(f"{PAYMENTS}balance/", headers=auth).json() == {
        "balance": WELCOME_CREDITS,
        "held": WELCOME_CREDITS - 10,
        "available": 10,
    }
    assert [entry["kind"] for entry in gateway.get(f"{PAYMENTS}ledger/", headers=auth).json()["results"]] == [
        "hold",
        "grant",
    ]


def test_another_users_project_and_generation_are_not_found(gateway, auth, project):
    generation = finished(gateway, auth, started(gateway, auth, project)["id"])
    other = register(gateway)
    theirs = bearer(sign_in(gateway, other["email"])["access"])

    for response in (
        start(gateway, theirs, project),
        gateway.get(f"{BUILDER}projects/{project['id']}/generations/", headers=theirs),
        gateway.get(f"{BUILDER}projects/{project['id']}/messages/", headers=theirs),
        gateway.get(f"{BUILDER}generations/{generation['id']}/", headers=theirs),
        gateway.post(f"{BUILDER}generations/{generation['id']}/cancel/", headers=theirs),
        gateway.get(events_url(generation["id"]), headers={**theirs, "Accept": "text/event-stream"}),
    ):
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    assert gateway.get(PAYMENTS + "ledger/", headers=theirs).json()["count"] == 1
    assert len(revisions_of(gateway, auth, project)) == 1


def test_the_builder_api_needs_a_token(gateway, project):
    assert (
        gateway.post(f"{BUILDER}projects/{project['id']}/generations/", json={"prompt": "x"}).status_code
        == 401
    )
    assert gateway.get(events_url(str(uuid.uuid4()))).status_code == 401


# ---- cancelling, crashing, failing ----


def test_a_cancel_mid_run_applies_nothing_and_captures_only_what_was_used(gateway, auth, project, slow_model):
    generation = started(gateway, auth, project, model=slow_model)
    with open_stream(gateway, auth, generation["id"]) as stream:
        seen = stream.read(until=lambda event: event.type in ("text", "tool_call"))
        cancel = gateway.post(f"{BUILDER}generations/{generation['id']}/cancel/", headers=auth)
        seen += stream.read()

    assert cancel.status_code == 200, cancel.text
    assert cancel.json()["cancel_requested"] is True
    assert seen[-1].type == "cancelled"
    ended = finished(gateway, auth, generation["id"])
    assert ended["status"] == "cancelled"
    assert ended["revision"] is None
    assert revisions_of(gateway, auth, project) == []
    assert files_of(gateway, auth, project) == {}
    balance = settled_balance(gateway, auth)
    # The tokens streamed before the cancel are paid for; never more than the ceiling held.
    assert 0 < ended["cost"] <= ended["ceiling"]
    assert captured(ledger_of(gateway, auth, generation["id"])) == ended["cost"]
    assert balance == {
        "balance": WELCOME_CREDITS - ended["cost"],
        "held": 0,
        "available": WELCOME_CREDITS - ended["cost"],
    }


def test_a_worker_killed_mid_run_hands_its_run_to_a_live_worker_and_the_stream_goes_on(
    system, gateway, auth, project, slow_model
):
    generation = started(gateway, auth, project, model=slow_model)
    wait_for(gateway, auth, generation["id"], {"running"})
    system.stop_process("builder-worker", signal.SIGKILL)
    try:
        # A live worker sweeps every half second and counts two silent seconds as a lost worker.
        system.start_builder_worker(
            env={
                **QUICK_WORKER,
                "OASIS_GENERATION_STALE_AFTER_SECONDS": "2",
                "OASIS_WORKER_SWEEP_SECONDS": "0.5",
            }
        )
        ended = finished(gateway, auth, generation["id"], timeout=90)
    finally:
        system.stop_process("builder-worker")
        start_quick_worker(system)

    assert ended["status"] == "done", ended["error"]
    assert ended["revision"] == 1
    events = stream_all(gateway, auth, generation["id"])
    assert_gaps_only_where_a_worker_was_lost(events)
    requeued = [event for event in events if event.type == "status" and event.data.get("requeued")]
    assert [event.data["reason"] for event in requeued] == ["worker_lost"]
    assert events[-1].type == "done"
    assert len(revisions_of(gateway, auth, project)) == 1
    settled_balance(gateway, auth)
    assert captured(ledger_of(gateway, auth, generation["id"])) == ended["cost"] > 0


def claims_of(system, generation_ids: list[str]) -> dict[str, list[str]]:
    """The workers that claimed each run's task, from the builder's queue (the database is its truth)."""
    script = (
        "import json; from django_tasks_db.models import DBTaskResult; "
        "print(json.dumps({str(t.args_kwargs['args'][0]): t.worker_ids "
        "for t in DBTaskResult.objects.filter(queue_name='generations')}))"
    )
    claims = json.loads(system.manage("builder", "shell", "-c", script).strip().splitlines()[-1])
    return {generation_id: claims[generation_id] for generation_id in generation_ids}


def test_two_workers_with_their_own_settings_share_the_queue_and_run_each_build_once(
    system, gateway, slow_model
):
    # As on two hosts: each worker its own process group, pool of connections and number of runs.
    names = {"builder-worker-a": "2", "builder-worker-b": "3"}
    owners = [bearer(sign_in(gateway, register(gateway)["email"])["access"]) for _ in range(4)]
    builds = [(headers, new_project(gateway, headers)) for headers in owners]
    system.stop_process("builder-worker")
    try:
        for name, pool_size in names.items():
            settings = {**QUICK_WORKER, "OASIS_DB_POOL_SIZE": pool_size}
            system.start_builder_worker(name, threads=2, env=settings)
            log = functools.partial(system.log, name)
            eventually(log, lambda text: "started with" in text, timeout=30, what=f"{name} started")
        with ThreadPoolExecutor(max_workers=len(builds)) as pool:
            runs = list(pool.map(lambda build: started(gateway, *build, model=slow_model), builds))
        ended = [
            finished(gateway, headers, run["id"], timeout=60)
            for (headers, _), run in zip(builds, runs, strict=True)
        ]
        worker_ids = {f"{socket.gethostname()}-{system.pid(name)}": name for name in names}
    finally:
        for name in names:
            system.stop_process(name)
        start_quick_worker(system)

    assert [(run["status"], run["revision"]) for run in ended] == [("done", 1)] * len(builds)
    claims = claims_of(system, [run["id"] for run in ended])
    # Each run claimed once; two at a time each, so the four builds kept both workers busy.
    assert all(len(claimed) == 1 for claimed in claims.values()), claims
    assert sorted(worker_ids[claimed[0]] for claimed in claims.values()) == sorted([*names] * 2)
    for (headers, project), run in zip(builds, ended, strict=True):
        events = stream_all(gateway, headers, run["id"])
        assert [event.id for event in events] == list(range(1, len(events) + 1))
        assert len(revisions_of(gateway, headers, project)) == 1
        settled_balance(gateway, headers)
        assert captured(ledger_of(gateway, headers, run["id"])) == run["cost"] > 0


@pytest.mark.parametrize(
    "fault",
    [{"kind": "429", "retry_after_ms": 50}, {"kind": "broken_stream", "after_chunks": 2}],
    ids=["429-then-success", "a-broken-stream-then-success"],
)
def test_a_passing_upstream_failure_still_ends_done(system, gateway, auth, project, demo_faults, fault):
    before = requests.get(f"{system.demo_url}/_control/stats", timeout=5).json()["by_outcome"]
    assert requests.post(demo_faults, json={"faults": [fault]}, timeout=5).status_code == 200

    generation = finished(gateway, auth, started(gateway, auth, project)["id"])

    assert generation["status"] == "done", generation["error"]
    assert generation["revision"] == 1
    after = requests.get(f"{system.demo_url}/_control/stats", timeout=5).json()["by_outcome"]
    assert after.get(fault["kind"], 0) == before.get(fault["kind"], 0) + 1
    assert requests.get(demo_faults, timeout=5).json()["queued"] == []
    settled_balance(gateway, auth)
    assert captured(ledger_of(gateway, auth, generation["id"])) == generation["cost"] > 0


def test_repeated_upstream_500s_fail_the_run_and_release_the_whole_hold(gateway, auth, project, demo_faults):
    # One request and the SDK's three retries.
    requests.post(demo_faults, json={"faults": ["500"] * 4}, timeout=5).raise_for_status()

    generation = finished(gateway, auth, started(gateway, auth, project)["id"])

    assert generation["status"] == "failed"
    assert generation["error"]["code"] == "model_unavailable"
    assert generation["cost"] == 0
    assert settled_balance(gateway, auth) == {
        "balance": WELCOME_CREDITS,
        "held": 0,
        "available": WELCOME_CREDITS,
    }
    assert [entry["kind"] for entry in ledger_of(gateway, auth, generation["id"])] == ["release", "hold"]
    assert revisions_of(gateway, auth, project) == []
    last = stream_all(gateway, auth, generation["id"])[-1]
    assert last.type == "failed"
    assert "500" not in last.data["error"]["message"]


def test_a_build_answered_in_plain_text_ends_no_changes_through_the_gateway(
    gateway, auth, project, demo_faults
):
    # The model ignores its tools, and again after the one reminder it gets.
    requests.post(demo_faults, json={"faults": ["ignore_tools"] * 2}, timeout=5).raise_for_status()

    generation = finished(gateway, auth, started(gateway, auth, project)["id"])

    assert generation["status"] == "no_changes"
    assert generation["summary"]
    assert generation["revision"] is None
    assert generation["error"] is None
    last = stream_all(gateway, auth, generation["id"])[-1]
    assert (last.type, last.data["summary"]) == ("no_changes", generation["summary"])
    settled_balance(gateway, auth)
    assert captured(ledger_of(gateway, auth, generation["id"])) == generation["cost"] > 0
    assert revisions_of(gateway, auth, project) == []


def test_a_chat_answer_cut_by_the_output_limit_is_incomplete_through_the_gateway(
    gateway, auth, project, demo_faults
):
    built = finished(gateway, auth, started(gateway, auth, project)["id"])
    assert built["status"] == "done"
    # Every turn may write 20 tokens: the model's reads fit, its answer does not.
    cut = {"kind": "length", "after_tokens": 20}
    requests.post(demo_faults, json={"faults": [cut] * 6}, timeout=5).raise_for_status()

    generation = finished(
        gateway, auth, started(gateway, auth, project, "what colours does my site use?", mode="chat")["id"]
    )

    assert generation["status"] == "incomplete"
    assert generation["error"]["code"] == "output_limit"
    assert generation["summary"] == ""
    last = stream_all(gateway, auth, generation["id"])[-1]
    assert last.type == "incomplete"
    assert last.data["error"]["details"]["partial_text"]
    settled_balance(gateway, auth)
    assert captured(ledger_of(gateway, auth, generation["id"])) == generation["cost"] > 0


def test_a_misconfigured_model_endpoint_fails_the_run_and_costs_nothing(gateway, auth, project, demo_faults):
    requests.post(demo_faults, json={"faults": ["401"]}, timeout=5).raise_for_status()

    generation = finished(gateway, auth, started(gateway, auth, project)["id"])

    assert generation["status"] == "failed"
    assert generation["error"]["code"] == "model_misconfigured"
    assert generation["cost"] == 0
    assert settled_balance(gateway, auth)["available"] == WELCOME_CREDITS
    assert [entry["kind"] for entry in ledger_of(gateway, auth, generation["id"])] == ["release", "hold"]


# ---- conversations ----


def test_conversations_keep_their_own_messages_and_runs_through_the_gateway(gateway, auth, project):
    conversations = f"{BUILDER}projects/{project['id']}/conversations/"
    first = finished(
        gateway, auth, started(gateway, auth, project, "What should a loaf cost?", mode="chat")["id"]
    )
    pricing = gateway.post(conversations, json={"title": "Pricing"}, headers=auth)
    in_pricing = started(
        gateway, auth, project, "And a croissant?", mode="chat", conversation=pricing.json()["id"]
    )
    finished(gateway, auth, in_pricing["id"])

    listed = gateway.get(conversations, headers=auth).json()["results"]
    pricing_messages = gateway.get(f"{BUILDER}conversations/{pricing.json()['id']}/messages/", headers=auth)
    stranger = register(type(gateway)(gateway.base_url))
    theirs = gateway.get(
        f"{BUILDER}conversations/{pricing.json()['id']}/messages/", headers=bearer(stranger["access"])
    )
    archived = gateway.patch(
        f"{BUILDER}conversations/{pricing.json()['id']}/", json={"archived": True}, headers=auth
    )
    refused = start(gateway, auth, project, "One more?", mode="chat", conversation=pricing.json()["id"])

    assert pricing.status_code == 201, pricing.text
    assert in_pricing["conversation_id"] == pricing.json()["id"]
    assert first["conversation_id"] != pricing.json()["id"]
    assert [c["id"] for c in listed][:2] == [pricing.json()["id"], first["conversation_id"]]
    roles = [(m["role"], m["content"]) for m in pricing_messages.json()["results"]]
    assert roles[0] == ("user", "And a croissant?")
    assert [role for role, _ in roles] == ["user", "assistant"]
    assert [m["run"]["status"] for m in pricing_messages.json()["results"] if m["role"] == "assistant"] == [
        "done"
    ]
    assert theirs.status_code == 404
    assert archived.json()["archived"] is True
    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "conversation_archived"


def test_rewinding_to_a_prompt_brings_back_the_files_before_it_and_hides_it(gateway, auth, project):
    first = finished(gateway, auth, started(gateway, auth, project)["id"])
    before = files_of(gateway, auth, project)
    second = finished(gateway, auth, started(gateway, auth, project, "change the title to Pastelaria")["id"])
    edited = files_of(gateway, auth, project)
    conversation = first["conversation_id"]
    messages = gateway.get(f"{BUILDER}conversations/{conversation}/messages/", headers=auth).json()["results"]
    prompt = next(m for m in messages if m["generation_id"] == second["id"] and m["role"] == "user")

    rewound = gateway.post(
        f"{BUILDER}conversations/{conversation}/messages/{prompt['id']}/rewind/", headers=auth
    )
    after = gateway.get(f"{BUILDER}conversations/{conversation}/messages/", headers=auth).json()["results"]
    revisions = gateway.get(f"{PROJECTS}{project['id']}/revisions/", headers=auth).json()["results"]

    assert second["status"] == "done"
    assert edited != before
    assert rewound.status_code == 200, rewound.text
    assert rewound.json()["prompt"] == "change the title to Pastelaria"
    assert rewound.json()["revision"] == second["revision"] + 1
    assert files_of(gateway, auth, project) == before
    assert [m["hidden_at"] is not None for m in after] == [False, False, True, True]
    # History is kept: the rewind is a revision of its own.
    assert revisions[0]["number"] == second["revision"] + 1


# ---- review before apply, and questions ----


def test_a_reviewed_build_waits_for_its_owner_and_applies_the_files_accepted(gateway, auth, project):
    built = finished(gateway, auth, started(gateway, auth, project, apply="review")["id"])
    proposal = gateway.get(f"{BUILDER}generations/{built['id']}/proposal/", headers=auth)
    untouched = files_of(gateway, auth, project)
    accepted = gateway.post(
        f"{BUILDER}generations/{built['id']}/proposal/accept/", json={"paths": ["index.html"]}, headers=auth
    )
    stranger = register(type(gateway)(gateway.base_url))
    theirs = gateway.get(f"{BUILDER}generations/{built['id']}/proposal/", headers=bearer(stranger["access"]))

    assert built["status"] == "proposed"
    assert built["cost"] > 0
    assert untouched == {}
    assert proposal.status_code == 200, proposal.text
    assert {file["path"] for file in proposal.json()["files"]} >= {"index.html", "style.css"}
    assert accepted.status_code == 201, accepted.text
    assert list(files_of(gateway, auth, project)) == ["index.html"]
    assert theirs.status_code == 404


def test_a_vague_build_asks_and_the_answer_builds(gateway, auth, project):
    asked = finished(gateway, auth, started(gateway, auth, project, "make me a website")["id"])
    answered = finished(
        gateway, auth, started(gateway, auth, project, "A bakery called Crumb in Lisbon")["id"]
    )

    assert asked["status"] == "needs_input"
    assert asked["summary"].startswith("What is the site for?")
    assert answered["status"] == "done"
    assert answered["conversation_id"] == asked["conversation_id"]
    assert "Crumb" in text_of(gateway, auth, project, "index.html")


def test_a_runs_options_are_those_its_model_takes(gateway, auth, project):
    models = gateway.get(f"{BUILDER}models/", headers=auth).json()
    demo = next(model for model in models if model["id"] == "oasis-demo")
    tuned = started(gateway, auth, project, "What is on the menu?", mode="chat", options={"temperature": 0.2})
    unknown = start(gateway, auth, project, "hi", mode="chat", options={"top_k": 3})

    assert demo["options"] == ["temperature", "reasoning_effort"]
    assert tuned["options"] == {"temperature": 0.2}
    assert finished(gateway, auth, tuned["id"])["status"] == "done"
    assert unknown.status_code == 400
    assert "top_k" in unknown.json()["error"]["details"]["options"]
