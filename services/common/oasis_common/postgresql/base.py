"""Django's PostgreSQL backend, whose pool checks a connection with `check_pooled_connection`.

Django builds the pool itself and gives it psycopg's plain check; this swaps in ours, which
replaces every dead idle connection at once after a restart or failover.
"""

from django.db.backends.postgresql import base

from oasis_common.db_pool import check_pooled_connection


class DatabaseWrapper(base.DatabaseWrapper):
    @property
    def pool(self):
        pool = super().pool
        if pool is not None and pool._check is not check_pooled_connection:
            pool._check = check_pooled_connection
        return pool
