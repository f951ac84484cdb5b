"""Telling projects what each site serves, so the project API can say so without asking sites.

Sites owns publication; projects keeps a copy for reads. Every change to what a site
serves (publish, rollback, unpublish, republish, rename, takedown, a verified domain,
deletion) counts up the site's `publication_version` inside the change's transaction,
and the state is sent after the commit. Sending is best effort: the change stands
whether or not projects answers, and the client retries with backoff. A site whose
version is ahead of `publication_sent` (or a `RemovedSite` row) was not confirmed;
`manage.py send_site_publications` sends those again. Projects keeps the newest version
per site, so a repeat or a late message never undoes a newer one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass

from django.db import transaction
from django.db.models import F, Prefetch

from hosting import peers
from hosting.addresses import site_urls
from hosting.models import Domain, RemovedSite, Site
from oasis_common.errors import PeerUnavailable

logger = logging.getLogger("oasis.sites.publication")


def publication_changed(*, site: Site) -> None:
    """Count a change to what `site` serves (its row locked by the caller); send the state on commit."""
    Site.objects.filter(pk=site.pk).update(publication_version=F("publication_version") + 1)
    site_id = site.pk
    transaction.on_commit(lambda: publication_send(site_id=site_id))


def publication_touched(*, site_id: uuid.UUID) -> None:
    """Count a change that did not lock the site itself (its preferred address changed)."""
    with transaction.atomic():
        site = Site.objects.select_for_update().filter(pk=site_id).first()
        if site is not None:
            publication_changed(site=site)


def publication_removed(*, site: Site) -> None:
    """Remember the deletion of `site` (locked, in the deleting transaction) until projects confirms it."""
    version = Site.objects.filter(pk=site.pk).values_list("publication_version", flat=True).get() + 1
    RemovedSite.objects.update_or_create(
        id=site.pk, defaults={"owner_id": site.owner_id, "project_id": site.project_id, "version": version}
    )
    site_id = site.pk
    transaction.on_commit(lambda: publication_send(site_id=site_id))


def _with_domains():
    verified = Domain.objects.filter(verified_at__isnull=False).order_by("hostname")
    return Site.objects.select_related("live_deployment").prefetch_related(
        Prefetch("domains", queryset=verified, to_attr="verified_domains")
    )


def publication_state(site: Site) -> dict:
    """What projects shows of the site: its name, preferred address, status and the revision visitors see."""
    live = site.status == Site.Status.LIVE
    return {
        "slug": site.slug,
        "url": site_urls(site.slug, [domain.hostname for domain in site.verified_domains])[0],
        "live_revision": site.live_deployment.revision if live else None,
        "status": site.status,
    }


def publication_send(*, site_id: uuid.UUID) -> bool:
    """Send the site's state (or its removal) to projects unless it was confirmed; False on failure."""
    site = _with_domains().filter(pk=site_id).first()
    if site is not None:
        if site.publication_sent >= site.publication_version:
            return True
        owner_id, project_id, version = site.owner_id, site.project_id, site.publication_version
        state = publication_state(site)
    else:
        removed = RemovedSite.objects.filter(pk=site_id).first()
        if removed is None:
            return True
        owner_id, project_id, version, state = removed.owner_id, removed.project_id, removed.version, None
    try:
        peers.publication_put(
            project_id=project_id, owner_id=owner_id, site_id=site_id, version=version, state=state
        )
    except PeerUnavailable:
        # The change itself stands; `send_site_publications` repairs projects' copy later.
        logger.warning(
            "Could not tell projects about site %s (version %s); it will be sent again", site_id, version
        )
        return False
    if state is None:
        RemovedSite.objects.filter(pk=site_id, version=version).delete()
    else:
        Site.objects.filter(pk=site_id, publication_sent__lt=version).update(publication_sent=version)
    return True


@dataclass
class Resent:
    sent: int = 0
    failed: int = 0


def publications_resend(*, everything: bool = False) -> Resent:
    """Send every state projects has not confirmed (with `everything`, every site's state again)."""
    report = Resent()
    sites = (
        Site.objects.all()
        if everything
        else Site.objects.filter(publication_sent__lt=F("publication_version"))
    )
    if everything:
        # Sent again as the current version: projects applies an equal version, so its copy is rewritten.
        Site.objects.filter(publication_version=0).update(publication_version=1)
        Site.objects.update(publication_sent=0)
    site_ids = [*sites.values_list("pk", flat=True), *RemovedSite.objects.values_list("pk", flat=True)]
    for site_id in site_ids:
        if publication_send(site_id=site_id):
            report.sent += 1
        else:
            report.failed += 1
    return report
