"""Django's PostgreSQL backend, its connection pool checking connections our way (`db_pool`)."""
