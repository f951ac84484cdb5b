"""A project as its owner's: the owner-scoped read, and the base of every public view under one project."""

from __future__ import annotations

from rest_framework.views import APIView

from oasis_common.errors import NotFound
from oasis_common.ownership import OwnedObjectMixin
from projects.models import Project


def project_get(*, owner_id, project_id) -> Project:
    """The owner's project; another user's is a 404, as is one that does not exist."""
    project = Project.objects.filter(owner_id=owner_id, pk=project_id).first()
    if project is None:
        raise NotFound("No such project.")
    return project


# No class docstring: the schema generator would give it to every operation of every subclass.
class OwnedProjectView(OwnedObjectMixin, APIView):
    # The caller's project named by the URL. Another user's is a 404 before any body, query or
    # header is validated, so nothing is parsed, judged or written for it.
    project: Project

    def load_owned(self, request, *, project_id, **url_kwargs) -> None:
        self.project = project_get(owner_id=request.user.id, project_id=project_id)
