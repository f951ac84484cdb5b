"""The sites service's calls to projects (its internal API), through the platform client.

Sites never reads the projects database: it asks projects whether a user owns a project,
for a revision's manifest (every path with its hash, size and type), and for the bytes
of the blobs the site store lacks, in bounded batches; and it tells projects what each
site serves after every change.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from functools import cache

from django.conf import settings
from rest_framework import status

from oasis_common.client import ServiceClient
from oasis_common.errors import NotFound, PeerUnavailable

# Telling projects is best effort beside a change already made: it must not hold a request long.
PUBLICATION_TIMEOUT = (2.0, 3.0)


@cache
def projects() -> ServiceClient:
    return ServiceClient("projects", settings.OASIS["PROJECTS_URL"])


def _unexpected(response) -> PeerUnavailable:
    return PeerUnavailable(details={"service": "projects", "status": response.status_code})


def _error_code(response) -> str:
    try:
        return str(response.json()["error"]["code"])
    except (ValueError, KeyError, TypeError):
        return ""


def project_get(*, project_id, owner_id) -> dict:
    """The project's metadata if it belongs to `owner_id`; NotFound otherwise (never a leak)."""
    response = projects().get(f"/internal/v1/projects/{project_id}", params={"owner_id": str(owner_id)})
    if response.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound("No such project.", code="project_not_found")
    if response.status_code != status.HTTP_200_OK:
        raise _unexpected(response)
    return response.json()


@dataclass(frozen=True)
class ManifestFile:
    path: str
    sha256: str
    size: int
    content_type: str


@dataclass(frozen=True)
class Manifest:
    revision: int
    files: list[ManifestFile]

    @property
    def size(self) -> int:
        return sum(file.size for file in self.files)


def revision_manifest(*, project_id, owner_id, revision: int | None) -> Manifest:
    """Every file of the project at `revision` (None: the current one); NotFound for a missing one."""
    number = "current" if revision is None else str(revision)
    response = projects().get(
        f"/internal/v1/projects/{project_id}/revisions/{number}/manifest",
        params={"owner_id": str(owner_id)},
    )
    if response.status_code == status.HTTP_404_NOT_FOUND:
        if _error_code(response) == "revision_not_found":
            raise NotFound(f"Revision {revision} does not exist.", code="revision_not_found")
        raise NotFound("No such project.", code="project_not_found")
    if response.status_code != status.HTTP_200_OK:
        raise _unexpected(response)
    try:
        body = response.json()
        files = [
            ManifestFile(
                path=str(item["path"]),
                sha256=str(item["sha256"]),
                size=int(item["size"]),
                content_type=str(item["content_type"]),
            )
            for item in body["files"]
        ]
        return Manifest(revision=int(body["revision"]), files=files)
    except (ValueError, KeyError, TypeError) as exc:
        raise _unexpected(response) from exc


def blobs_fetch(*, project_id, owner_id, sha256s: list[str], max_bytes: int) -> dict[str, bytes]:
    """The bytes of some of these blobs (at least one, about `max_bytes` at most), each checked by hash.

    Projects answers with as many as fit; the caller asks again for the rest.
    """
    response = projects().post(
        f"/internal/v1/projects/{project_id}/blobs",
        json={"owner_id": str(owner_id), "sha256": sha256s, "max_bytes": max_bytes},
        # Reading changes nothing, so a failed attempt may be repeated like a GET.
        retry=True,
    )
    if response.status_code == status.HTTP_404_NOT_FOUND:
        raise NotFound("No such project.", code="project_not_found")
    if response.status_code != status.HTTP_200_OK:
        raise _unexpected(response)
    try:
        blobs = {}
        for item in response.json()["blobs"]:
            data = base64.b64decode(item["content"], validate=True)
            sha = str(item["sha256"])
            if hashlib.sha256(data).hexdigest() != sha:
                raise ValueError("a blob's bytes do not match its hash")
            blobs[sha] = data
    except (ValueError, KeyError, TypeError) as exc:
        raise _unexpected(response) from exc
    if not blobs:
        raise _unexpected(response)
    return blobs


def publication_put(*, project_id, owner_id, site_id, version: int, state: dict | None) -> None:
    """Tell projects what `site_id` serves (`state` None: the site was deleted), numbered by `version`.

    A PUT of a versioned state may be repeated safely, so the client retries it with backoff.
    A 404 needs no retry either: the project was deleted, and its copy with it.
    """
    response = projects().request(
        "PUT",
        f"/internal/v1/projects/{project_id}/publication",
        params={"owner_id": str(owner_id)},
        json={"site_id": str(site_id), "version": version, "state": state},
        timeout=PUBLICATION_TIMEOUT,
    )
    if response.status_code not in (status.HTTP_200_OK, status.HTTP_404_NOT_FOUND):
        raise _unexpected(response)
