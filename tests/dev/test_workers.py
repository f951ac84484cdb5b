"""`make dev` runs a worker for every queue a service puts its tasks on, as compose and Kubernetes do."""

from __future__ import annotations

import re

from honcho.environ import parse_procfile
from platform_tools import PROCFILE

from .conftest import REPO


def procfile_commands() -> dict[str, str]:
    return dict(parse_procfile(PROCFILE.read_text()).processes)


def test_the_auth_worker_sends_the_emails_auth_queues():
    # The queue the email task is put on (accounts/tasks.py) is the one the worker runs.
    tasks = (REPO / "services" / "auth" / "accounts" / "tasks.py").read_text()
    [queue] = re.findall(r'^EMAIL_QUEUE = "([\w-]+)"$', tasks, re.M)
    command = procfile_commands()["auth-worker"]

    assert command.startswith(".venv/bin/python services/auth/manage.py db_worker ")
    assert f"--queue-name {queue}" in command


def test_the_builder_worker_runs_the_generations():
    assert "services/builder/manage.py generation_worker" in procfile_commands()["builder-worker"]
