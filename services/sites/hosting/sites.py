"""Sites: create one for a project the user owns, rename it, read it, unpublish and republish it, delete it.

Every read starts from the owner: another user's site is simply not found.
"""

from __future__ import annotations

import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Prefetch, QuerySet

from hosting import peers
from hosting.errors import DeploymentNotFound, SiteDisabled, SiteLimitReached, SiteNotFound, SlugTaken
from hosting.models import Deployment, DeploymentFile, Domain, Owner, Site
from hosting.publication_notices import publication_changed, publication_removed
from hosting.store import store


def _owned(owner_id: uuid.UUID) -> QuerySet[Site]:
    return Site.objects.filter(owner_id=owner_id).select_related("live_deployment")


def sites_of(*, owner_id: uuid.UUID) -> QuerySet[Site]:
    """The owner's sites, newest first, with their live deployment and verified domains batch-loaded."""
    verified = Domain.objects.filter(verified_at__isnull=False).order_by("hostname")
    return _owned(owner_id).prefetch_related(
        Prefetch("domains", queryset=verified, to_attr="verified_domains")
    )


def site_get(*, owner_id: uuid.UUID, site_id: uuid.UUID, for_update: bool = False) -> Site:
    sites = _owned(owner_id)
    if for_update:
        sites = Site.objects.select_for_update().filter(owner_id=owner_id)
    site = sites.filter(pk=site_id).first()
    if site is None:
        raise SiteNotFound()
    return site


def deployment_get(*, site: Site, deployment_id: uuid.UUID) -> Deployment:
    deployment = Deployment.objects.filter(site=site, pk=deployment_id).first()
    if deployment is None:
        raise DeploymentNotFound()
    return deployment


def deployment_with_files(*, owner_id: uuid.UUID, site_id: uuid.UUID, deployment_id: uuid.UUID) -> Deployment:
    """One deployment of the owner's site with its files in path order (two queries); 404 otherwise."""
    deployment = (
        Deployment.objects.filter(site__owner_id=owner_id, site_id=site_id, pk=deployment_id)
        .prefetch_related(Prefetch("files", queryset=DeploymentFile.objects.order_by("path")))
        .first()
    )
    if deployment is None:
        raise DeploymentNotFound()
    return deployment


def _verified_hostnames(site: Site) -> list[str]:
    return list(
        Domain.objects.filter(site=site, verified_at__isnull=False).values_list("hostname", flat=True)
    )


def _slug_taken(slug: str) -> SlugTaken:
    return SlugTaken(details={"slug": [f"The site name {slug!r} is taken."]})


def site_create(*, owner_id: uuid.UUID, project_id: uuid.UUID, slug: str) -> Site:
    """A new, unpublished site for a project the owner has (asked of projects first: 404 otherwise)."""
    peers.project_get(project_id=project_id, owner_id=owner_id)
    limit = settings.SITES["MAX_SITES_PER_USER"]
    try:
        with transaction.atomic():
            Owner.objects.get_or_create(id=owner_id)
            # Locking the owner's row makes concurrent creations queue, so none can pass the limit together.
            Owner.objects.select_for_update().get(id=owner_id)
            if Site.objects.filter(owner_id=owner_id).count() >= limit:
                raise SiteLimitReached(details={"limit": limit})
            if Site.objects.filter(slug=slug).exists():
                raise _slug_taken(slug)
            return Site.objects.create(owner_id=owner_id, project_id=project_id, slug=slug)
    except IntegrityError as exc:
        # Another request took the slug between our check and our insert.
        raise _slug_taken(slug) from exc


def site_rename(*, owner_id: uuid.UUID, site_id: uuid.UUID, slug: str) -> Site:
    """A new address for the site; its live link (and takedown marker) move with it."""
    try:
        with transaction.atomic():
            site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
            old = site.slug
            if slug == old:
                return site
            if Site.objects.filter(slug=slug).exists():
                raise _slug_taken(slug)
            site.slug = slug
            site.save(update_fields=["slug", "updated_at"])
            publication_changed(site=site)
            files = store()
            files.live_rename(old=old, new=slug)
            for hostname in _verified_hostnames(site):
                files.host_point(hostname=hostname, slug=slug)
    except IntegrityError as exc:
        raise _slug_taken(slug) from exc
    return site_get(owner_id=owner_id, site_id=site_id)


def site_go_live(*, site: Site, deployment: Deployment) -> None:
    """Point `site` (locked by the caller's transaction) at `deployment`, in the database, then the store."""
    site.live_deployment = deployment
    site.published = True
    site.save(update_fields=["live_deployment", "published", "updated_at"])
    publication_changed(site=site)
    store().live_point(slug=site.slug, deployment_id=deployment.pk)


def site_rollback(*, owner_id: uuid.UUID, site_id: uuid.UUID, deployment_id: uuid.UUID) -> Site:
    """Make any earlier deployment of this site the live one, in one step."""
    with transaction.atomic():
        site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        deployment = deployment_get(site=site, deployment_id=deployment_id)
        if site.disabled_at is not None:
            raise SiteDisabled(details={"reason": site.disabled_reason})
        site_go_live(site=site, deployment=deployment)
    return site_get(owner_id=owner_id, site_id=site_id)


def site_unpublish(*, owner_id: uuid.UUID, site_id: uuid.UUID) -> Site:
    """Visitors get nothing; the live deployment is remembered for republishing."""
    with transaction.atomic():
        site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        site.published = False
        site.save(update_fields=["published", "updated_at"])
        publication_changed(site=site)
        store().live_remove(slug=site.slug)
    return site_get(owner_id=owner_id, site_id=site_id)


def site_republish(*, owner_id: uuid.UUID, site_id: uuid.UUID) -> Site:
    """Serve the deployment that was live before unpublishing (409 if there never was one)."""
    with transaction.atomic():
        site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        if site.disabled_at is not None:
            raise SiteDisabled(details={"reason": site.disabled_reason})
        if site.live_deployment_id is None:
            raise DeploymentNotFound("This site has no deployment yet: publish a revision first.")
        site_go_live(site=site, deployment=site.live_deployment)
    return site_get(owner_id=owner_id, site_id=site_id)


def site_delete(*, owner_id: uuid.UUID, site_id: uuid.UUID) -> None:
    """The address stops answering at once; then the site's deployment trees go."""
    with transaction.atomic():
        site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        deployment_ids = list(site.deployments.values_list("pk", flat=True))
        hostnames = _verified_hostnames(site)
        slug = site.slug
        publication_removed(site=site)
        site.live_deployment = None
        site.save(update_fields=["live_deployment"])
        site.delete()
    files = store()
    for hostname in hostnames:
        files.host_remove(hostname=hostname)
    files.live_remove(slug=slug)
    files.disabled_clear(slug=slug)
    for deployment_id in deployment_ids:
        files.deployment_delete(deployment_id=deployment_id)
