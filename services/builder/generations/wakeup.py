"""Waking the workers the moment a run is queued, instead of at their next look at the queue.

The database queue stays the source of truth: a worker still looks at it now and then, and a
wake-up that is lost (a dropped connection, SQLite, which has no notifications) costs only
that wait. On PostgreSQL, queuing a task also sends `NOTIFY` in the same transaction, so it
is delivered when the task row commits and never before; workers `LISTEN` on a connection of
their own and claim at once.
"""

from __future__ import annotations

import logging
import threading
import time

from django.db import connections
from django.dispatch import receiver
from django_tasks.signals import task_enqueued
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger("oasis.worker")

CHANNEL = "oasis_tasks_queued"
# After failing to listen, the worker only looks at the queue for this long before trying again.
RETRY_SECONDS = 5.0
# While listening, a worker still looks at the queue this often: what a lost notification costs.
LISTENING_LOOK_SECONDS = 1.0


def _queue_database() -> str:
    return DBTaskResult.objects.db


@receiver(task_enqueued)
def announce(sender, task_result, **kwargs) -> None:
    """Tell listening workers about a task queued just now; delivered when its transaction commits."""
    connection = connections[_queue_database()]
    if not issubclass(sender, DatabaseBackend) or connection.vendor != "postgresql":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, task_result.task.queue_name])


class Alarm:
    """Waits for a queued task's notification, or at most a given time (then the caller looks anyway).

    Holds one connection of its own in autocommit, listening. Where notifications cannot be had
    (not PostgreSQL, the server unreachable) it simply sleeps; after a broken connection it
    listens again on a new one at the next wait.
    """

    def __init__(self, alias: str | None = None) -> None:
        self.alias = alias or _queue_database()
        self.raw = None
        self.listens = connections[self.alias].vendor == "postgresql"
        self.retry_at = 0.0

    @property
    def listening(self) -> bool:
        return self.raw is not None

    def wait(self, seconds: float, stopped: threading.Event) -> bool:
        """Until a task is announced (True) or the next look at the queue is due (False): after `seconds`
        where it cannot listen (or when `stopped` is set), after LISTENING_LOOK_SECONDS while listening."""
        raw = self._connection()
        if raw is None:
            stopped.wait(seconds)
            return False
        try:
            notices = raw.notifies(timeout=max(seconds, LISTENING_LOOK_SECONDS), stop_after=1)
            return any(True for _ in notices)
        except connections[self.alias].Database.Error as exc:
            # A dropped connection: listen again on a new one next time.
            logger.warning("Listening for queued runs failed (%s); looking at the queue instead", exc)
            self.close()
            return False

    def _connection(self):
        if self.raw is not None or not self.listens or time.monotonic() < self.retry_at:
            return self.raw
        wrapper = connections[self.alias]
        try:
            # A connection of its own, never the pool's: it listens for as long as the worker runs.
            raw = wrapper.Database.connect(**wrapper.get_connection_params(), autocommit=True)
            raw.execute(f'LISTEN "{CHANNEL}"')
        except wrapper.Database.Error as exc:
            self.retry_at = time.monotonic() + RETRY_SECONDS
            logger.warning("Could not listen for queued runs (%s); looking at the queue instead", exc)
            return None
        self.raw = raw
        return raw

    def close(self) -> None:
        raw, self.raw = self.raw, None
        if raw is not None:
            try:
                raw.close()
            except connections[self.alias].Database.Error:  # already broken; nothing more to give back
                pass
