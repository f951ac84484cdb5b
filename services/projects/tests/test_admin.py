"""Django admin: projects and revisions can be looked at; history cannot be edited; deleting is complete."""

import pytest
from django.contrib.auth.models import User

from files.models import Blob, Revision
from projects.models import Project
from tests.helpers import create_project, write


@pytest.fixture
def admin(client, db):
    client.force_login(User.objects.create_superuser("root", "root@example.com", "a long passphrase"))
    return client


def test_the_project_changelist_lists_and_searches_projects(admin, landing, grace):
    create_project(grace, "Other")

    response = admin.get("/admin/projects/project/", {"q": "Landing"})

    assert response.status_code == 200
    assert b"Landing" in response.content
    assert b"Other" not in response.content


def test_searching_by_anything_that_is_not_an_owner_id_still_works(admin, landing):
    assert admin.get("/admin/projects/project/", {"q": "not-a-uuid"}).status_code == 200
    assert admin.get("/admin/files/revision/", {"q": "not-a-uuid"}).status_code == 200


def test_the_project_page_shows_its_revisions_read_only(admin, ada, landing):
    write(ada, landing, "index.html", "changed")

    response = admin.get(f"/admin/projects/project/{landing['id']}/change/")

    assert response.status_code == 200
    assert b"Create from the Landing page template" in response.content
    assert b"Edit index.html" in response.content


def test_projects_cannot_be_added_in_the_admin(admin):
    assert admin.get("/admin/projects/project/add/").status_code == 403


def test_revisions_can_be_read_but_not_changed_added_or_deleted(admin, landing):
    revision = Revision.objects.get()

    assert admin.get("/admin/files/revision/").status_code == 200
    assert admin.get(f"/admin/files/revision/{revision.pk}/change/").status_code == 200
    assert admin.get("/admin/files/revision/add/").status_code == 403
    assert admin.post(f"/admin/files/revision/{revision.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Revision.objects.count() == 1


def test_renaming_a_project_in_the_admin(admin, ada, landing):
    project = Project.objects.get()

    response = admin.post(
        f"/admin/projects/project/{project.pk}/change/",
        {
            "name": "Renamed",
            "description": "by support",
            "revisions-TOTAL_FORMS": 1,
            "revisions-INITIAL_FORMS": 1,
            "revisions-0-id": Revision.objects.get().pk,
            "revisions-0-project": project.pk,
        },
    )

    assert response.status_code == 302, response.content
    project.refresh_from_db()
    assert (project.name, project.description) == ("Renamed", "by support")
    assert project.current_revision == 1


def test_deleting_a_project_in_the_admin_removes_its_history_and_bytes(admin, landing):
    project = Project.objects.get()

    response = admin.post(f"/admin/projects/project/{project.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not Project.objects.exists()
    assert not Blob.objects.exists()


def test_bulk_deleting_projects_in_the_admin(admin, landing, project):
    ids = [str(pk) for pk in Project.objects.values_list("pk", flat=True)]

    response = admin.post(
        "/admin/projects/project/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )

    assert response.status_code == 302
    assert not Project.objects.exists()
    assert not Revision.objects.exists()


def test_someone_who_is_not_staff_cannot_open_the_admin(client, db):
    client.force_login(User.objects.create_user("someone", password="a long passphrase"))

    response = client.get("/admin/projects/project/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
