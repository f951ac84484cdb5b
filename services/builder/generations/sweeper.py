"""Ending what a crashed worker left behind, and settling what payments could not take in time.

A running generation whose heartbeat stopped is marked failed and its hold released (a
crash is never the user's fault); a generation queued for too long is ended the same
way; a finished one whose settlement failed is settled again.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.utils import timezone

from generations.finishing import Outcome, generation_finish
from generations.models import TERMINAL, Generation, Status
from generations.settlement import generation_settle

logger = logging.getLogger("oasis.sweeper")

QUEUE_TIMEOUT = timedelta(minutes=15)


def _end(generation: Generation, *, code: str, message: str) -> bool:
    """Fail a run a worker left behind, unless it moved on since it was read (a beat, a finish)."""
    outcome = Outcome(status=Status.FAILED, code=code, message=message)
    return generation_finish(
        generation=generation, outcome=outcome, unless_beating=generation.status == Status.RUNNING
    )


def sweep(*, now=None) -> dict:
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.OASIS["STALE_AFTER_SECONDS"])
    left_behind = (
        (
            "stale",
            Generation.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - stale_after),
            "worker_lost",
            "The worker running this generation stopped. Nothing was charged.",
        ),
        (
            "unstarted",
            Generation.objects.filter(status=Status.QUEUED, created_at__lt=now - QUEUE_TIMEOUT),
            "not_started",
            "No worker picked this generation up in time. Nothing was charged.",
        ),
    )
    counts = {"stale": 0, "unstarted": 0, "settled": 0}
    for count, generations, code, message in left_behind:
        for generation in generations:
            counts[count] += _end(generation, code=code, message=message)
    for generation in Generation.objects.filter(status__in=TERMINAL, settled=False).exclude(hold_id=""):
        if generation_settle(generation=generation):
            counts["settled"] += 1
    return counts
