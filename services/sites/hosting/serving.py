"""A published file for the gateway, when the store is one it cannot read (a bucket).

The gateway asks `GET /serve/site/<slug>/<path>` (a site's subdomain and its path form) or
`GET /serve/host/<hostname>/<path>` (a verified custom domain), and keeps the answer in its
cache for a few seconds, so this runs for a cache's misses only. The answer is the file
(with the strong ETag a tree would give it, and its gzip form when the visitor takes
gzip), 304 when the gateway's copy is current, or an empty 404 (no such site, nothing live,
no such file) or 451 (taken down): the gateway shows its own pages for those, the site's
`404.html` first, as it does for a tree. `index.html` answers for folders, as `try_files`
does. Never routed from outside: only the gateway's internal locations reach `/serve/`,
and what it answers is what any visitor may read.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.utils.cache import parse_etags
from django.views.decorators.http import require_safe

from hosting.blobs import compressible
from hosting.models import DeploymentFile, Domain, Site
from hosting.store import blob_etag, store
from oasis_common.paths import InvalidPath, path_clean

logger = logging.getLogger("oasis.sites.serving")


@dataclass(frozen=True)
class PublishedFile:
    path: str
    sha256: str
    size: int
    content_type: str


def _candidates(path: str) -> list[str]:
    """The stored paths a URL path may name, in the order `try_files $path $path/index.html` tries them."""
    if path in ("", "/") or path.endswith("/"):
        wanted = [f"{path.strip('/')}/index.html".lstrip("/")]
    else:
        wanted = [path.strip("/"), f"{path.strip('/')}/index.html"]
    cleaned = []
    for candidate in wanted:
        # Dot names (.git, .env) are never served, whatever the deployment holds.
        if any(segment.startswith(".") for segment in candidate.split("/")):
            return []
        try:
            cleaned.append(path_clean(candidate))
        except InvalidPath:
            return []
    return cleaned


def published_file(*, site: Site | None, path: str) -> PublishedFile | int:
    """The live file at `path` of `site`, or the status a visitor gets instead (404, 451)."""
    if site is None:
        return 404
    if site.status == Site.Status.DISABLED:
        return 451
    if site.status != Site.Status.LIVE:
        return 404
    candidates = _candidates(path)
    rows = {
        row["path"]: row
        for row in DeploymentFile.objects.filter(
            deployment_id=site.live_deployment_id, path__in=candidates
        ).values("path", "sha256", "size", "content_type")
    }
    for candidate in candidates:
        if candidate in rows:
            return PublishedFile(**rows[candidate])
    return 404


def _answer(request: HttpRequest, found: PublishedFile | int) -> HttpResponse:
    if isinstance(found, int):
        return HttpResponse(status=found)
    packed = "gzip" in request.headers.get("Accept-Encoding", "") and compressible(
        found.content_type, found.size
    )
    current = parse_etags(request.headers.get("If-None-Match", ""))
    plain_etag = blob_etag(found.sha256, found.size)
    if not packed and plain_etag in current:
        # The gateway revalidating its copy: answered from the row alone, the store is not read.
        return HttpResponse(status=304, headers={"ETag": plain_etag})
    stream = store().blob_stream(found.sha256, packed=True) if packed else None
    if stream is None:
        packed = False
        stream = store().blob_stream(found.sha256)
    if stream is None:
        # The store lost a blob its rows name (rebuild_site_store restores it): not the visitor's 404.
        logger.error("the site store has no blob %s for %s", found.sha256, found.path)
        return HttpResponse(status=503, headers={"Retry-After": "30"})
    etag = blob_etag(found.sha256, stream.length)
    headers = {"ETag": etag, **({"Content-Encoding": "gzip"} if packed else {})}
    if etag in current:
        stream.close()
        return HttpResponse(status=304, headers=headers)
    if request.method == "HEAD":
        stream.close()
        headers["Content-Length"] = str(stream.length)
        return HttpResponse(content_type=found.content_type, headers=headers)
    response = StreamingHttpResponse(stream, content_type=found.content_type, headers=headers)
    response["Content-Length"] = stream.length
    return response


@require_safe
def site_file_view(request: HttpRequest, slug: str, path: str) -> HttpResponse:
    site = Site.objects.filter(slug=slug).only("published", "disabled_at", "live_deployment_id").first()
    return _answer(request, published_file(site=site, path=path))


@require_safe
def host_file_view(request: HttpRequest, hostname: str, path: str) -> HttpResponse:
    domain = (
        Domain.objects.filter(hostname=hostname.lower(), verified_at__isnull=False)
        .select_related("site")
        .only("site__published", "site__disabled_at", "site__live_deployment_id")
        .first()
    )
    return _answer(request, published_file(site=domain.site if domain else None, path=path))
