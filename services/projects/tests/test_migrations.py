"""Migrations that change stored vocabulary carry the stored rows with them, both ways."""

import uuid

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [("files", "0001_initial")]
AFTER = [("files", "0002_file_change_created")]


def migrate(targets):
    """Move the schema to `targets` and return the models as they were there."""
    executor = MigrationExecutor(connection)
    executor.migrate(targets)
    return executor.loader.project_state(targets).apps


@pytest.fixture
def migrator(transactional_db):
    yield migrate
    # Whatever happened, the next test finds the schema the code expects.
    migrate(MigrationExecutor(connection).loader.graph.leaf_nodes())


def actions(apps) -> list[str]:
    changes = apps.get_model("files", "FileChange").objects.order_by("path")
    return list(changes.values_list("action", flat=True))


def test_stored_changes_that_said_added_say_created_and_back(migrator):
    apps = migrator(BEFORE)
    project = apps.get_model("projects", "Project").objects.create(owner_id=uuid.uuid4(), name="Old")
    revision = apps.get_model("files", "Revision").objects.create(
        project=project, number=1, author_user_id=project.owner_id, file_count=2, size=2
    )
    blob = apps.get_model("files", "Blob").objects.create(
        project=project, sha256="0" * 64, size=1, is_text=True, data=b"x"
    )
    for path, action, stored in [
        ("a.html", "added", blob),
        ("b.html", "modified", blob),
        ("c", "deleted", None),
    ]:
        apps.get_model("files", "FileChange").objects.create(
            project=project, revision=revision, number=1, path=path, action=action, blob=stored
        )

    assert actions(migrator(AFTER)) == ["created", "modified", "deleted"]
    assert actions(migrator(BEFORE)) == ["added", "modified", "deleted"]
