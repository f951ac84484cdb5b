"""Publication: which sites serve a project and which revision each shows, as told by the sites service.

Sites owns publication and tells projects after every change to a site's live deployment;
projects keeps the last word per site so its API can say whether a project is published
without asking sites on every read. Each message carries the site's version: an older
one than what is stored changes nothing, so messages may be repeated, retried or
delivered late in any order. Deleting a project drops its copy; the sites stay live at
sites until they are deleted there.
"""

from __future__ import annotations

import uuid

from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet

from projects.models import Project, SitePublication


def visible_publications() -> QuerySet[SitePublication]:
    return SitePublication.objects.exclude(status=SitePublication.Status.REMOVED).order_by("slug", "site_id")


def with_publication(projects: QuerySet[Project]) -> QuerySet[Project]:
    """`projects` with their sites batch-loaded into `published_sites` (one query for the whole page)."""
    return projects.prefetch_related(
        Prefetch("site_publications", queryset=visible_publications(), to_attr="published_sites")
    )


def publication_sites(*, project: Project) -> list[SitePublication]:
    sites = getattr(project, "published_sites", None)
    if sites is None:
        sites = list(visible_publications().filter(project=project))
    return sites


def publication_record(
    *,
    project: Project,
    site_id: uuid.UUID,
    version: int,
    state: dict | None,
) -> bool:
    """Store what `site_id` serves (`state` None: the site was deleted); False when `version` is older."""
    fields = (
        {"status": SitePublication.Status.REMOVED, "live_revision": None}
        if state is None
        else {
            "status": state["status"],
            "slug": state["slug"],
            "url": state["url"],
            "live_revision": state["live_revision"]
            if state["status"] == SitePublication.Status.LIVE
            else None,
        }
    )
    for _attempt in range(2):
        with transaction.atomic():
            current = (
                SitePublication.objects.select_for_update().filter(project=project, site_id=site_id).first()
            )
            if current is not None:
                if current.version > version:
                    return False
                for name, value in {**fields, "version": version}.items():
                    setattr(current, name, value)
                current.save()
                return True
            try:
                with transaction.atomic():
                    SitePublication.objects.create(
                        project=project, site_id=site_id, version=version, **fields
                    )
                return True
            except IntegrityError:
                # Another message for this site created the row first: compare versions with it.
                continue
    return False
