"""The check a pooled PostgreSQL connection passes before a request or a run gets it."""

from __future__ import annotations

import logging

from psycopg_pool import ConnectionPool

logger = logging.getLogger("oasis.db")


def check_pooled_connection(connection) -> None:
    """Raise if the server dropped `connection`; the pool then gives out another.

    A dropped connection is rarely alone: a restart, a failover or an operator's
    `pg_terminate_backend` drops every idle one. Handed out one by one, each dead one would
    cost the waiting request a longer pause (the pool backs off between failed checks: 0, 1,
    2, 4 s…), past its timeout. So the first dead one found makes the pool test all its idle
    connections at once and replace the dead: the request then waits for one new connection.

    The check is a round trip (an empty query), every time. Looking only for a readable socket
    would be free, but `pg_terminate_backend` returns before the server process has gone: a
    connection taken in that moment still looks alive, and its request fails
    (tests/chaos, `test_the_builders_database_connections_dropped_mid_run_...`).
    """
    try:
        ConnectionPool.check_connection(connection)
    except Exception:
        # The pool marks a connection it hands out as its own; its `check()` tests the idle ones
        # with psycopg's plain check, never this one.
        pool = getattr(connection, "_pool", None)
        if pool is not None:
            logger.warning("A pooled database connection was dropped; checking the idle ones")
            pool.check()
        raise
