"""A snapshot of a revision for the builder: every file's metadata, and text contents within a byte budget."""

from __future__ import annotations

from dataclasses import dataclass

from files.trees import Entry, blob_contents, revision_resolve, tree_read
from projects.models import Project


@dataclass(frozen=True)
class SnapshotFile:
    entry: Entry
    content: str | None
    # A text file left out because the budget ran out (binary files never carry content).
    omitted: bool


@dataclass(frozen=True)
class Snapshot:
    revision: int
    budget: int
    content_bytes: int
    files: list[SnapshotFile]


def snapshot_take(*, project: Project, revision: int | None, budget: int) -> Snapshot:
    """Text files are included in path order while they fit; one that does not is skipped, not cut."""
    number = revision_resolve(project=project, revision=revision)
    entries = tree_read(project=project, revision=number)
    chosen, used = set(), 0
    for entry in entries:
        if entry.is_text and used + entry.size <= budget:
            chosen.add(entry.path)
            used += entry.size
    contents = blob_contents(
        project=project, blob_ids=sorted({entry.blob_id for entry in entries if entry.path in chosen})
    )
    files = [
        SnapshotFile(
            entry=entry,
            content=contents[entry.blob_id].decode() if entry.path in chosen else None,
            omitted=entry.is_text and entry.path not in chosen,
        )
        for entry in entries
    ]
    return Snapshot(revision=number, budget=budget, content_bytes=used, files=files)
