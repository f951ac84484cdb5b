"""A pool whose idle connections the server dropped all at once hands out a working one at once."""

import os
import time

import pytest
from psycopg import connect
from psycopg_pool import ConnectionPool, PoolTimeout

from oasis_common.db_pool import check_pooled_connection

SERVER = os.environ.get("OASIS_TEST_DATABASE_URL", "")
pytestmark = pytest.mark.skipif(not SERVER.startswith("postgres"), reason="needs PostgreSQL")


def terminate(pids: list[int]) -> None:
    with connect(SERVER, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(pid) FROM unnest(%s::int[]) AS pid", [pids])


def dropped_pool(check) -> ConnectionPool:
    """A pool of five connections, every one of which the server has just dropped while idle."""
    pool = ConnectionPool(SERVER, min_size=5, max_size=5, timeout=3, check=check, open=True)
    pool.wait(timeout=10)
    held = [pool.getconn() for _ in range(5)]
    pids = [connection.info.backend_pid for connection in held]
    for connection in held:
        pool.putconn(connection)
    terminate(pids)
    time.sleep(0.2)
    return pool


def test_after_every_idle_connection_is_dropped_a_request_waits_for_one_new_one():
    pool = dropped_pool(check_pooled_connection)
    try:
        started = time.monotonic()
        with pool.connection() as connection:
            assert connection.execute("SELECT 1").fetchone() == (1,)
        assert time.monotonic() - started < 1
    finally:
        pool.close()


def test_psycopgs_own_check_would_hand_them_out_one_by_one_past_the_timeout():
    # Why the check above exists: a pause after each dead connection, longer each time.
    pool = dropped_pool(ConnectionPool.check_connection)
    try:
        with pytest.raises(PoolTimeout), pool.connection():
            pass
    finally:
        pool.close()
