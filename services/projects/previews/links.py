"""Preview links: a signed token that names one project (and optionally a revision) until it expires.

The token is the whole capability: whoever holds it may read that project's files at
that revision, nothing else. It is signed with the service's secret key and a salt of
its own, so no other signed value of the service can pass for it.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from django.conf import settings
from django.core import signing

from files.trees import revision_resolve
from projects.models import Project

SALT = "projects.previews.link"


@dataclass(frozen=True)
class PreviewLink:
    token: str
    path: str
    url: str
    revision: int | None
    expires_at: datetime


@dataclass(frozen=True)
class PreviewGrant:
    project_id: uuid.UUID
    revision: int | None


def preview_create(*, project: Project, revision: int | None, expires_in: int | None) -> PreviewLink:
    """A link to `project` at `revision` (None follows the current revision) for `expires_in` seconds."""
    if revision is not None:
        revision_resolve(project=project, revision=revision)
    seconds = expires_in or settings.OASIS["PREVIEW_DEFAULT_SECONDS"]
    expires = int(time.time()) + seconds
    token = signing.dumps({"p": project.pk.hex, "r": revision, "x": expires}, salt=SALT, compress=False)
    path = f"/preview/{token}/"
    return PreviewLink(
        token=token,
        path=path,
        url=f"{settings.OASIS['PREVIEW_ORIGIN']}{path}",
        revision=revision,
        expires_at=datetime.fromtimestamp(expires, tz=UTC),
    )


def preview_grant(token: str) -> PreviewGrant | None:
    """What a token grants, or None when it is forged, tampered with, malformed or expired."""
    try:
        claims = signing.loads(token, salt=SALT, max_age=settings.OASIS["PREVIEW_MAX_SECONDS"])
        expires = int(claims["x"])
        project_id = uuid.UUID(hex=claims["p"])
        revision = claims["r"]
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return None
    if expires <= time.time() or not (revision is None or isinstance(revision, int)):
        return None
    return PreviewGrant(project_id=project_id, revision=revision)
