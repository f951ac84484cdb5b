"""Provider states of projects for contract verification (test-only; see oasis_common.provider_states)."""

from __future__ import annotations

import uuid

from files.revisions import revision_commit
from oasis_common.idempotency.models import IdempotencyRecord
from projects.lifecycle import project_create
from projects.models import Project, SitePublication

SITE = {
    "index.html": b"<!doctype html>\n<h1>Hello</h1>\n<link rel=stylesheet href=css/site.css>\n",
    "css/site.css": b"h1 { color: teal; }\n",
}


def _project(owner_id: str, service: str) -> str:
    # The consumer's Idempotency-Keys are new to projects, as in a first run against a new database.
    IdempotencyRecord.objects.filter(principal=f"service:{service}").delete()
    project = project_create(owner_id=owner_id, name=f"Contract {uuid.uuid4().hex[:12]}", files=SITE)
    return str(project.pk)


def project_of_user(*, owner_id: str, service: str = "builder") -> dict:
    """The user's project at revision 1, with an HTML page and a stylesheet."""
    return {"project_id": _project(owner_id, service)}


def project_of_another_user(*, service: str = "builder") -> dict:
    return {"project_id": _project(str(uuid.uuid4()), service)}


def project_changed_since(*, owner_id: str, path: str, service: str = "builder") -> dict:
    """The user's project, whose `path` changed in revision 2 after revision 1."""
    project_id = _project(owner_id, service)
    revision_commit(
        project_id=project_id,
        owner_id=owner_id,
        author_user_id=owner_id,
        message="A change made meanwhile",
        writes={path: b"changed meanwhile\n"},
    )
    return {"project_id": project_id}


def project_published(*, owner_id: str, site_id: str, service: str = "builder") -> dict:
    """The user's project at revision 1, which its site `site_id` serves (as the sites service said)."""
    project_id = _project(owner_id, service)
    SitePublication.objects.create(
        project=Project.objects.get(pk=project_id),
        site_id=site_id,
        slug="bakery",
        url="https://bakery.sites.example.com/",
        live_revision=1,
        status=SitePublication.Status.LIVE,
        version=1,
    )
    return {"project_id": project_id}


STATES = {
    "a project of the user": project_of_user,
    "a project of another user": project_of_another_user,
    "a project changed since revision 1": project_changed_since,
    "a project of the user published at revision 1": project_published,
}
