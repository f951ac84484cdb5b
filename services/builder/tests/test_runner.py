"""Runs against the real demo model through the real openai SDK; peers faked over HTTP."""

import json
import threading
import time

import pytest
from django.db import connection

from generations import peers, runner, sweeper
from generations.models import TERMINAL, Event, Generation, Message, Status
from oasis_common.context import reset_request_id, set_request_id
from oasis_common.errors import PeerUnavailable
from oasis_common.testing import user_token
from tests.conftest import client_for


def start(user_id, project_id, *, prompt="a bakery in Lisbon with a menu and opening hours", **extra):
    response = client_for(user_id).post(
        f"/api/v1/builder/projects/{project_id}/generations/", {"prompt": prompt, **extra}, format="json"
    )
    assert response.status_code == 202, response.content
    return response.json()


def run(generation_id) -> Generation:
    runner.generation_run(generation_id=generation_id)
    return Generation.objects.get(pk=generation_id)


def event_types(generation_id) -> list[str]:
    return list(
        Event.objects.filter(generation_id=generation_id).order_by("seq").values_list("type", flat=True)
    )


def on_a_thread(generation_id) -> threading.Thread:
    """The run, started on a thread of its own which gives its database connection back at the end."""

    def run_and_release():
        try:
            runner.generation_run(generation_id=generation_id)
        finally:
            connection.close()

    worker = threading.Thread(target=run_and_release)
    worker.start()
    return worker


def streaming_in_a_thread(generation_id) -> threading.Thread:
    """The run, started on a thread of its own, once the model's answer has begun to stream."""
    worker = on_a_thread(generation_id)
    deadline = time.monotonic() + 20
    while not Event.objects.filter(generation_id=generation_id, type__in=["text", "tool_call"]).exists():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    return worker


def test_a_build_from_an_empty_project_lands_as_one_revision_with_valid_html(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert len(projects.applied) == 1
    files = projects.projects[project_id].files
    assert {"index.html", "style.css", "script.js"} <= set(files)
    html = files["index.html"]
    assert html.lstrip().lower().startswith("<!doctype html>")
    assert '<html lang="' in html
    assert html.rstrip().endswith("</html>")
    assert generation.revision == projects.projects[project_id].revision == 1
    assert projects.applied[0]["generation_id"] == str(generation.id)
    types = event_types(generation.id)
    assert types[0] == "status"
    assert types[-1] == "done"
    assert "file_changed" in types
    assert payments.hold_for(generation.id)["status"] == "captured"


def test_each_model_request_names_its_run_and_its_turn(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    demo.reset()

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    # The demo model is the session's: a run an earlier test left going may call it too.
    ids = [call["id"] for call in demo.calls() if call["id"].startswith(f"{generation.id}/")]
    assert ids == [f"{generation.id}/{turn}" for turn in range(1, len(ids) + 1)]
    assert len(ids) >= 2  # the tool calls, then the closing answer


def test_a_follow_up_prompt_edits_with_edit_file(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    run(start(user_id, project_id)["id"])

    generation = run(start(user_id, project_id, prompt="make the background dark")["id"])

    assert generation.status == Status.DONE, generation.error_message
    calls = Event.objects.filter(generation=generation, type="tool_call").values_list("data", flat=True)
    assert "edit_file" in [call["name"] for call in calls]
    assert "write_file" not in [call["name"] for call in calls]
    assert len(projects.applied) == 2
    assert projects.applied[1]["base_revision"] == 1
    assert [w["path"] for w in projects.applied[1]["writes"]] == ["style.css"]


def test_a_chat_prompt_changes_nothing(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id, {"index.html": "<!doctype html><html lang='en'><h1>Hi</h1></html>"})

    generation = run(start(user_id, project_id, prompt="what colours does my site use?", mode="chat")["id"])

    assert generation.status == Status.DONE
    assert projects.applied == []
    assert generation.revision is None
    assert generation.summary
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0


def test_the_conversation_is_kept_in_order(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    first = run(start(user_id, project_id)["id"])
    second = run(start(user_id, project_id, prompt="change the title to Pastelaria")["id"])

    response = client_for(user_id).get(f"/api/v1/builder/projects/{project_id}/messages/")

    assert response.status_code == 200
    assert [(m["role"], m["generation_id"]) for m in response.json()["results"]] == [
        ("user", str(first.id)),
        ("assistant", str(first.id)),
        ("user", str(second.id)),
        ("assistant", str(second.id)),
    ]


def test_captured_credits_are_the_usage_times_the_price_rounded_up(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)

    generation = run(start(user_id, project_id)["id"])

    usage = Event.objects.filter(generation=generation, type="usage").order_by("-seq").first().data
    micro = usage["input_tokens"] * 1000 + usage["output_tokens"] * 4000
    expected = -(-micro // 1_000_000)
    assert generation.input_tokens == usage["input_tokens"] > 0
    assert generation.output_tokens == usage["output_tokens"] > 0
    assert generation.cost == expected
    assert payments.hold_for(generation.id)["captured_amount"] == expected


@pytest.mark.parametrize(
    ("faults", "status"),
    [
        (["429"], Status.DONE),  # the SDK retries a rate limit and succeeds
        (["500", "500", "500", "500", "500", "500"], Status.FAILED),
        (["broken_stream"], Status.DONE),  # a cut stream is retried from the start of the turn
        (["broken_stream", "broken_stream", "broken_stream", "broken_stream"], Status.FAILED),
    ],
)
def test_upstream_failures_end_in_success_or_failed_with_the_hold_released(
    demo, fakes, user_id, faults, status
):
    projects, payments = fakes
    project_id = projects.add(user_id)
    demo.faults(*faults)

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == status, generation.error_message
    hold = payments.hold_for(generation.id)
    if status == Status.FAILED:
        assert hold["status"] == "released"
        assert generation.cost == 0
        assert generation.error_code == "model_unavailable"
        assert projects.applied == []
        assert "Traceback" not in generation.error_message
    else:
        assert hold["status"] == "captured"


def test_a_model_that_times_out_fails_without_charge(demo, fakes, user_id, settings):
    settings.OASIS = {**settings.OASIS, "MODEL_TIMEOUT_SECONDS": 0.5, "MODEL_MAX_RETRIES": 1}
    projects, payments = fakes
    project_id = projects.add(user_id)
    demo.faults({"kind": "timeout", "hang_seconds": 3}, {"kind": "timeout", "hang_seconds": 3})

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.FAILED
    assert generation.error_code == "model_unavailable"
    assert payments.hold_for(generation.id)["status"] == "released"


def test_a_conflicting_change_by_the_user_applies_nothing(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id, {"index.html": "<!doctype html><html lang='en'><main></main></html>"})
    generation_id = start(user_id, project_id, prompt="add a contact section")["id"]
    projects.user_writes(project_id, "index.html", "<!doctype html><html lang='en'><main>mine</main></html>")

    generation = run(generation_id)

    assert generation.status == Status.CONFLICT
    assert projects.projects[project_id].files["index.html"].endswith("<main>mine</main></html>")
    assert payments.hold_for(generation.id)["status"] == "released"
    assert event_types(generation.id)[-1] == "conflict"


def test_a_ceiling_too_small_for_the_work_ends_budget_exhausted_and_applies_nothing(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)

    generation = run(start(user_id, project_id, max_credits=4)["id"])

    assert generation.status == Status.BUDGET_EXHAUSTED
    assert projects.applied == []
    assert generation.cost <= generation.ceiling == 4
    hold = payments.hold_for(generation.id)
    assert hold["amount"] == 4
    assert (hold["captured_amount"] or 0) == generation.cost


def test_cancel_mid_stream_applies_nothing_and_captures_only_what_was_used(slow_demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)
    generation_id = start(user_id, project_id)["id"]
    worker = streaming_in_a_thread(generation_id)

    response = client_for(user_id).post(f"/api/v1/builder/generations/{generation_id}/cancel/")
    worker.join(timeout=30)

    assert response.status_code == 200
    generation = Generation.objects.get(pk=generation_id)
    assert generation.status == Status.CANCELLED
    assert projects.applied == []
    assert generation.cost <= generation.ceiling
    hold = payments.hold_for(generation_id)
    assert (hold["captured_amount"] or 0) == generation.cost
    assert hold["status"] in ("captured", "released")
    assert event_types(generation_id)[-1] == "cancelled"


def test_an_attempt_a_sweep_queued_again_stops_and_leaves_the_run_to_the_next(
    slow_demo, fakes, user_id, database_queue
):
    projects, payments = fakes
    project_id = projects.add(user_id)
    generation_id = start(user_id, project_id)["id"]
    worker = streaming_in_a_thread(generation_id)

    # A sweep that believed the worker lost (its beats late, say) queues the run again.
    deadline = time.monotonic() + 20
    while not sweeper._requeue(Generation.objects.get(pk=generation_id)):
        assert time.monotonic() < deadline
    worker.join(timeout=30)

    assert not worker.is_alive()
    generation = Generation.objects.get(pk=generation_id)
    # The old attempt stopped within its turn: it asked the model nothing more, and landed, ended
    # and charged nothing.
    requests = [call for call in slow_demo.calls() if call["id"].startswith(f"{generation_id}/")]
    assert len(requests) == 1
    assert (generation.status, generation.attempt) == (Status.QUEUED, 1)
    assert projects.applied == []
    assert payments.hold_for(generation_id)["status"] == "open"
    assert not Event.objects.filter(generation_id=generation_id, type__in=TERMINAL).exists()
    assert not Message.objects.filter(generation=generation, role="assistant").exists()

    # The next attempt runs the whole run and ends it.
    generation = run(generation_id)
    assert generation.status == Status.DONE, generation.error_message
    assert len(projects.applied) == 1
    assert payments.hold_for(generation_id)["status"] == "captured"


def test_a_run_that_is_no_longer_queued_is_not_run(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    generation_id = start(user_id, project_id)["id"]
    client_for(user_id).post(f"/api/v1/builder/generations/{generation_id}/cancel/")

    generation = run(generation_id)

    assert generation.status == Status.CANCELLED
    assert not Message.objects.filter(generation=generation, role="assistant").exists()


def test_events_never_leak_credentials_or_internals(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)

    generation = run(start(user_id, project_id)["id"])

    dump = json.dumps(list(Event.objects.filter(generation=generation).values_list("data", flat=True)))
    assert "service-token" not in dump
    assert user_token(user_id)[:20] not in dump


@pytest.mark.parametrize(
    "faults",
    [
        # Projects restarting: more refusals than the client's quick retries; asked until it answers.
        ["down"] * 8,
        # Committed, then the answer lost while projects restarts: the commit's own answer comes back.
        ["lost"] + ["down"] * 5,
    ],
    ids=["projects-down-while-landing", "answer-lost-after-the-commit"],
)
def test_a_landing_rides_out_projects_being_unavailable_and_the_status_tells_the_truth(
    demo, fakes, user_id, faults
):
    projects, payments = fakes
    project_id = projects.add(user_id)
    projects.landing_faults = list(faults)

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert generation.revision == projects.projects[project_id].revision == 1
    assert len(projects.applied) == 1
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0


def test_projects_down_longer_than_the_landing_allows_fails_the_run_uncharged(demo, fakes, user_id, settings):
    settings.OASIS = {**settings.OASIS, "LAND_RETRY_SECONDS": 0.5}
    projects, payments = fakes
    project_id = projects.add(user_id)
    projects.landing_faults = ["down"] * 50

    generation = run(start(user_id, project_id)["id"])

    assert (generation.status, generation.error_code) == (Status.FAILED, "projects_unavailable")
    assert projects.applied == []
    assert payments.hold_for(generation.id)["status"] == "released"


def test_projects_unavailable_for_the_snapshot_fails_the_run_uncharged_and_says_why(
    demo, fakes, user_id, monkeypatch, settings
):
    settings.OASIS = {**settings.OASIS, "LAND_RETRY_SECONDS": 0.5}
    projects, payments = fakes
    project_id = projects.add(user_id)

    def unavailable(**kwargs):
        raise PeerUnavailable(details={"service": "projects"})

    monkeypatch.setattr(peers, "project_snapshot", unavailable)
    generation = run(start(user_id, project_id)["id"])

    assert (generation.status, generation.error_code, generation.cost) == (
        Status.FAILED,
        "projects_unavailable",
        0,
    )
    assert "files could not be read because a service was unavailable" in generation.error_message
    assert payments.hold_for(generation.id)["status"] == "released"


def test_projects_unavailable_for_a_moment_as_a_run_starts_is_waited_for_and_the_run_ends_done(
    demo, fakes, user_id, monkeypatch
):
    projects, payments = fakes
    project_id = projects.add(user_id)
    real, asked = peers.project_snapshot, []

    def restarting(**kwargs):
        asked.append(kwargs)
        if len(asked) <= 2:
            raise PeerUnavailable(details={"service": "projects"})
        return real(**kwargs)

    monkeypatch.setattr(peers, "project_snapshot", restarting)
    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert len(asked) == 3
    assert generation.revision == projects.projects[project_id].revision == 1
    assert payments.hold_for(generation.id)["status"] == "captured"


def test_a_run_waiting_for_its_files_is_cancelled_at_once_at_no_charge(demo, fakes, user_id, monkeypatch):
    projects, payments = fakes
    project_id = projects.add(user_id)
    asked = threading.Event()

    def unavailable(**kwargs):
        asked.set()
        raise PeerUnavailable(details={"service": "projects"})

    monkeypatch.setattr(peers, "project_snapshot", unavailable)
    generation_id = start(user_id, project_id)["id"]
    worker = on_a_thread(generation_id)
    assert asked.wait(20)

    response = client_for(user_id).post(f"/api/v1/builder/generations/{generation_id}/cancel/")
    # Long before the wait for projects (LAND_RETRY_SECONDS, 60 s) would have run out.
    worker.join(timeout=20)

    assert response.status_code == 200
    assert not worker.is_alive()
    generation = Generation.objects.get(pk=generation_id)
    assert (generation.status, generation.cost) == (Status.CANCELLED, 0)
    assert payments.hold_for(generation_id)["status"] == "released"
    assert projects.applied == []


def test_a_project_deleted_before_its_run_starts_fails_the_run_uncharged(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)
    generation_id = start(user_id, project_id)["id"]
    del projects.projects[project_id]  # its snapshot, asked for as the run starts, is a 404

    generation = run(generation_id)

    assert (generation.status, generation.cost) == (Status.FAILED, 0)
    assert event_types(generation_id) == ["status", "status", "failed"]
    assert payments.hold_for(generation_id)["status"] == "released"


def test_the_snapshot_is_asked_for_under_the_runs_request_id(demo, fakes, user_id):
    projects, _ = fakes
    generation_id = start(user_id, projects.add(user_id))["id"]

    token = set_request_id("run-request-id-1")
    try:
        run(generation_id)
    finally:
        reset_request_id(token)

    assert projects.snapshot_request_ids == ["run-request-id-1"]


def test_a_run_settles_within_seconds_although_payments_restarts_as_it_ends(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)
    payments.settle_refusals = 8  # more than the client's own quick retries

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE
    assert generation.settled
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0
    assert payments.settle_refusals == 0


def test_a_run_whose_payments_stays_away_is_left_for_the_sweeper(demo, fakes, user_id, settings):
    settings.OASIS = {**settings.OASIS, "SETTLE_RETRY_SECONDS": 0.3}
    projects, payments = fakes
    project_id = projects.add(user_id)
    payments.settle_refusals = 1000

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE
    assert not generation.settled
    assert payments.hold_for(generation.id)["status"] == "open"
