"""Takedowns: staff disable a site with a reason its owner sees; visitors get nothing until it is enabled."""

from __future__ import annotations

import uuid

from django.db import transaction
from django.utils import timezone

from hosting.models import Site
from hosting.publication_notices import publication_changed
from hosting.store import store


def site_disable(*, site_id: uuid.UUID, reason: str) -> Site:
    """Mark the site disabled (the gateway answers its takedown page) and remove its live link."""
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site_id)
        site.disabled_reason = reason
        site.disabled_at = site.disabled_at or timezone.now()
        site.save(update_fields=["disabled_reason", "disabled_at", "updated_at"])
        publication_changed(site=site)
        files = store()
        files.disabled_mark(slug=site.slug, reason=reason)
        files.live_remove(slug=site.slug)
    return site


def site_enable(*, site_id: uuid.UUID) -> Site:
    """Lift a takedown; a site that was live before is live again."""
    with transaction.atomic():
        site = Site.objects.select_for_update().get(pk=site_id)
        site.disabled_reason = ""
        site.disabled_at = None
        site.save(update_fields=["disabled_reason", "disabled_at", "updated_at"])
        publication_changed(site=site)
        files = store()
        if site.status == Site.Status.LIVE:
            files.live_point(slug=site.slug, deployment_id=site.live_deployment_id)
        files.disabled_clear(slug=site.slug)
    return site
