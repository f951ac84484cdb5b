"""Reading a project's history: its revisions, and the difference between any two of them."""

from __future__ import annotations

import difflib
from dataclasses import dataclass

from django.db.models import Prefetch, QuerySet

from files.models import FileChange, Revision
from files.trees import Entry, blob_contents, revision_resolve, tree_read
from oasis_common.errors import NotFound
from projects.models import Project


def revision_list(*, project: Project) -> QuerySet[Revision]:
    changes = FileChange.objects.only("revision_id", "path", "action", "renamed_from")
    return Revision.objects.filter(project=project).prefetch_related(Prefetch("changes", queryset=changes))


def revision_get(*, project: Project, number: int) -> Revision:
    revision = revision_list(project=project).filter(number=number).first()
    if revision is None:
        raise NotFound(f"Revision {number} does not exist.", code="revision_not_found")
    return revision


@dataclass(frozen=True)
class FileDiff:
    path: str
    action: str
    old_sha256: str | None
    new_sha256: str | None
    binary: bool
    diff: str


def revision_diff(*, project: Project, old: int | None, new: int | None) -> tuple[int, int, list[FileDiff]]:
    """What changed from revision `old` to `new` (default: the one before `new`, and now)."""
    new = revision_resolve(project=project, revision=new)
    old = revision_resolve(project=project, revision=max(new - 1, 0) if old is None else old)
    before = {entry.path: entry for entry in tree_read(project=project, revision=old)}
    after = {entry.path: entry for entry in tree_read(project=project, revision=new)}
    paths = sorted(
        path
        for path in before.keys() | after.keys()
        if getattr(before.get(path), "sha256", None) != getattr(after.get(path), "sha256", None)
    )
    wanted = [
        entry.blob_id
        for path in paths
        for entry in (before.get(path), after.get(path))
        if entry is not None and entry.is_text
    ]
    contents = blob_contents(project=project, blob_ids=wanted)
    return old, new, [_file_diff(path, before.get(path), after.get(path), contents) for path in paths]


def _file_diff(path: str, old: Entry | None, new: Entry | None, contents: dict[int, bytes]) -> FileDiff:
    if old is None:
        action = FileChange.Action.CREATED
    elif new is None:
        action = FileChange.Action.DELETED
    else:
        action = FileChange.Action.MODIFIED
    binary = any(entry is not None and not entry.is_text for entry in (old, new))
    old_name = f"a/{path}" if old else "/dev/null"
    new_name = f"b/{path}" if new else "/dev/null"
    if binary:
        text = f"Binary files {old_name} and {new_name} differ\n"
    else:
        old_lines = _lines(contents[old.blob_id]) if old else []
        new_lines = _lines(contents[new.blob_id]) if new else []
        text = "".join(_with_newlines(difflib.unified_diff(old_lines, new_lines, old_name, new_name)))
    return FileDiff(
        path=path,
        action=action,
        old_sha256=old.sha256 if old else None,
        new_sha256=new.sha256 if new else None,
        binary=binary,
        diff=text,
    )


def _lines(data: bytes) -> list[str]:
    """Lines split at line feeds only (str.splitlines would also split at form feeds and U+2028)."""
    *complete, last = data.decode().split("\n")
    return [f"{line}\n" for line in complete] + ([last] if last else [])


def _with_newlines(lines):
    """Unified diff lines, marking a last line without a newline the way `diff` and git do."""
    for line in lines:
        if line.endswith("\n"):
            yield line
        else:
            yield line + "\n\\ No newline at end of file\n"
