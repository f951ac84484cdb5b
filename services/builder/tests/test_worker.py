"""The worker: runs queued generations from the database queue, several at once."""

import pytest
from django.core.management import call_command

from generations.models import Generation, Status
from tests.conftest import client_for


@pytest.fixture
def database_queue(settings):
    # django-tasks resets its backends when TASKS changes.
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["generations"]}}


def test_queued_generations_are_run_by_the_worker(demo, fakes, user_id, database_queue):
    projects, payments = fakes
    ids = []
    for _ in range(3):
        project_id = projects.add(user_id)
        response = client_for(user_id).post(
            f"/api/v1/builder/projects/{project_id}/generations/", {"prompt": "a tea shop"}, format="json"
        )
        ids.append(response.json()["id"])

    call_command("generation_worker", "--batch", "--threads", "3", "--interval", "0.05")

    statuses = set(Generation.objects.filter(pk__in=ids).values_list("status", flat=True))
    assert statuses == {Status.DONE}
    assert len(projects.applied) == 3
    assert all(payments.hold_for(gid)["status"] == "captured" for gid in ids)
