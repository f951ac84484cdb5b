"""Gunicorn settings shared by the services: JSON-friendly logs, Prometheus multiprocess cleanup."""

import os

from oasis_common import env

bind = env.get_str("OASIS_BIND", "0.0.0.0:8000")
workers = env.get_int("OASIS_WEB_WORKERS", 2)
threads = env.get_int("OASIS_WEB_THREADS", 1)
timeout = env.get_int("OASIS_WEB_TIMEOUT", 60)
# As long a request line as the gateway lets through (8k), so an address nginx accepts is never
# refused by gunicorn with a plain-text 400 instead of the JSON envelope.
limit_request_line = 8190
graceful_timeout = 20
keepalive = 5
accesslog = None  # oasis_common.middleware logs each request once, as JSON
errorlog = "-"
loglevel = env.get_str("OASIS_LOG_LEVEL", "info").lower()
forwarded_allow_ips = "*"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# Several gunicorn masters share a host in development and tests; the control socket's
# fixed default path would collide, and nothing here uses it.
control_socket_disable = True
