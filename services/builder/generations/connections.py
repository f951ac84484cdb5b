"""Holding no database connection while waiting on the network.

A worker carries many runs and each mostly waits: on the model's stream, on projects
and payments. A connection kept through those waits would be one per run (PostgreSQL
allows about a hundred); given back, a run holds one only while it reads or writes.
"""

from django.db import connection


def release_connection() -> None:
    """Close this thread's database connection, unless a transaction needs it (as in a test)."""
    if not connection.in_atomic_block:
        connection.close()
