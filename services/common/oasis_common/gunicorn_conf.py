"""Gunicorn settings shared by the services: its own log lines in JSON like the rest, Prometheus cleanup."""

import logging
import os

from oasis_common import env
from oasis_common.logs import RequestIdFilter


def _service_name() -> str:
    """The service this gunicorn serves, its Django project's `config.SERVICE`; "" until importable."""
    try:
        import config  # the service's own project package (gunicorn's --chdir puts it on the path)
    except ImportError:
        return ""
    return getattr(config, "SERVICE", "")


class ServiceFilter(RequestIdFilter):
    """Names each line for the service; found once gunicorn is in the service's folder, which it
    enters only after reading this file (`--chdir`)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not self.service:
            self.service = _service_name()
        super().filter(record)
        record.service = self.service or "gunicorn"
        return True


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
# Gunicorn's own lines (workers booting, timeouts, signals) as JSON, named for the service like
# every other line; merged by gunicorn over its defaults, so its root logger uses this console too.
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"service": {"()": "oasis_common.gunicorn_conf.ServiceFilter"}},
    "formatters": {"json": {"()": "oasis_common.logs.JsonFormatter"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "filters": ["service"],
            "stream": "ext://sys.stderr",
        }
    },
    "loggers": {
        "gunicorn.error": {"level": loglevel.upper(), "handlers": ["console"], "propagate": False},
        # Requests are logged once, by oasis_common.middleware, path only: a dict config turns
        # gunicorn's access log on, which would repeat them with their query strings (tickets).
        "gunicorn.access": {"level": "CRITICAL", "handlers": [], "propagate": False},
    },
}
forwarded_allow_ips = "*"


def child_exit(server, worker):
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


# Several gunicorn masters share a host in development and tests; the control socket's
# fixed default path would collide, and nothing here uses it.
control_socket_disable = True
