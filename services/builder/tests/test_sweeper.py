"""What a crashed worker leaves behind is ended, its hold released; failed settlements are retried."""

from datetime import timedelta

from django.core.management import call_command
from django.db import OperationalError
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from generations import runner, sweeper
from generations.finishing import Outcome, generation_finish
from generations.models import TERMINAL, Event, Generation, Message, Status
from generations.sweeper import CLAIM_WITHIN, QUEUE_ROWS_AT_MOST, RENEW_AFTER, _renew_lost_rows, sweep
from generations.tasks import run_generation
from tests.conftest import client_for


def started(user_id, projects, *, mode="build") -> Generation:
    project_id = projects.add(user_id)
    response = client_for(user_id).post(
        f"/api/v1/builder/projects/{project_id}/generations/",
        {"prompt": "a site", "mode": mode},
        format="json",
    )
    assert response.status_code == 202
    return Generation.objects.get(pk=response.json()["id"])


def lose_its_worker(generation) -> None:
    """As a worker dying mid-run leaves it: running, silent, its queue row claimed for good."""
    stale = timezone.now() - timedelta(minutes=5)
    Generation.objects.filter(pk=generation.pk).update(status=Status.RUNNING, heartbeat_at=stale)
    queue_rows(generation).filter(status=TaskResultStatus.READY).update(status=TaskResultStatus.RUNNING)


def queue_rows(generation):
    return DBTaskResult.objects.filter(args_kwargs={"args": [str(generation.id)], "kwargs": {}})


def row_statuses(generation) -> list[str]:
    return sorted(queue_rows(generation).values_list("status", flat=True))


def assert_ran_and_settled(generation, payments) -> None:
    """The run was started by a worker, ended, and its hold was settled."""
    ran = Generation.objects.get(pk=generation.pk)
    assert ran.status in TERMINAL
    assert ran.started_at is not None
    assert ran.settled
    assert payments.hold_for(generation.id)["status"] != "open"


def test_a_run_that_lost_its_worker_is_queued_again_once_and_says_so(
    demo_catalog, fakes, user_id, database_queue
):
    projects, payments = fakes
    generation = started(user_id, projects)
    lose_its_worker(generation)

    counts = sweep()

    generation.refresh_from_db()
    assert (counts["requeued"], counts["stale"]) == (1, 0)
    assert (generation.status, generation.heartbeat_at) == (Status.QUEUED, None)
    event = Event.objects.filter(generation=generation).last()
    assert (event.type, event.data) == (
        "status",
        {"status": "queued", "requeued": True, "reason": "worker_lost"},
    )
    assert payments.hold_for(generation.id)["status"] == "open"
    # The dead worker's row is closed; a new one waits for the next worker.
    assert row_statuses(generation) == [
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    ]


def test_a_run_that_lost_its_worker_twice_is_failed_and_its_hold_released(
    demo_catalog, fakes, user_id, database_queue
):
    projects, payments = fakes
    generation = started(user_id, projects)
    lose_its_worker(generation)
    sweep()
    lose_its_worker(generation)

    counts = sweep()

    generation.refresh_from_db()
    assert counts["stale"] == 1
    assert generation.status == Status.FAILED
    assert generation.error_code == "worker_lost"
    assert generation.cost == 0
    assert generation.settled
    assert payments.hold_for(generation.id)["status"] == "released"
    assert Event.objects.filter(generation=generation).last().type == "failed"
    assert Message.objects.filter(generation=generation, role="assistant").exists()
    assert set(queue_rows(generation).values_list("status", flat=True)) == {TaskResultStatus.FAILED}


def test_a_live_run_is_left_alone(demo_catalog, fakes, user_id):
    projects, payments = fakes
    generation = started(user_id, projects)
    Generation.objects.filter(pk=generation.pk).update(status=Status.RUNNING, heartbeat_at=timezone.now())

    assert sweep()["stale"] == 0
    assert Generation.objects.get(pk=generation.pk).status == Status.RUNNING
    assert payments.hold_for(generation.id)["status"] == "open"


def test_a_run_never_picked_up_is_ended(demo_catalog, fakes, user_id, database_queue):
    projects, payments = fakes
    generation = started(user_id, projects)
    Generation.objects.filter(pk=generation.pk).update(created_at=timezone.now() - timedelta(hours=1))

    assert sweep()["unstarted"] == 1
    assert Generation.objects.get(pk=generation.pk).error_code == "not_started"
    # Its row will not start it later.
    assert set(queue_rows(generation).values_list("status", flat=True)) == {TaskResultStatus.FAILED}
    assert payments.hold_for(generation.id)["status"] == "released"


def test_a_run_whose_claim_failed_gets_a_new_queue_row_and_then_runs(
    demo, fakes, user_id, database_queue, monkeypatch
):
    projects, payments = fakes
    generation = started(user_id, projects)
    claim = runner.generation_run
    failures = []

    def timed_out_once(**kwargs):
        if not failures:
            failures.append(kwargs)
            raise OperationalError("couldn't get a connection after 10.00 sec")
        return claim(**kwargs)

    monkeypatch.setattr(runner, "generation_run", timed_out_once)
    call_command("generation_worker", "--batch", "--interval", "0.05")
    # The worker took the row, could not claim the run, and the row ended: nothing would start it.
    assert Generation.objects.get(pk=generation.pk).status == Status.QUEUED
    assert set(queue_rows(generation).values_list("status", flat=True)) == {TaskResultStatus.FAILED}
    assert sweep()["renewed"] == 0  # not yet: a row may be written just after the sweep looked

    later = timezone.now() + RENEW_AFTER
    assert sweep(now=later)["renewed"] == 1
    assert sweep(now=later)["renewed"] == 0  # it has a live row now
    call_command("generation_worker", "--batch", "--interval", "0.05")

    assert_ran_and_settled(generation, payments)
    assert row_statuses(generation) == [
        TaskResultStatus.FAILED,
        TaskResultStatus.SUCCESSFUL,
    ]


def test_a_run_whose_row_a_worker_took_and_died_with_gets_a_new_row_and_then_runs(
    demo, fakes, user_id, database_queue
):
    projects, payments = fakes
    generation = started(user_id, projects)
    # As a worker killed between taking the row and claiming the run leaves them.
    taken_at = timezone.now()
    queue_rows(generation).update(status=TaskResultStatus.RUNNING, started_at=taken_at, worker_ids=["gone-1"])

    assert sweep(now=taken_at + RENEW_AFTER)["renewed"] == 0  # its claim may yet come
    assert sweep(now=taken_at + CLAIM_WITHIN + timedelta(seconds=1))["renewed"] == 1
    # The dead worker's row is closed, so it is not left running for good.
    assert row_statuses(generation) == [
        TaskResultStatus.FAILED,
        TaskResultStatus.READY,
    ]
    call_command("generation_worker", "--batch", "--interval", "0.05")

    assert_ran_and_settled(generation, payments)


def test_a_run_another_sweep_renewed_meanwhile_gets_no_second_row(
    demo_catalog, fakes, user_id, database_queue, monkeypatch
):
    projects, _ = fakes
    generation = started(user_id, projects)
    queue_rows(generation).update(status=TaskResultStatus.FAILED)
    rows = sweeper._queue_rows

    def renewed_by_another_sweep(generation_id):
        # Between this sweep's first look and its lock on the run, another worker's sweep renews it.
        if not queue_rows(generation).filter(status=TaskResultStatus.READY).exists():
            run_generation.enqueue(str(generation_id))
        return rows(generation_id)

    monkeypatch.setattr(sweeper, "_queue_rows", renewed_by_another_sweep)

    assert sweep(now=timezone.now() + RENEW_AFTER)["renewed"] == 0
    assert queue_rows(generation).filter(status=TaskResultStatus.READY).count() == 1


def test_a_queue_row_is_renewed_a_few_times_at_most(demo_catalog, fakes, user_id, database_queue):
    projects, _ = fakes
    generation = started(user_id, projects)
    for _ in range(QUEUE_ROWS_AT_MOST - 1):
        run_generation.enqueue(str(generation.id))
    queue_rows(generation).update(status=TaskResultStatus.FAILED)

    assert sweep(now=timezone.now() + RENEW_AFTER)["renewed"] == 0
    # It is left to the queue's time limit, which ends it at no charge.
    assert queue_rows(generation).count() == QUEUE_ROWS_AT_MOST


def test_with_no_run_waiting_the_renewal_costs_one_query(db, django_assert_num_queries):
    with django_assert_num_queries(1):
        assert _renew_lost_rows(timezone.now()) == 0


def test_a_start_that_never_queued_its_run_gets_no_queue_row(demo_catalog, fakes, user_id, database_queue):
    projects, _ = fakes
    generation = started(user_id, projects)
    # As a web process that died between writing the run and its hold leaves it.
    Generation.objects.filter(pk=generation.pk).update(hold_id="")
    queue_rows(generation).delete()

    assert sweep(now=timezone.now() + RENEW_AFTER)["renewed"] == 0
    assert not queue_rows(generation).exists()


def test_a_settlement_payments_could_not_take_is_retried(demo_catalog, fakes, user_id):
    projects, payments = fakes
    generation = started(user_id, projects)
    Generation.objects.filter(pk=generation.pk).update(status=Status.DONE, cost=2, finished_at=timezone.now())
    payments.down = True
    assert sweep()["settled"] == 0
    payments.down = False

    assert sweep()["settled"] == 1
    hold = payments.hold_for(generation.id)
    assert (hold["status"], hold["captured_amount"]) == ("captured", 2)
    assert Generation.objects.get(pk=generation.pk).settled


def test_a_capture_after_the_hold_expired_charges_nothing_and_says_so(demo_catalog, fakes, user_id):
    projects, payments = fakes
    generation = started(user_id, projects)
    payments.hold_for(generation.id)["status"] = "expired"
    Generation.objects.filter(pk=generation.pk).update(status=Status.DONE, cost=2, finished_at=timezone.now())

    sweep()

    generation.refresh_from_db()
    assert generation.settled
    assert generation.cost == 0


def test_the_command_reports_what_it_did(demo_catalog, fakes, user_id, capsys):
    projects, _ = fakes
    lose_its_worker(started(user_id, projects))

    call_command("sweep_generations")

    assert "runs queued again: 1, stale runs failed: 0, queue rows renewed: 0" in capsys.readouterr().out


def test_the_attempt_that_lost_its_worker_can_no_longer_end_the_run(
    demo_catalog, fakes, user_id, database_queue
):
    projects, payments = fakes
    generation = started(user_id, projects)
    lose_its_worker(generation)
    stale_attempt = Generation.objects.get(pk=generation.pk)  # what the slow old worker still holds
    sweep()

    ended = generation_finish(generation=stale_attempt, outcome=Outcome(status=Status.DONE, cost=3))

    current = Generation.objects.get(pk=generation.pk)
    assert ended is False
    assert (current.status, current.attempt, current.cost) == (Status.QUEUED, 1, 0)
    assert payments.hold_for(generation.id)["status"] == "open"
