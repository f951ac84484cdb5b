"""A project's life: listing, creating (empty, from a template or from files), changing and deleting it.

Each operation is scoped to its owner from the first line: another user's project is a 404.
"""

from __future__ import annotations

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from files.models import Blob, FileChange, Revision, TreeEntry
from files.revisions import revision_commit
from oasis_common.errors import Conflict, NotFound
from projects import starters
from projects.models import Owner, Project
from projects.publications import with_publication


def project_list(*, owner_id, search: str = "") -> QuerySet[Project]:
    projects = Project.objects.filter(owner_id=owner_id)
    if search:
        projects = projects.filter(Q(name__icontains=search) | Q(description__icontains=search))
    return with_publication(projects.order_by("-updated_at", "-created_at"))


def _name_taken(name: str) -> Conflict:
    return Conflict(
        "You already have a project with this name.",
        code="project_name_taken",
        details={"name": [f"You already have a project named {name!r}."]},
    )


def project_create(
    *,
    owner_id,
    name: str,
    description: str = "",
    template: str = "",
    files: dict[str, bytes] | None = None,
    message: str = "",
) -> Project:
    """Create a project, empty, from a starter template, or from `files` (an import): one revision at most."""
    if template:
        starter = starters.starter_get(template)
        files = starters.starter_files(starter)
        message = message or f"Create from the {starter.name} template"
    limit = settings.OASIS["MAX_PROJECTS_PER_USER"]
    with transaction.atomic():
        # Locking the owner's row makes concurrent creations queue, so none can pass the limit together.
        Owner.objects.get_or_create(id=owner_id)
        Owner.objects.select_for_update().get(id=owner_id)
        if Project.objects.filter(owner_id=owner_id).count() >= limit:
            raise Conflict(
                f"You already have {limit} projects. Delete one before creating another.",
                code="project_limit_reached",
                details={"limit": limit},
            )
        if Project.objects.filter(owner_id=owner_id, name__iexact=name).exists():
            raise _name_taken(name)
        try:
            with transaction.atomic():
                project = Project.objects.create(
                    owner_id=owner_id, name=name, description=description, template=template
                )
        except IntegrityError as exc:
            raise _name_taken(name) from exc
        if files:
            revision_commit(
                project_id=project.pk,
                owner_id=owner_id,
                author_user_id=owner_id,
                message=message,
                writes=files,
            )
            project.refresh_from_db()
    return project


def project_update(
    *, owner_id, project_id, name: str | None = None, description: str | None = None
) -> Project:
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(owner_id=owner_id, pk=project_id).first()
        if project is None:
            raise NotFound("No such project.")
        renamed = name is not None and name.lower() != project.name.lower()
        if renamed and Project.objects.filter(owner_id=owner_id, name__iexact=name).exists():
            raise _name_taken(name)
        if name is not None:
            project.name = name
        if description is not None:
            project.description = description
        project.updated_at = timezone.now()
        try:
            with transaction.atomic():
                project.save(update_fields=["name", "description", "updated_at"])
        except IntegrityError as exc:
            raise _name_taken(name) from exc
    return project


def project_delete(*, owner_id, project_id) -> None:
    """Delete a project with its whole history and stored bytes."""
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(owner_id=owner_id, pk=project_id).first()
        if project is None:
            raise NotFound("No such project.")
        # Children first, with plain DELETEs: Django's cascade would load every blob's bytes into memory.
        TreeEntry.objects.filter(project=project).delete()
        FileChange.objects.filter(project=project).delete()
        Revision.objects.filter(project=project).delete()
        Blob.objects.filter(project=project).only("pk").delete()
        project.delete()
