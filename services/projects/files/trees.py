"""Reading a project's tree and files, now or at any earlier revision, in a constant number of queries.

The current tree is materialised (TreeEntry). An older tree is the latest change per path
at or before the revision, keeping those that were not deletions: one query, whatever
the number of files or revisions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import F, Window
from django.db.models.functions import RowNumber

from files.content_types import content_type_of
from files.models import Blob, FileChange, TreeEntry
from oasis_common.errors import NotFound
from oasis_common.paths import path_clean
from projects.models import Project


@dataclass(frozen=True)
class Entry:
    path: str
    sha256: str
    size: int
    blob_id: int
    is_text: bool
    revision_number: int
    changed_at: datetime

    @property
    def content_type(self) -> str:
        return content_type_of(self.path)

    @property
    def etag(self) -> str:
        return f'"{self.sha256}"'


def revision_resolve(*, project: Project, revision: int | None) -> int:
    """The revision number a read refers to: the current one by default; 0 is the empty tree before r1."""
    if revision is None:
        return project.current_revision
    if revision < 0 or revision > project.current_revision:
        raise NotFound(f"Revision {revision} does not exist.", code="revision_not_found")
    return revision


def _current(project: Project):
    return TreeEntry.objects.filter(project=project).values(
        "path", "sha256", "size", "blob_id", "revision_number", "changed_at", is_text=F("blob__is_text")
    )


def _at(project: Project, number: int):
    # A window per path, not an anti-join: its plan stays linear even before the planner has
    # statistics for a freshly imported project. Deletions are dropped by the caller, because a
    # condition here would apply before the window and resurrect the version a deletion hid.
    latest_first = Window(RowNumber(), partition_by=[F("path")], order_by=F("number").desc())
    return (
        FileChange.objects.filter(project=project, number__lte=number)
        .annotate(recency=latest_first)
        .filter(recency=1)
        .values(
            "path",
            "blob_id",
            sha256=F("blob__sha256"),
            size=F("blob__size"),
            is_text=F("blob__is_text"),
            revision_number=F("number"),
            changed_at=F("revision__created_at"),
        )
    )


def tree_read(*, project: Project, revision: int | None = None) -> list[Entry]:
    """Every file of `project` at `revision` (default: now), sorted by path."""
    number = revision_resolve(project=project, revision=revision)
    if number == 0:
        return []
    rows = _current(project) if number == project.current_revision else _at(project, number)
    entries = (Entry(**row) for row in rows if row["blob_id"] is not None)
    return sorted(entries, key=lambda entry: entry.path)


def file_read(*, project: Project, path: str, revision: int | None = None) -> tuple[Entry, bytes]:
    """One file's entry and bytes at `revision` (default: now), or a `file_not_found` 404."""
    path = path_clean(path)
    number = revision_resolve(project=project, revision=revision)
    row = None
    if number == project.current_revision and number:
        row = (
            TreeEntry.objects.filter(project=project, path=path)
            .values(
                "path",
                "sha256",
                "size",
                "blob_id",
                "revision_number",
                "changed_at",
                is_text=F("blob__is_text"),
                data=F("blob__data"),
            )
            .first()
        )
    elif number:
        latest = (
            FileChange.objects.filter(project=project, path=path, number__lte=number)
            .order_by("-number")
            .values(
                "path",
                "blob_id",
                sha256=F("blob__sha256"),
                size=F("blob__size"),
                is_text=F("blob__is_text"),
                data=F("blob__data"),
                revision_number=F("number"),
                changed_at=F("revision__created_at"),
            )
            .first()
        )
        row = latest if latest and latest["blob_id"] else None
    if row is None:
        raise NotFound("No such file.", code="file_not_found", details={"path": path})
    data = bytes(row.pop("data"))
    return Entry(**row), data


def blob_contents(*, project: Project, blob_ids: list[int]) -> dict[int, bytes]:
    """The bytes of several blobs of `project` at once, by id."""
    if not blob_ids:
        return {}
    rows = Blob.objects.filter(project=project, pk__in=blob_ids).values_list("pk", "data")
    return {pk: bytes(data) for pk, data in rows}
