"""Rebuild the site store from the database: every recorded deployment's blobs and tree.

The database records what each deployment holds (a DeploymentFile row per path); the store
is a copy that can be made again. A blob that is gone is fetched again from projects (whose
revisions keep every blob they name), a tree that is gone is built again, and a tree that
lost files gets them linked back. What is still in place is left alone, so sites keep
serving while this runs; the links are then put back by reconciling (`hosting.reconcile`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.db.models import Exists, OuterRef

from hosting.models import Deployment, DeploymentFile, Site
from hosting.publishing import blobs_copy
from hosting.store import SiteStore, StoredFile
from oasis_common.errors import NotFound, PeerUnavailable

logger = logging.getLogger("oasis.sites.rebuild")


@dataclass
class Rebuilt:
    deployments_checked: int = 0
    blobs_fetched: int = 0
    trees_built: int = 0
    files_restored: int = 0
    # Deployment id -> why it could not be rebuilt (projects away, the project deleted, a write refused).
    failed: dict[str, str] = field(default_factory=dict)


def store_rebuild(*, files: SiteStore) -> Rebuilt:
    """Restore every recorded deployment's missing blobs and files, live deployments first."""
    report = Rebuilt()
    live = Site.objects.filter(live_deployment=OuterRef("pk"))
    deployments = (
        Deployment.objects.select_related("site")
        .only("id", "site__project_id", "site__owner_id")
        .annotate(is_live=Exists(live))
        .order_by("-is_live", "-created_at")
    )
    for deployment in deployments.iterator(chunk_size=100):
        report.deployments_checked += 1
        try:
            _deployment_rebuild(files=files, deployment=deployment, report=report)
        except (NotFound, PeerUnavailable, OSError) as exc:
            # One deployment that cannot be restored must not keep the others from it.
            logger.warning("could not rebuild deployment %s: %s", deployment.pk, exc)
            report.failed[str(deployment.pk)] = _reason(exc)
    return report


def _deployment_rebuild(*, files: SiteStore, deployment: Deployment, report: Rebuilt) -> None:
    rows = list(
        DeploymentFile.objects.filter(deployment=deployment).values_list("path", "sha256", "content_type")
    )
    stored = [StoredFile(path=path, sha256=sha256) for path, sha256, _ in rows]
    report.blobs_fetched += blobs_copy(
        files_store=files,
        project_id=deployment.site.project_id,
        owner_id=deployment.site.owner_id,
        content_types={sha256: content_type for _, sha256, content_type in rows},
    )
    if not files.deployment_exists(deployment.pk):
        files.deployment_put(deployment_id=deployment.pk, files=stored)
        report.trees_built += 1
    elif missing := files.deployment_missing(deployment_id=deployment.pk, files=stored):
        files.deployment_fill(deployment_id=deployment.pk, files=stored, missing=missing)
        report.files_restored += len(missing)
    else:
        return
    # A publish may have pruned the deployment meanwhile: its tree would be one no row names.
    if not Deployment.objects.filter(pk=deployment.pk).exists():
        files.deployment_delete(deployment_id=deployment.pk)


def _reason(exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return "projects no longer has its project or some of its files"
    if isinstance(exc, PeerUnavailable):
        return "projects did not answer"
    return f"the store refused a write ({exc.__class__.__name__}: {exc})"
