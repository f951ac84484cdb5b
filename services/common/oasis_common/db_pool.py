"""The check a pooled PostgreSQL connection passes before a request or a run gets it."""

from __future__ import annotations

import logging
import select

from psycopg_pool import ConnectionPool

logger = logging.getLogger("oasis.db")


def check_pooled_connection(connection) -> None:
    """Raise if the server dropped `connection`; the pool then gives out another.

    An idle connection the server has not written to since it was given back is alive as far
    as a round trip could tell: a server that drops a connection (a shutdown, a failover,
    `pg_terminate_backend`) says so and closes its end, which makes the socket readable. Only
    a connection the server wrote to is asked (an empty query) whether it still works, so the
    check costs no round trip when nothing happened: a run takes a connection for each event.

    A dropped connection is rarely alone: a restart, a failover or an operator's
    `pg_terminate_backend` drops every idle one. Handed out one by one, each dead one would
    cost the waiting request a longer pause (the pool backs off between failed checks: 0, 1,
    2, 4 s…), past its timeout. So the first dead one found makes the pool test all its idle
    connections at once and replace the dead: the request then waits for one new connection.
    """
    if not _server_wrote(connection):
        return
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


def _server_wrote(connection) -> bool:
    """Whether the server wrote to (or closed) this idle connection: its socket is readable."""
    if connection.closed:
        return True
    poller = select.poll()  # not select(): a busy process has descriptors past its 1,024
    poller.register(connection.fileno(), select.POLLIN | select.POLLERR | select.POLLHUP)
    return bool(poller.poll(0))
