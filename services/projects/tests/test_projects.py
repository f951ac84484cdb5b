"""Projects: create, list (paginated, searched, newest change first), read, rename, delete, limits."""

import uuid

import pytest

from files.models import Blob, FileChange, Revision, TreeEntry
from oasis_common.testing import error_of
from projects.models import Project
from tests.helpers import PROJECTS, create_project, project_url, write

FIELDS = {
    "id",
    "name",
    "description",
    "template",
    "current_revision",
    "file_count",
    "size",
    "created_at",
    "updated_at",
    "publication",
}


def names(response) -> list[str]:
    assert response.status_code == 200, response.content
    return [project["name"] for project in response.json()["results"]]


def test_creating_an_empty_project_returns_it_at_revision_0(ada):
    response = ada.post(PROJECTS, {"name": "My site", "description": "A bakery"}, format="json")

    assert response.status_code == 201
    body = response.json()
    assert set(body) == FIELDS
    assert body["name"] == "My site"
    assert body["description"] == "A bakery"
    assert body["template"] == ""
    assert (body["current_revision"], body["file_count"], body["size"]) == (0, 0, 0)
    assert Project.objects.get(pk=body["id"]).owner_id == ada.user_id


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "name"),
        ({"name": ""}, "name"),
        ({"name": "   "}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "tab\there"}, "name"),
        ({"name": 5, "description": "d" * 2001}, "description"),
        ({"name": "ok", "template": "no-such-template"}, "template"),
    ],
)
def test_a_project_with_bad_fields_is_refused(ada, body, field):
    error = error_of(ada.post(PROJECTS, body, format="json"), 400, "validation_error")

    assert field in error["details"]
    assert not Project.objects.exists()


def test_a_malformed_body_is_a_400(ada):
    response = ada.post(PROJECTS, b"{not json", content_type="application/json")

    error_of(response, 400, "malformed_request")


def test_a_name_is_unique_among_the_owners_projects_whatever_its_case(ada, project):
    error = error_of(ada.post(PROJECTS, {"name": "SITE"}, format="json"), 409, "project_name_taken")

    assert "name" in error["details"]
    assert Project.objects.count() == 1


def test_another_user_may_use_the_same_name(ada, grace, project):
    assert create_project(grace, "Site")["name"] == "Site"


def test_the_database_refuses_a_duplicate_name_too(ada, project):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        Project.objects.create(owner_id=ada.user_id, name="site")


def test_the_per_user_project_limit_is_a_clear_409(ada, grace, settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECTS_PER_USER": 2}
    create_project(ada, "one")
    create_project(ada, "two")

    error = error_of(ada.post(PROJECTS, {"name": "three"}, format="json"), 409, "project_limit_reached")

    assert error["details"] == {"limit": 2}
    assert Project.objects.filter(owner_id=ada.user_id).count() == 2
    assert create_project(grace, "three")


def test_the_list_shows_only_the_callers_projects(ada, grace):
    create_project(ada, "mine")
    create_project(grace, "theirs")

    response = ada.get(PROJECTS)

    assert names(response) == ["mine"]
    assert response.json()["count"] == 1


def test_the_list_is_ordered_by_last_change(ada):
    first = create_project(ada, "first")
    create_project(ada, "second")
    write(ada, first, "index.html", "changed")

    assert names(ada.get(PROJECTS)) == ["first", "second"]


def test_the_list_searches_name_and_description(ada, grace):
    create_project(ada, "Bakery", description="bread and cakes")
    create_project(ada, "Garage", description="cars")
    create_project(grace, "Bakery two")

    assert names(ada.get(PROJECTS, {"search": "bak"})) == ["Bakery"]
    assert names(ada.get(PROJECTS, {"search": "CARS"})) == ["Garage"]
    assert names(ada.get(PROJECTS, {"search": "nothing"})) == []


def test_the_list_is_paginated(ada):
    for index in range(5):
        create_project(ada, f"p{index}")

    response = ada.get(PROJECTS, {"page_size": 2})

    body = response.json()
    assert body["count"] == 5
    assert len(body["results"]) == 2
    assert body["next"]


def test_the_list_costs_the_same_queries_for_many_projects(ada, django_assert_num_queries):
    for index in range(30):
        create_project(ada, f"p{index}")

    with django_assert_num_queries(3):  # count + page + the page's sites
        response = ada.get(PROJECTS)

    assert response.json()["count"] == 30


def test_reading_a_project(ada, project):
    response = ada.get(project_url(project))

    assert response.status_code == 200
    assert response.json() == project


@pytest.mark.parametrize("method", ["get", "patch", "delete"])
def test_another_users_project_is_not_found(ada, grace, project, method):
    response = getattr(grace, method)(project_url(project), {"name": "stolen"}, format="json")

    error_of(response, 404, "not_found")
    assert Project.objects.get(pk=project["id"]).name == "Site"


def test_an_unknown_project_is_not_found(ada):
    error_of(ada.get(project_url(str(uuid.uuid4()))), 404, "not_found")


def test_a_malformed_project_id_is_not_found(ada):
    error_of(ada.get(f"{PROJECTS}not-a-uuid/"), 404, "not_found")


def test_renaming_and_describing_a_project(ada, project):
    response = ada.patch(project_url(project), {"name": "Renamed", "description": "new"}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Renamed"
    assert response.json()["description"] == "new"
    assert response.json()["updated_at"] > project["updated_at"]


def test_renaming_to_a_taken_name_is_a_conflict(ada, project):
    create_project(ada, "Other")

    error_of(ada.patch(project_url(project), {"name": "other"}, format="json"), 409, "project_name_taken")
    assert Project.objects.get(pk=project["id"]).name == "Site"


def test_renaming_to_another_case_of_its_own_name_is_fine(ada, project):
    response = ada.patch(project_url(project), {"name": "SITE"}, format="json")

    assert response.json()["name"] == "SITE"


def test_renaming_with_a_bad_name_is_refused(ada, project):
    error_of(ada.patch(project_url(project), {"name": ""}, format="json"), 400, "validation_error")


def test_deleting_a_project_removes_its_history_and_bytes(ada, landing):
    write(ada, landing, "extra.html", "more")

    response = ada.delete(project_url(landing))

    assert response.status_code == 204
    error_of(ada.get(project_url(landing)), 404)
    for model in (Project, Revision, FileChange, TreeEntry, Blob):
        assert not model.objects.exists(), model


def test_deleting_a_project_leaves_other_projects_alone(ada, grace, landing):
    theirs = create_project(grace, "Theirs", template="landing")

    ada.delete(project_url(landing))

    assert grace.get(project_url(theirs)).json()["file_count"] == theirs["file_count"]


def test_a_deleted_project_frees_its_name_and_its_place_in_the_limit(ada, settings):
    settings.OASIS = {**settings.OASIS, "MAX_PROJECTS_PER_USER": 1}
    first = create_project(ada, "Only")

    ada.delete(project_url(first))

    assert create_project(ada, "Only")


@pytest.mark.parametrize("path", [PROJECTS, project_url(str(uuid.uuid4()))])
def test_projects_need_a_user_token(anonymous, path):
    error_of(anonymous.get(path), 401)


def test_a_service_token_is_refused_on_the_public_api(builder):
    error_of(builder.get(PROJECTS), 401, "invalid_token")


def test_options_on_the_collection_describes_creation(ada):
    """Found by fuzzing: OPTIONS used to end in a 500 (the view had no serializer to describe)."""
    response = ada.options(PROJECTS)

    assert response.status_code == 200
    assert "name" in response.json()["actions"]["POST"]


def test_a_page_past_the_end_is_a_404_envelope(ada, project):
    error_of(ada.get(PROJECTS, {"page": 0}), 404, "not_found")
