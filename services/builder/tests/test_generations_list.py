"""The generations list's filters: `?status=` and `?active=` (the runs going now), scoped to the caller."""

import pytest

from catalog.models import LanguageModel
from generations.models import Generation, Mode, Status

BASE = "/api/v1/builder"


@pytest.fixture
def project_id(demo_catalog, fakes, user_id):
    projects, _ = fakes
    return projects.add(user_id)


def generation(*, user_id, project_id, status: Status) -> Generation:
    # Chat runs: the one-active-build-per-project constraint does not apply, so any mix can exist.
    return Generation.objects.create(
        user_id=user_id,
        project_id=project_id,
        model=LanguageModel.objects.first(),
        mode=Mode.CHAT,
        prompt=f"a {status} run",
        status=status,
    )


@pytest.fixture
def runs(project_id, user_id):
    return {status: generation(user_id=user_id, project_id=project_id, status=status) for status in Status}


def listed(api, project_id, query: str) -> list[str]:
    response = api.get(f"{BASE}/projects/{project_id}/generations/?{query}")
    assert response.status_code == 200, response.content
    return sorted(item["status"] for item in response.json()["results"])


@pytest.mark.parametrize(
    ("query", "statuses"),
    [
        ("active=true", ["queued", "running"]),
        ("active=false", sorted(s for s in Status if s not in ("queued", "running"))),
        ("status=running", ["running"]),
        ("status=done&status=failed", ["done", "failed"]),
        ("status=running&active=true", ["running"]),
        ("status=done&active=true", []),
        ("", sorted(Status)),
    ],
)
def test_the_list_keeps_only_the_statuses_asked_for(api, project_id, runs, query, statuses):
    assert listed(api, project_id, query) == statuses


@pytest.mark.parametrize(
    ("query", "field"), [("status=sleeping", "status"), ("active=maybe", "active"), ("status=", "status")]
)
def test_an_unknown_filter_value_is_400_in_the_error_envelope(api, project_id, runs, query, field):
    response = api.get(f"{BASE}/projects/{project_id}/generations/?{query}")

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert field in error["details"]
    assert error["request_id"]


def test_another_users_project_is_404_whatever_the_filter(other_api, project_id, runs):
    for query in ("active=true", "status=running", "active=maybe"):
        response = other_api.get(f"{BASE}/projects/{project_id}/generations/?{query}")

        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_another_users_runs_on_the_same_project_id_are_not_listed(api, project_id, other_user_id, user_id):
    generation(user_id=other_user_id, project_id=project_id, status=Status.RUNNING)
    mine = generation(user_id=user_id, project_id=project_id, status=Status.RUNNING)

    response = api.get(f"{BASE}/projects/{project_id}/generations/?active=true")

    assert [item["id"] for item in response.json()["results"]] == [str(mine.id)]


def test_a_filtered_list_takes_two_queries(api, project_id, runs, django_assert_num_queries):
    with django_assert_num_queries(2):
        response = api.get(
            f"{BASE}/projects/{project_id}/generations/?active=true&status=running&status=queued"
        )

    assert response.json()["count"] == 2
