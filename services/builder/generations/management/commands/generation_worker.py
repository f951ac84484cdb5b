"""Run queued generations, several at a time per process, off django-tasks' database queue.

One thread claims tasks (row-locked, skip-locked, so any number of worker processes
can share the queue) and hands them to a pool: a run mostly waits on the model, so
threads let one process carry many runs. On SIGTERM it stops claiming and gives the
runs in flight a grace period; any it must abandon are ended by the sweeper.

Each turn of the claiming loop beats the heartbeat that `manage.py worker_alive` checks
(the liveness probe); should the loop go silent anyway, the worker exits by itself.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from concurrent.futures import ThreadPoolExecutor, wait

from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.db.utils import InterfaceError, OperationalError
from django_tasks_db.management.commands.db_worker import Worker
from django_tasks_db.models import DBTaskResult
from django_tasks_db.utils import exclusive_transaction, is_locked_database_exception

# The runner and the openai SDK load before the first claim, not inside it (half a second of CPU).
import generations.runner  # noqa: F401
from generations.connections import release_connection
from generations.management.commands.worker_alive import (
    Heartbeat,
    beat_every_seconds,
    heartbeat_file,
    max_silence_seconds,
)
from generations.sweeper import sweep
from generations.wakeup import Alarm
from oasis_common import env

logger = logging.getLogger("oasis.worker")


class Command(BaseCommand):
    help = "Run generations from the queue with a pool of threads."

    def add_arguments(self, parser):
        parser.add_argument("--threads", type=int, default=env.get_int("OASIS_WORKER_THREADS", 8))
        parser.add_argument(
            "--interval",
            type=float,
            default=env.get_float("OASIS_WORKER_POLL_SECONDS", 0.1),
            help=(
                "Seconds between looks at an empty queue: the longest a new run waits to start where "
                "workers are not woken (SQLite); on PostgreSQL a queued run wakes a worker at once."
            ),
        )
        parser.add_argument("--grace", type=float, default=env.get_float("OASIS_WORKER_GRACE_SECONDS", 30))
        parser.add_argument(
            "--sweep-every",
            type=float,
            default=env.get_float("OASIS_WORKER_SWEEP_SECONDS", 10),
            help="Seconds between looks for runs whose worker died (0: never; --batch never sweeps).",
        )
        parser.add_argument("--queue", default="generations")
        parser.add_argument("--backend", default="default")
        parser.add_argument("--batch", action="store_true", help="Run what is queued, then exit.")

    def handle(self, *args, threads: int, interval: float, grace: float, queue: str, batch: bool, **options):
        worker_id = f"{socket.gethostname()}-{os.getpid()}"[:64]
        stop = threading.Event()
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: stop.set())
        backend = options["backend"]
        if options["sweep_every"] and not batch:
            threading.Thread(
                target=sweep_every, args=(options["sweep_every"], stop), name="sweeper", daemon=True
            ).start()
        runner = Worker(
            queue_names=[queue],
            interval=interval,
            batch=batch,
            backend_name=backend,
            startup_delay=False,
            max_tasks=None,
            worker_id=worker_id,
            excluded_queue_names=[],
        )
        slots = threading.Semaphore(threads)
        # Batch runs only what is queued already: nothing to wait for.
        alarm = None if batch else Alarm()
        futures = set()
        heartbeat = Heartbeat(heartbeat_file(), every=beat_every_seconds())
        loop_done = threading.Event()
        threading.Thread(
            target=watch_heartbeat,
            args=(heartbeat,),
            kwargs={"max_age": max_silence_seconds(), "done": loop_done},
            name="heartbeat-watch",
            daemon=True,
        ).start()
        logger.info("Generation worker %s started with %d threads", worker_id, threads)
        with ThreadPoolExecutor(max_workers=threads, thread_name_prefix="generation") as pool:
            try:
                while not stop.is_set():
                    heartbeat.beat()
                    if not slots.acquire(timeout=interval):
                        continue
                    task_result = self._claim(queue=queue, backend=backend, worker_id=worker_id)
                    if task_result is None:
                        slots.release()
                        if batch and not futures:
                            break
                        futures = {f for f in futures if not f.done()}
                        if alarm is None:
                            stop.wait(interval)
                        else:
                            alarm.wait(interval, stop)
                        continue
                    futures.add(pool.submit(self._run, runner, task_result, slots))
            finally:
                # Out of the loop, beats end on purpose: the grace period below is no wedge.
                loop_done.set()
                if alarm is not None:
                    alarm.close()
            futures = {f for f in futures if not f.done()}
            if futures:
                logger.warning("Stopping: waiting up to %ss for %d runs", grace, len(futures))
                _, unfinished = wait(futures, timeout=grace if stop.is_set() else None)
                if unfinished:
                    # The sweeper ends what we abandon (failed, holds released).
                    logger.warning("Abandoning %d runs", len(unfinished))
                    os._exit(1)

    def _claim(self, *, queue: str, backend: str, worker_id: str) -> DBTaskResult | None:
        close_old_connections()
        tasks = DBTaskResult.objects.ready().filter(backend_name=backend, queue_name=queue)
        try:
            with exclusive_transaction(tasks.db):
                task_result = tasks.get_locked()
                if task_result is not None:
                    task_result.claim(worker_id)
                return task_result
        except (OperationalError, InterfaceError) as exc:
            if not (exc.args and is_locked_database_exception(exc)):
                # A connection the server dropped (a restart, a failover): the next round takes a new one.
                logger.warning("Claiming failed (%s); trying again", exc)
            return None
        finally:
            # Given back (or, dropped, closed) before the loop waits for a free thread or a queued run.
            release_connection()

    def _run(self, runner: Worker, task_result: DBTaskResult, slots: threading.Semaphore) -> None:
        try:
            runner.run_task(task_result)
        except Exception:
            logger.exception("Task %s crashed the worker thread", task_result.id)
        finally:
            connection.close()
            slots.release()


def sweep_every(seconds: float, stop: threading.Event) -> None:
    """Find runs whose worker died, from every live worker: within seconds, not at the next cron."""
    while not stop.wait(seconds):
        try:
            sweep()
        except Exception:
            logger.exception("A sweep failed; the next one tries again")
        finally:
            # Like the end of a request: do not keep a connection the database may have dropped.
            close_old_connections()
    connection.close()


def watch_heartbeat(
    heartbeat: Heartbeat, *, max_age: float, done: threading.Event, exit_process=os._exit
) -> None:
    """Exit the process once the claiming loop has gone silent, so that whatever runs it starts a new one.

    Kubernetes restarts a worker whose liveness probe fails; Docker restarts a container that
    exited, never one that is merely unhealthy: there, this is what ends a wedged worker.
    """
    while not done.wait(max_age / 4):
        if not heartbeat.is_fresh(max_age):
            logger.error("The claiming loop has been silent for %.0f s; exiting to be restarted", max_age)
            exit_process(1)
            return
