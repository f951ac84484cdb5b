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

from generations import events
from generations.models import TERMINAL, Generation, Message, Role, Status
from generations.settlement import generation_settle

logger = logging.getLogger("oasis.sweeper")

QUEUE_TIMEOUT = timedelta(minutes=15)


def _end(generation: Generation, *, code: str, message: str) -> bool:
    fields = {
        "status": Status.FAILED,
        "cost": 0,
        "error_code": code,
        "error_message": message,
        "finished_at": timezone.now(),
    }
    stale_states = Generation.objects.filter(pk=generation.pk, status=generation.status)
    if generation.status == Status.RUNNING:
        stale_states = stale_states.filter(heartbeat_at=generation.heartbeat_at)
    if not stale_states.update(**fields):
        return False  # it moved on meanwhile
    for name, value in fields.items():
        setattr(generation, name, value)
    Message.objects.create(
        project_id=generation.project_id,
        user_id=generation.user_id,
        generation=generation,
        role=Role.ASSISTANT,
        content=message,
    )
    events.event_append(
        generation_id=generation.id,
        type=Status.FAILED,
        data={
            "status": Status.FAILED,
            "cost": 0,
            "revision": None,
            "summary": "",
            "error": {"code": code, "message": message, "details": {}},
        },
    )
    generation_settle(generation=generation)
    return True


def sweep(*, now=None) -> dict:
    now = now or timezone.now()
    stale_after = timedelta(seconds=settings.OASIS["STALE_AFTER_SECONDS"])
    counts = {"stale": 0, "unstarted": 0, "settled": 0}
    for generation in Generation.objects.filter(status=Status.RUNNING, heartbeat_at__lt=now - stale_after):
        if _end(
            generation,
            code="worker_lost",
            message="The worker running this generation stopped. Nothing was charged.",
        ):
            counts["stale"] += 1
    for generation in Generation.objects.filter(status=Status.QUEUED, created_at__lt=now - QUEUE_TIMEOUT):
        if _end(
            generation,
            code="not_started",
            message="No worker picked this generation up in time. Nothing was charged.",
        ):
            counts["unstarted"] += 1
    for generation in Generation.objects.filter(status__in=TERMINAL, settled=False).exclude(hold_id=""):
        if generation_settle(generation=generation):
            counts["settled"] += 1
    return counts
