"""Publishing: copy a project revision into the site store as an immutable deployment and make it live.

The order makes a publish all or nothing. Files are fetched from projects and written to
the store first (blobs are content-addressed, so a failed publish leaves only blobs a
retry reuses); the deployment tree is built beside its place and renamed in; only then
is the deployment recorded and the live link switched, in one transaction. Whatever
fails before the end leaves the previous deployment live and no row pointing at a
missing tree.
"""

from __future__ import annotations

import logging
import uuid
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction

from hosting import peers
from hosting.errors import DeploymentTooLarge, SiteDisabled
from hosting.models import Deployment, DeploymentFile, Site
from hosting.sites import site_get, site_go_live
from hosting.store import SiteStore, StoredFile, store
from oasis_common.errors import PeerUnavailable, Unprocessable
from oasis_common.paths import InvalidPath, path_clean

logger = logging.getLogger("oasis.sites.publishing")
# Each blob is written durably (fsync); written side by side, the file system commits them in
# one journal flush rather than one each, which makes a large first publish about ten times faster.
BLOB_WRITE_THREADS = 8


@dataclass(frozen=True)
class Published:
    deployment: Deployment
    created: bool


def deployment_publish(*, owner_id: uuid.UUID, site_id: uuid.UUID, revision: int | None = None) -> Published:
    """Publish `revision` of the project (default: the current one); a revision twice is one deployment."""
    site = site_get(owner_id=owner_id, site_id=site_id)
    _refuse_disabled(site)
    if revision is not None:
        # A revision published before needs no word from projects: its copy is already here.
        existing = Deployment.objects.filter(site=site, revision=revision).first()
        if existing is not None:
            return _relive(owner_id=owner_id, site_id=site_id, deployment=existing)

    manifest = peers.revision_manifest(project_id=site.project_id, owner_id=owner_id, revision=revision)
    existing = Deployment.objects.filter(site=site, revision=manifest.revision).first()
    if existing is not None:
        return _relive(owner_id=owner_id, site_id=site_id, deployment=existing)
    _check_limits(manifest)
    files = _checked_files(manifest)
    files_store = store()
    deployment_id = _tree_put(files_store=files_store, site=site, owner_id=owner_id, files=files)
    try:
        deployment = _deployment_record(
            owner_id=owner_id, site_id=site_id, deployment_id=deployment_id, manifest=manifest, files=files
        )
    except IntegrityError:
        files_store.deployment_delete(deployment_id=deployment_id)
        existing = Deployment.objects.filter(site_id=site_id, revision=manifest.revision).first()
        if existing is None:
            raise
        # Another request published this revision first: theirs is the deployment.
        return _relive(owner_id=owner_id, site_id=site_id, deployment=existing)
    except BaseException:
        files_store.deployment_delete(deployment_id=deployment_id)
        _restore_live_link(site_id=site_id)
        raise
    _prune(site_id=site_id)
    return Published(deployment=deployment, created=True)


def _refuse_disabled(site: Site) -> None:
    if site.disabled_at is not None:
        raise SiteDisabled(details={"reason": site.disabled_reason})


def _relive(*, owner_id: uuid.UUID, site_id: uuid.UUID, deployment: Deployment) -> Published:
    """Make a deployment the site already has live again: the publish creates nothing."""
    with transaction.atomic():
        site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        _refuse_disabled(site)
        site_go_live(site=site, deployment=deployment)
    return Published(deployment=deployment, created=False)


def _tree_put(
    *, files_store: SiteStore, site: Site, owner_id: uuid.UUID, files: list[peers.ManifestFile]
) -> uuid.UUID:
    """Write the blobs the store lacks, then the new deployment's tree; return the deployment's id."""
    blobs_copy(
        files_store=files_store,
        project_id=site.project_id,
        owner_id=owner_id,
        content_types={file.sha256: file.content_type for file in files},
    )
    deployment_id = uuid.uuid4()
    files_store.deployment_put(
        deployment_id=deployment_id,
        files=[StoredFile(path=file.path, sha256=file.sha256) for file in files],
    )
    return deployment_id


def _deployment_record(
    *,
    owner_id: uuid.UUID,
    site_id: uuid.UUID,
    deployment_id: uuid.UUID,
    manifest: peers.Manifest,
    files: list[peers.ManifestFile],
) -> Deployment:
    """Record the deployment whose tree is in the store and make it live, in one transaction."""
    with transaction.atomic():
        locked = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
        _refuse_disabled(locked)
        deployment = Deployment.objects.create(
            id=deployment_id,
            site=locked,
            revision=manifest.revision,
            file_count=len(files),
            size=manifest.size,
            published_by=owner_id,
        )
        DeploymentFile.objects.bulk_create(
            DeploymentFile(
                deployment=deployment,
                path=file.path,
                sha256=file.sha256,
                size=file.size,
                content_type=file.content_type[:255],
            )
            for file in files
        )
        site_go_live(site=locked, deployment=deployment)
    return deployment


def _check_limits(manifest: peers.Manifest) -> None:
    if not manifest.files:
        raise Unprocessable(
            f"Revision {manifest.revision} has no files to publish.",
            code="nothing_to_publish",
            details={"revision": manifest.revision},
        )
    limits = settings.SITES
    if len(manifest.files) > limits["MAX_FILES_PER_DEPLOYMENT"]:
        raise DeploymentTooLarge(
            f"A deployment may have at most {limits['MAX_FILES_PER_DEPLOYMENT']} files.",
            code="deployment_too_many_files",
            details={"limit": limits["MAX_FILES_PER_DEPLOYMENT"], "files": len(manifest.files)},
        )
    if manifest.size > limits["MAX_BYTES_PER_DEPLOYMENT"]:
        raise DeploymentTooLarge(
            f"A deployment may hold at most {limits['MAX_BYTES_PER_DEPLOYMENT']} bytes.",
            details={"limit": limits["MAX_BYTES_PER_DEPLOYMENT"], "size": manifest.size},
        )


def _checked_files(manifest: peers.Manifest) -> list[peers.ManifestFile]:
    """The manifest's files, refusing a path or hash that could escape or corrupt the store."""
    if len({file.path for file in manifest.files}) != len(manifest.files):
        logger.error("projects sent a manifest that names a path twice")
        raise PeerUnavailable(details={"service": "projects"})
    for file in manifest.files:
        try:
            if path_clean(file.path) != file.path:
                raise InvalidPath("path_not_normalised", "Path is not in its stored form.", file.path)
        except InvalidPath as exc:
            logger.error("projects sent a path the store refuses: %s", exc.code)
            raise PeerUnavailable(details={"service": "projects"}) from exc
        if len(file.sha256) != 64 or any(char not in "0123456789abcdef" for char in file.sha256):
            raise PeerUnavailable(details={"service": "projects"})
    return manifest.files


def blobs_copy(
    *, files_store: SiteStore, project_id: uuid.UUID, owner_id: uuid.UUID, content_types: dict[str, str]
) -> int:
    """Fetch from projects the blobs (sha256 -> content type) the store lacks, in bounded batches,
    and write each once; return how many were fetched."""
    missing = sorted(files_store.blobs_missing(content_types))
    fetched_count = 0
    batch_files = settings.SITES["FETCH_BATCH_FILES"]
    batch_bytes = settings.SITES["FETCH_BATCH_BYTES"]
    while missing:
        wanted = missing[:batch_files]
        fetched = peers.blobs_fetch(
            project_id=project_id, owner_id=owner_id, sha256s=wanted, max_bytes=batch_bytes
        )
        wanted_blobs = [(sha, data) for sha, data in fetched.items() if sha in content_types]
        with ThreadPoolExecutor(max_workers=BLOB_WRITE_THREADS) as writers:
            # Iterating the results raises the first write's error, if any.
            list(
                writers.map(
                    lambda blob: files_store.blob_put(
                        sha256=blob[0], data=blob[1], content_type=content_types[blob[0]]
                    ),
                    wanted_blobs,
                )
            )
        remaining = [sha for sha in missing if sha not in fetched]
        if len(remaining) == len(missing):
            raise PeerUnavailable(details={"service": "projects"})
        fetched_count += len(missing) - len(remaining)
        missing = remaining
    return fetched_count


def _restore_live_link(*, site_id: uuid.UUID) -> None:
    """After a failed switch, point the link back at what the database says is live."""
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return
    if site.status == Site.Status.LIVE:
        store().live_point(slug=site.slug, deployment_id=site.live_deployment_id)


def _prune(*, site_id: uuid.UUID) -> None:
    """Keep the newest deployments (and always the live one); remove the rest and their trees."""
    kept = settings.SITES["DEPLOYMENTS_KEPT_PER_SITE"]
    site = Site.objects.filter(pk=site_id).first()
    if site is None:
        return
    old = list(
        Deployment.objects.filter(site_id=site_id)
        .exclude(pk=site.live_deployment_id)
        .order_by("-created_at")
        .values_list("pk", flat=True)[max(kept - 1, 0) :]
    )
    if not old:
        return
    Deployment.objects.filter(pk__in=old).delete()
    for deployment_id in old:
        store().deployment_delete(deployment_id=deployment_id)
