"""A running run's heartbeat: it marks the run alive every few seconds, notices a cancel request,
and notices when the run was taken from this worker (a sweep that believed it lost queued it again,
or ended it): the run then stops, leaving the run to whoever has it now.

The beats of every run in a process are made together, by one thread with two queries a beat,
however many runs the process carries; between beats it holds no database connection (a pool no
larger than the worker's threads serves the runs too).
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import connection
from django.utils import timezone

from generations.connections import release_connection
from generations.models import Generation, Status

logger = logging.getLogger("oasis.runner")


class Heartbeat:
    """One run's beat, the flag its cancel request sets, and the one set when it is taken from this worker."""

    def __init__(self, generation_id, interval: float, *, attempt: int = 0) -> None:
        self.generation_id = generation_id
        self.interval = interval
        self.attempt = attempt
        self.cancel_requested = threading.Event()
        self.taken = threading.Event()

    def start(self) -> None:
        _heartbeats.add(self)

    def stop(self) -> None:
        _heartbeats.discard(self)


class _Heartbeats:
    """The process's heartbeat thread, running while any run is registered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.beating: set[Heartbeat] = set()
        self.thread: threading.Thread | None = None

    def add(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.beating.add(heartbeat)
            if self.thread is None:
                self.thread = threading.Thread(target=self._beat, daemon=True, name="heartbeats")
                self.thread.start()

    def discard(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.beating.discard(heartbeat)

    def _beat(self) -> None:
        try:
            while True:
                with self.lock:
                    if not self.beating:
                        self.thread = None
                        return
                    interval = min(heartbeat.interval for heartbeat in self.beating)
                time.sleep(interval)
                with self.lock:
                    beating = {heartbeat.generation_id: heartbeat for heartbeat in self.beating}
                if beating:
                    _beat_once(beating)
                    release_connection()
        finally:
            connection.close()


def _beat_once(beating: dict) -> None:
    try:
        Generation.objects.filter(pk__in=beating, status=Status.RUNNING).update(heartbeat_at=timezone.now())
        states = Generation.objects.filter(pk__in=beating).values_list(
            "pk", "status", "attempt", "cancel_requested"
        )
        for generation_id, status, attempt, cancel_requested in states:
            heartbeat = beating[generation_id]
            if cancel_requested:
                heartbeat.cancel_requested.set()
            if status != Status.RUNNING or attempt != heartbeat.attempt:
                heartbeat.taken.set()
    except Exception:
        logger.exception("A heartbeat of %d runs failed; the next one tries again", len(beating))
        connection.close()


_heartbeats = _Heartbeats()
