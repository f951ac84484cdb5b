"""The run's and the stream's database connections: none held while waiting, none trusted unchecked.

A worker carries many runs and each mostly waits: on the model's stream, on projects
and payments. A connection kept through those waits would be one per run (PostgreSQL
allows about a hundred); given back, a run holds one only while it reads or writes.

Streams read on the shared executor's threads, which no request start or end ever visits:
each call there checks its thread's connection the way Django checks a request's, and a
connection the server dropped (a restart, a failover, `pg_terminate_backend`) costs one
retried query instead of errors until the process restarts.
"""

from functools import wraps

from asgiref.sync import sync_to_async
from django.db import InterfaceError, OperationalError, close_old_connections, connection


def release_connection() -> None:
    """Close this thread's database connection, unless a transaction needs it (as in a test)."""
    if not connection.in_atomic_block:
        connection.close()


def once_more_if_dropped(function, *args, **kwargs):
    """Call `function`; if the database connection failed under it, call it once more on a new one.

    Only for work that is safe to repeat: a read, or writes in one transaction whose second try
    finds what the first one did.
    """
    try:
        return function(*args, **kwargs)
    except (OperationalError, InterfaceError):
        if connection.in_atomic_block:
            raise
        # Dropped by the server, most likely: once more, on a new connection.
        connection.close()
        return function(*args, **kwargs)


def off_request_thread(function):
    """`function` as a coroutine run on the shared executor, with a checked connection given back after.

    A stream waits between its reads; its executor thread keeps no connection meanwhile (with a
    pool, giving one back and taking it again costs nothing).
    """

    @wraps(function)
    def checked(*args, **kwargs):
        close_old_connections()
        try:
            return once_more_if_dropped(function, *args, **kwargs)
        finally:
            release_connection()

    return sync_to_async(checked, thread_sensitive=False)
