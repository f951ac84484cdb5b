"""The worker: runs queued generations from the database queue, several at once, and proves it is alive."""

import io
import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError
from django_tasks_db.models import DBTaskResultQuerySet

from generations.management.commands import worker_alive
from generations.management.commands.generation_worker import Command as GenerationWorker
from generations.management.commands.generation_worker import watch_heartbeat
from generations.management.commands.worker_alive import BEAT_EVERY_SECONDS, Heartbeat, heartbeat_file
from generations.models import Generation, Status
from tests.conftest import client_for


def test_queued_generations_are_run_by_the_worker(demo, fakes, user_id, database_queue):
    projects, payments = fakes
    ids = []
    for _ in range(3):
        project_id = projects.add(user_id)
        response = client_for(user_id).post(
            f"/api/v1/builder/projects/{project_id}/generations/", {"prompt": "a tea shop"}, format="json"
        )
        ids.append(response.json()["id"])

    call_command("generation_worker", "--batch", "--threads", "3", "--interval", "0.05")

    statuses = set(Generation.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {Status.DONE}
    assert len(projects.applied) == 3
    assert all(payments.hold_for(gid)["status"] == "captured" for gid in ids)


# ---- the heartbeat: the claiming loop's proof of life, and the check of it ----


@pytest.fixture
def heartbeat():
    heartbeat = Heartbeat(heartbeat_file())
    heartbeat.path.unlink(missing_ok=True)
    yield heartbeat
    heartbeat.path.unlink(missing_ok=True)


def test_the_claiming_loop_beats_the_heartbeat_that_worker_alive_checks(
    heartbeat, database_queue, transactional_db
):
    call_command("generation_worker", "--batch", "--interval", "0.01")

    assert heartbeat.is_fresh(max_age=BEAT_EVERY_SECONDS)
    call_command("worker_alive", stdout=io.StringIO())


def test_a_stuck_claim_lets_the_heartbeat_go_stale(heartbeat, database_queue, monkeypatch):
    # Beating at every turn of the loop: only a beat from elsewhere (a thread) could keep it fresh now.
    monkeypatch.setattr(worker_alive, "BEAT_EVERY_SECONDS", 0.0)
    ages = []

    def stuck_claim(self, **kwargs):
        time.sleep(0.6)
        ages.append(heartbeat.age())

    monkeypatch.setattr(GenerationWorker, "_claim", stuck_claim)

    call_command("generation_worker", "--batch", "--interval", "0.01")

    assert ages[0] >= 0.5


def beaten(heartbeat: Heartbeat, seconds_ago: float) -> None:
    heartbeat.beat()
    when = time.time() - seconds_ago
    os.utime(heartbeat.path, (when, when))


@pytest.mark.parametrize(("seconds_ago", "max_age"), [(0, 60), (59, 60), (9, 10)])
def test_worker_alive_passes_for_a_recent_beat(heartbeat, seconds_ago, max_age):
    beaten(heartbeat, seconds_ago)
    out = io.StringIO()

    call_command("worker_alive", "--max-age", str(max_age), stdout=out)

    assert "last beat" in out.getvalue()


@pytest.mark.parametrize(
    ("seconds_ago", "max_age", "why"),
    [
        (None, 60, "has not beaten yet"),
        (61, 60, "last beat 61 s ago (allowed: 60 s): it is stuck"),
        (600, 60, "last beat 600 s ago"),
        (20, 10, "last beat 20 s ago (allowed: 10 s)"),
    ],
)
def test_worker_alive_fails_without_a_recent_beat(heartbeat, seconds_ago, max_age, why):
    if seconds_ago is not None:
        beaten(heartbeat, seconds_ago)

    with pytest.raises(CommandError, match=re.escape(why)):
        call_command("worker_alive", "--max-age", str(max_age), stdout=io.StringIO())


def test_worker_alive_exits_non_zero_for_a_probe(tmp_path):
    env = {**os.environ, "OASIS_VAR_DIR": str(tmp_path), "OASIS_ENVIRONMENT": "development"}
    env.pop("DJANGO_SETTINGS_MODULE", None)
    manage = Path(__file__).resolve().parents[1] / "manage.py"

    result = subprocess.run(
        [sys.executable, str(manage), "worker_alive"], env=env, capture_output=True, text=True, timeout=30
    )

    assert result.returncode == 1
    assert "has not beaten yet" in result.stderr


def test_the_allowed_silence_comes_from_the_environment(monkeypatch):
    monkeypatch.setenv("OASIS_WORKER_HEARTBEAT_MAX_AGE", "8")

    assert worker_alive.max_silence_seconds() == 8
    # A healthy loop is never older than a quarter of what the check allows.
    assert worker_alive.beat_every_seconds() == 2


def test_a_silence_allowance_of_zero_is_refused(monkeypatch):
    monkeypatch.setenv("OASIS_WORKER_HEARTBEAT_MAX_AGE", "0")

    with pytest.raises(ImproperlyConfigured, match="OASIS_WORKER_HEARTBEAT_MAX_AGE"):
        worker_alive.max_silence_seconds()


def test_a_worker_whose_loop_went_silent_exits_by_itself(heartbeat):
    heartbeat.beat()
    exits = []

    watch_heartbeat(heartbeat, max_age=0.05, done=threading.Event(), exit_process=exits.append)

    assert exits == [1]


def test_a_worker_whose_loop_beats_is_left_alone(heartbeat):
    beating = Heartbeat(heartbeat.path, every=0.0)
    done, exits = threading.Event(), []
    watcher = threading.Thread(
        target=watch_heartbeat,
        args=(beating,),
        kwargs={"max_age": 0.2, "done": done, "exit_process": exits.append},
    )
    beating.beat()
    watcher.start()
    deadline = time.monotonic() + 0.6
    while time.monotonic() < deadline:
        beating.beat()
        time.sleep(0.01)
    done.set()
    watcher.join(timeout=5)

    assert exits == []


def test_a_claim_on_a_dropped_connection_is_tried_again_next_round(
    demo, fakes, user_id, database_queue, monkeypatch
):
    projects, _ = fakes
    project_id = projects.add(user_id)
    response = client_for(user_id).post(
        f"/api/v1/builder/projects/{project_id}/generations/", {"prompt": "a tea shop"}, format="json"
    )
    assert response.status_code == 202, response.content
    get_locked = DBTaskResultQuerySet.get_locked
    calls = []

    def dropped_once(queryset):
        calls.append(1)
        if len(calls) == 1:
            raise OperationalError("server closed the connection unexpectedly")
        return get_locked(queryset)

    monkeypatch.setattr(DBTaskResultQuerySet, "get_locked", dropped_once)
    worker = GenerationWorker()

    assert worker._claim(queue="generations", backend="default", worker_id="w") is None
    assert worker._claim(queue="generations", backend="default", worker_id="w") is not None
