"""What a lost worker leaves behind: runs queued again or ended, queue rows closed, settlements retried.

A running generation whose heartbeat stopped lost its worker: the first time, it is queued
again (an event says so, and its stream just goes on with the new attempt; nothing applied
is lost, as landing is idempotent by generation id; a worker that was only slow stops at its
next beat, `heartbeat`); the second time it is failed, at no charge. A queued generation whose
queue row ended without starting it (the worker that took the row could not claim the run: a
database timeout in a crowd, say), or whose row was taken by a worker that died before claiming
the run, gets a new row, a few times at most. A generation queued for too long is failed, at no
charge too. The queue rows of runs ended here are closed, so none is left running or waiting
forever. A finished run whose settlement failed is settled again. Every live worker sweeps every
few seconds (`generation_worker`), and `sweep_generations` does it where no worker runs.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from generations import events
from generations.finishing import Outcome, generation_finish
from generations.models import TERMINAL, Generation, Status
from generations.settlement import generation_settle
from generations.tasks import run_generation

logger = logging.getLogger("oasis.sweeper")

QUEUE_TIMEOUT = timedelta(minutes=15)
# A queued run with no live queue row gets a new one once it is this old (a younger one's row may
# have been written after the sweep looked), while it has had fewer rows than this.
RENEW_AFTER = timedelta(seconds=10)
QUEUE_ROWS_AT_MOST = 3
# A queue row a worker will still run, or is running.
LIVE_ROW = (TaskResultStatus.READY, TaskResultStatus.RUNNING)
# A worker claims the run first thing after taking its row, within its database pool's wait; a row
# taken longer ago than this whose run is still queued was taken by a worker that died before.
CLAIM_WITHIN = timedelta(seconds=60)
# A run is queued again after losing its worker this many times at most.
REQUEUES = 1
LOST = "The worker running this generation stopped. Nothing was charged."


def _lost(generation: Generation) -> str:
    """Queue a run whose worker died again, once; fail it the next time. Says which it did."""
    if generation.attempt < REQUEUES and _requeue(generation):
        return "requeued"
    return "stale" if _end(generation, code="worker_lost", message=LOST) else ""


def _requeue(generation: Generation) -> bool:
    with transaction.atomic():
        # Only if its heartbeat did not move since it was read: a slow beat is not a death.
        moved = Generation.objects.filter(
            pk=generation.pk,
            status=Status.RUNNING,
            heartbeat_at=generation.heartbeat_at,
            attempt=generation.attempt,
        ).update(status=Status.QUEUED, started_at=None, heartbeat_at=None, attempt=F("attempt") + 1)
        if not moved:
            return False
        _close_queue_rows(generation.id)
        events.event_append(
            generation_id=generation.id,
            type="status",
            data={"status": Status.QUEUED, "requeued": True, "reason": "worker_lost"},
        )
        run_generation.enqueue(str(generation.id))
    logger.warning("Generation %s lost its worker; queued again", generation.id)
    return True


def _end(generation: Generation, *, code: str, message: str) -> bool:
    """Fail a run a worker left behind, unless it moved on since it was read (a beat, a finish)."""
    outcome = Outcome(status=Status.FAILED, code=code, message=message)
    ended = generation_finish(
        generation=generation, outcome=outcome, unless_beating=generation.status == Status.RUNNING
    )
    if ended:
        _close_queue_rows(generation.id)
    return ended


def _close_queue_rows(generation_id) -> None:
    """Close the run's queue rows that no worker will finish: claimed by a dead one, or never claimed."""
    _queue_rows(generation_id).filter(status__in=LIVE_ROW).update(
        status=TaskResultStatus.FAILED,
        finished_at=timezone.now(),
        exception_class_path="generations.sweeper.WorkerLost",
        traceback=LOST,
    )


def _queue_rows(generation_id):
    return DBTaskResult.objects.filter(
        task_path=run_generation.module_path, args_kwargs={"args": [str(generation_id)], "kwargs": {}}
    )


def _renew_lost_rows(now) -> int:
    """Give a new queue row to each queued run whose rows all ended without starting it."""
    # A start writes its hold and its row in one transaction: a run without a hold was never queued.
    queued = Generation.objects.filter(status=Status.QUEUED, created_at__lt=now - RENEW_AFTER).exclude(
        hold_id=""
    )
    waiting = list(queued.values_list("id", flat=True))
    if not waiting:
        return 0
    # A row still waiting for a worker, or taken by one lately enough that its claim may yet come.
    starting = Q(status=TaskResultStatus.READY) | Q(
        status=TaskResultStatus.RUNNING, started_at__gte=now - CLAIM_WITHIN
    )
    live = {
        row["args"][0]
        for row in DBTaskResult.objects.filter(starting, task_path=run_generation.module_path).values_list(
            "args_kwargs", flat=True
        )
    }
    renewed = 0
    for generation_id in waiting:
        if str(generation_id) in live:
            continue
        # Looked at again under the run's lock: a run claimed or ended since, or renewed by another
        # worker's sweep, is left alone.
        with transaction.atomic():
            if not Generation.objects.select_for_update().filter(pk=generation_id, status=Status.QUEUED):
                continue
            rows = _queue_rows(generation_id)
            if rows.filter(starting).exists() or rows.count() >= QUEUE_ROWS_AT_MOST:
                continue
            _close_queue_rows(generation_id)  # a dead worker's row, taken but never started
            run_generation.enqueue(str(generation_id))
        logger.warning("Generation %s was queued with no live queue row; queued again", generation_id)
        renewed += 1
    return renewed


def sweep(*, now=None) -> dict:
    """One round: runs that lost their worker, runs never picked up, settlements still owed."""
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.OASIS["STALE_AFTER_SECONDS"])
    counts = {"requeued": 0, "stale": 0, "renewed": 0, "unstarted": 0, "settled": 0}
    for generation in Generation.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - stale_after):
        done = _lost(generation)
        if done:
            counts[done] += 1
    counts["renewed"] = _renew_lost_rows(now)
    for generation in Generation.objects.filter(status=Status.QUEUED, created_at__lt=now - QUEUE_TIMEOUT):
        counts["unstarted"] += _end(
            generation,
            code="not_started",
            message="No worker picked this generation up in time. Nothing was charged.",
        )
    for generation in Generation.objects.filter(status__in=TERMINAL, settled=False).exclude(hold_id=""):
        counts["settled"] += generation_settle(generation=generation)
    return counts
