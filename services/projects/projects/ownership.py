"""The base of every public view under one project: the caller's project, loaded before the request."""

from __future__ import annotations

from rest_framework.views import APIView

from oasis_common.ownership import OwnedObjectMixin
from projects.models import Project
from projects.projects import project_get


# No class docstring: the schema generator would give it to every operation of every subclass.
class OwnedProjectView(OwnedObjectMixin, APIView):
    # The caller's project named by the URL. Another user's is a 404 before any body, query or
    # header is validated, so nothing is parsed, judged or written for it.
    project: Project

    def load_owned(self, request, *, project_id, **url_kwargs) -> None:
        self.project = project_get(owner_id=request.user.id, project_id=project_id)
