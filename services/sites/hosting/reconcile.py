"""Bring the site store back in line with the database, which is the record of what is live.

Publishing switches a live link inside its transaction; a process killed between the
switch and the commit, or a store restored from an older backup, can leave links that
disagree with the database. This puts every link and marker where the database says,
removes those of nothing, and removes deployment trees no row names (after a grace
period, so a publish in progress keeps its tree).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

from django.db import transaction

from hosting.models import Deployment, Domain, Site
from hosting.store import FilesystemStore, SiteStore


@dataclass
class Reconciled:
    links_set: int = 0
    links_removed: int = 0
    trees_removed: int = 0
    trees_missing: list[str] = field(default_factory=list)


def store_reconcile(*, files: SiteStore, grace_seconds: float) -> Reconciled:
    report = Reconciled()
    if not isinstance(files, FilesystemStore):
        # A bucket holds no links: the rows are what is live, and nothing can disagree with them.
        return report
    deployments = {str(pk) for pk in Deployment.objects.values_list("pk", flat=True)}
    live, disabled = {}, {}
    for site in Site.objects.only(
        "slug", "live_deployment_id", "published", "disabled_at", "disabled_reason"
    ):
        if site.disabled_at is not None:
            disabled[site.slug] = site.disabled_reason
        elif site.status == Site.Status.LIVE:
            live[site.slug] = str(site.live_deployment_id)
    hosts = dict(Domain.objects.filter(verified_at__isnull=False).values_list("hostname", "site__slug"))

    report.trees_missing = [
        deployment_id for deployment_id in live.values() if not files.deployment_path(deployment_id).is_dir()
    ]
    # A slug whose links disagree with that first read may be in the middle of a publish,
    # rollback or rename (they switch links inside their transaction): it is settled again
    # under its row lock, which waits for that transaction and reads what it committed.
    suspects = {slug for slug, deployment_id in live.items() if files.live_target(slug) != deployment_id}
    suspects |= {slug for slug in disabled if not files.is_disabled(slug)}
    suspects |= _unlisted(files.root / "live", keep=live) | _unlisted(files.root / "disabled", keep=disabled)
    for slug in sorted(suspects):
        _settle(files=files, slug=slug, report=report)

    for hostname, slug in hosts.items():
        if not files.host_is_complete(hostname=hostname, slug=slug):
            files.host_point(hostname=hostname, slug=slug)
            report.links_set += 1

    report.links_removed += _remove_unlisted(files.root / "hosts", keep=hosts)
    for folder in ("domains", "domain-takedowns"):
        _remove_unlisted(files.root / folder, keep=hosts)

    cutoff = time.time() - grace_seconds
    for entry in os.scandir(files.root / "deployments"):
        if entry.name in deployments or entry.name.startswith(".building-"):
            continue
        if entry.stat(follow_symlinks=False).st_mtime < cutoff:
            files.deployment_delete(deployment_id=entry.name)
            report.trees_removed += 1
    return report


def _settle(*, files: FilesystemStore, slug: str, report: Reconciled) -> None:
    """Put `slug`'s live link and takedown marker where its committed row says, holding the row."""
    with transaction.atomic():
        site = (
            Site.objects.select_for_update()
            .only("slug", "live_deployment_id", "published", "disabled_at", "disabled_reason")
            .filter(slug=slug)
            .first()
        )
        disabled = site is not None and site.disabled_at is not None
        live = site is not None and site.status == Site.Status.LIVE
        target = str(site.live_deployment_id) if live else None
        if disabled and not files.is_disabled(slug):
            files.disabled_mark(slug=slug, reason=site.disabled_reason)
            report.links_set += 1
        elif not disabled and files.is_disabled(slug):
            files.disabled_clear(slug=slug)
            report.links_removed += 1
        current = files.live_target(slug)
        if target is None and os.path.lexists(files.live_path(slug)):
            files.live_remove(slug=slug)
            report.links_removed += 1
        elif target is not None and current != target and files.deployment_path(target).is_dir():
            files.live_point(slug=slug, deployment_id=target)
            report.links_set += 1


def _unlisted(folder, *, keep) -> set[str]:
    names = (entry.name for entry in os.scandir(folder))
    return {name for name in names if not name.startswith(".") and name not in keep}


def _remove_unlisted(folder, *, keep) -> int:
    removed = 0
    for entry in os.scandir(folder):
        if entry.name.startswith(".") or entry.name in keep:
            continue
        os.unlink(entry.path)
        removed += 1
    return removed
