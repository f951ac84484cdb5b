"""Races on real threads and committed transactions: the project row lock makes writers take turns.

These run on PostgreSQL in CI (real row locks) and on the SQLite file the development
setup uses (which serialises writers itself).
"""

import uuid

import pytest

from files.models import Revision
from oasis_common.testing import run_concurrently, service_token_for
from projects.models import Project
from tests.conftest import client_for, user_client
from tests.helpers import PROJECTS, create_project, put_file, text, write

THREADS = 6

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("transactional_db")]


def statuses(results) -> list[int]:
    for result in results:
        if isinstance(result, Exception):
            raise result
    return sorted(result.status_code for result in results)


def test_two_puts_with_the_same_if_match_exactly_one_wins(ada, project):
    etag = f'"{write(ada, project, "index.html", "original")["sha256"]}"'

    results = run_concurrently(
        THREADS,
        lambda index: put_file(
            user_client(ada.user_id), project, "index.html", f"editor {index}", HTTP_IF_MATCH=etag
        ),
    )

    assert statuses(results) == [200] + [412] * (THREADS - 1)
    [winner] = [index for index, result in enumerate(results) if result.status_code == 200]
    assert ada.get(f"{PROJECTS}{project['id']}/files/index.html").content == f"editor {winner}".encode()
    assert Project.objects.get(pk=project["id"]).current_revision == 2


def test_concurrent_change_sets_each_get_their_own_revision(ada, project):
    def change(index):
        return user_client(ada.user_id).post(
            f"{PROJECTS}{project['id']}/changes/",
            {"writes": [text(f"f{index}.txt", str(index))]},
            format="json",
        )

    results = run_concurrently(THREADS, change)

    assert statuses(results) == [201] * THREADS
    assert sorted(result.json()["number"] for result in results) == list(range(1, THREADS + 1))
    assert Project.objects.get(pk=project["id"]).file_count == THREADS
    assert sorted(Revision.objects.values_list("file_count", flat=True)) == list(range(1, THREADS + 1))


def test_the_same_generation_applied_at_once_makes_one_revision(ada, project):
    body = {
        "owner_id": str(ada.user_id),
        "base_revision": 0,
        "generation_id": "gen-race",
        "writes": [text("index.html", "from the builder")],
    }

    def apply(index):
        return client_for(service_token_for("builder", "projects")).post(
            f"/internal/v1/projects/{project['id']}/changes",
            body,
            format="json",
            HTTP_IDEMPOTENCY_KEY=f"key-{index}",
        )

    results = run_concurrently(THREADS, apply)

    assert statuses(results) == [200] * (THREADS - 1) + [201]
    assert len({result.json()["number"] for result in results}) == 1
    assert Revision.objects.filter(generation_id="gen-race").count() == 1


def test_creating_projects_at_once_cannot_pass_the_per_user_limit(settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECTS_PER_USER": 3}
    owner = uuid.uuid4()

    results = run_concurrently(
        THREADS, lambda index: user_client(owner).post(PROJECTS, {"name": f"p{index}"}, format="json")
    )

    assert statuses(results) == [201] * 3 + [409] * (THREADS - 3)
    assert Project.objects.filter(owner_id=owner).count() == 3


def test_one_name_created_at_once_makes_one_project():
    owner = uuid.uuid4()

    results = run_concurrently(
        THREADS, lambda index: user_client(owner).post(PROJECTS, {"name": "Same"}, format="json")
    )

    assert statuses(results) == [201] + [409] * (THREADS - 1)
    assert Project.objects.filter(owner_id=owner).count() == 1


def test_a_restore_and_edits_at_once_leave_a_consistent_history(ada):
    project = create_project(ada, "Race", template="landing")
    write(ada, project, "index.html", "v2")

    def act(index):
        client = user_client(ada.user_id)
        if index == 0:
            return client.post(f"{PROJECTS}{project['id']}/revisions/1/restore/", {}, format="json")
        return put_file(client, project, f"extra{index}.html", "x")

    results = run_concurrently(THREADS, act)

    assert statuses(results) == [201] * THREADS
    numbers = sorted(Revision.objects.filter(project_id=project["id"]).values_list("number", flat=True))
    assert numbers == list(range(1, THREADS + 3))
