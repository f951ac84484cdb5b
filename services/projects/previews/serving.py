"""Finding the file a preview URL asks for: `index.html` for folders; a folder without its slash redirects."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from files.trees import Entry, file_read
from oasis_common.errors import NotFound
from previews.links import PreviewGrant
from projects.models import Project

INDEX = "index.html"


@dataclass(frozen=True)
class Found:
    entry: Entry
    data: bytes


@dataclass(frozen=True)
class FolderRedirect:
    location: str


def preview_read(*, grant: PreviewGrant, path: str) -> Found | FolderRedirect:
    """The file at `path` in the granted project; raises a ServiceError (shown as 404) otherwise."""
    # The signed grant is the capability here: it names the project, so no owner is involved.
    project = Project.objects.filter(pk=grant.project_id).first()
    if project is None:
        raise NotFound("No such preview.")
    wanted = f"{path}{INDEX}" if path == "" or path.endswith("/") else path
    try:
        entry, data = file_read(project=project, path=wanted, revision=grant.revision)
    except NotFound:
        if wanted.endswith(INDEX):
            raise
        file_read(project=project, path=f"{path}/{INDEX}", revision=grant.revision)
        # Relative links in the folder's index.html resolve against the URL, which must end in a slash.
        return FolderRedirect(location=f"{quote(path.rsplit('/', 1)[-1])}/")
    return Found(entry=entry, data=data)
