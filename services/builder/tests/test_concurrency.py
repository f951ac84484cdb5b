"""Races decided by the database: one active build per project, the per-user limit on running runs."""

import pytest

from generations.models import Generation
from oasis_common.testing import run_concurrently
from tests.conftest import client_for

pytestmark = pytest.mark.concurrency


@pytest.fixture
def catalog(transactional_db):
    from catalog.registry import catalog_sync

    catalog_sync()


def test_two_builds_of_one_project_at_once_one_is_refused(catalog, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)

    statuses = run_concurrently(
        6,
        lambda _: (
            client_for(user_id)
            .post(f"/api/v1/builder/projects/{project_id}/generations/", {"prompt": "a site"}, format="json")
            .status_code
        ),
    )

    assert sorted(statuses) == [202, 409, 409, 409, 409, 409]
    assert Generation.objects.filter(project_id=project_id).count() == 1
    assert len(payments.holds) == 1


def test_the_per_user_limit_holds_under_a_burst(catalog, fakes, user_id, settings):
    settings.OASIS = {**settings.OASIS, "MAX_RUNNING_PER_USER": 3}
    projects, _ = fakes
    project_ids = [projects.add(user_id) for _ in range(8)]

    statuses = run_concurrently(
        8,
        lambda n: (
            client_for(user_id)
            .post(
                f"/api/v1/builder/projects/{project_ids[n]}/generations/", {"prompt": "a site"}, format="json"
            )
            .status_code
        ),
    )

    assert statuses.count(202) == 3
    assert statuses.count(429) == 5
    assert Generation.objects.filter(user_id=user_id).count() == 3
