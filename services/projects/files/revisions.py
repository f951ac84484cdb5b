"""Committing a change to a project: the one way a revision is made.

Every write (a file PUT or DELETE, a change set, a restore, an import, a template)
goes through `revision_commit`, which takes the project's row lock first, so writers
to one project queue up and each sees the tree the previous one left. A request is
checked whole before anything is written; a refusal changes nothing.

A commit runs in three steps: `changes_normalise` cleans and checks the request,
`commit_plan` works out on the current tree (with no database access) what changes and
the tree that results, and the plan is then written as the next revision.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from files.content_types import is_text
from files.models import Blob, FileChange, Revision, TreeEntry
from files.trees import tree_read
from oasis_common.errors import Conflict, NotFound, ServiceError
from oasis_common.paths import path_clean, path_parents
from projects.models import Project


@dataclass(frozen=True)
class Rename:
    source: str
    target: str


@dataclass(frozen=True)
class Link:
    """A path that takes a blob the project already stores (restores store no new bytes)."""

    blob_id: int
    sha256: str
    size: int


class PreconditionFailed(ServiceError):
    status_code = status.HTTP_412_PRECONDITION_FAILED
    code = "precondition_failed"
    message = "The file changed since you read it (If-Match did not match)."


class FileExists(PreconditionFailed):
    """A create-only write (`If-None-Match: *`) found a file already there."""

    code = "file_exists"
    message = "A file already exists at this path (If-None-Match: * creates only)."


@dataclass(frozen=True)
class Precondition:
    """`If-Match` (ETags, or `*` for "exists") and `If-None-Match: *` ("does not exist") for one path."""

    if_match: tuple[str, ...] = ()
    if_none_match: bool = False

    def refusal(self, *, path: str, current: str | None) -> PreconditionFailed | None:
        """Why the request's precondition fails on the file's current hash (None: no file), if it does.

        If-Match is judged first, as RFC 9110 orders them.
        """
        details = {"path": path, "etag": f'"{current}"' if current else None}
        if self.if_match and current is None:
            return PreconditionFailed("There is no file at this path (If-Match needs one).", details=details)
        if self.if_match and "*" not in self.if_match and current not in self.if_match:
            return PreconditionFailed(details=details)
        if self.if_none_match and current is not None:
            return FileExists(details=details)
        return None


@dataclass(frozen=True)
class Commit:
    revision: Revision | None  # None only from restoring a project that never had a revision
    created: bool


class FileTooLarge(ServiceError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"


_DELETED = None


@dataclass(frozen=True)
class FileState:
    """One file of a tree as a commit sees it; `blob_id` is None for bytes not stored yet."""

    sha256: str
    size: int
    blob_id: int | None = None


@dataclass(frozen=True)
class Changes:
    """A change set with clean paths, each named once, and its writes hashed: path → (sha256, bytes)."""

    writes: dict[str, tuple[str, bytes]]
    links: dict[str, Link]
    deletes: list[str]
    renames: list[Rename]
    preconditions: dict[str, Precondition]

    @property
    def touched(self) -> list[str]:
        """Every path the change set names, preconditions aside."""
        return [
            *self.writes,
            *self.links,
            *self.deletes,
            *(rename.source for rename in self.renames),
            *(rename.target for rename in self.renames),
        ]


@dataclass(frozen=True)
class CommitPlan:
    """What a commit does to a tree: each changed path's new state (None: deleted) and the tree after it."""

    changed: dict[str, FileState | None]
    actions: dict[str, str]
    renamed_from: dict[str, str]
    tree: dict[str, FileState]

    @property
    def writes(self) -> dict[str, FileState]:
        return {path: state for path, state in self.changed.items() if state is not _DELETED}

    @property
    def deletes(self) -> list[str]:
        return [path for path, state in self.changed.items() if state is _DELETED]

    @property
    def keeps(self) -> list[str]:
        """The paths the commit leaves as they are."""
        return [path for path in self.tree if path not in self.changed]


def file_size_check(*, path: str, size: int) -> None:
    limit = settings.OASIS["MAX_FILE_BYTES"]
    if size > limit:
        raise FileTooLarge(
            f"A file may be at most {limit} bytes.", details={"path": path, "size": size, "limit": limit}
        )


def revision_commit(
    *,
    project_id,
    owner_id,
    author_user_id,
    message: str = "",
    writes: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = (),
    deletes: Iterable[str] = (),
    renames: Iterable[Rename] = (),
    links: Mapping[str, Link] | None = None,
    base_revision: int | None = None,
    preconditions: Mapping[str, Precondition] | None = None,
    generation_id: str | None = None,
    restored_from: int | None = None,
) -> Commit:
    """Apply one change set atomically as the project's next revision.

    Each path may appear once across writes, deletes, renames and links. With
    `generation_id`, a generation that was already applied returns its revision.
    """
    changes = changes_normalise(
        writes=writes, links=links, deletes=deletes, renames=renames, preconditions=preconditions
    )
    with transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id, owner_id=owner_id).first()
        if project is None:
            raise NotFound("No such project.")
        if generation_id:
            done = Revision.objects.filter(project=project, generation_id=generation_id).first()
            if done is not None:
                return Commit(revision=done, created=False)
        tree = _tree_of(project)
        _check_preconditions(changes.preconditions, tree)
        _check_base_revision(project, base_revision, changes.touched)
        plan = commit_plan(tree=tree, changes=changes)
        revision = _revision_write(
            project,
            plan,
            changes,
            message=message,
            author_user_id=author_user_id,
            generation_id=generation_id,
            restored_from=restored_from,
        )
    return Commit(revision=revision, created=True)


def changes_normalise(
    *,
    writes: Mapping[str, bytes] | Iterable[tuple[str, bytes]] = (),
    links: Mapping[str, Link] | None = None,
    deletes: Iterable[str] = (),
    renames: Iterable[Rename] = (),
    preconditions: Mapping[str, Precondition] | None = None,
) -> Changes:
    """The change set with clean paths and hashed writes; refused on a repeated path or a file too big."""
    written = [(path_clean(path), content) for path, content in _pairs(writes)]
    links = {path_clean(path): link for path, link in (links or {}).items()}
    deletes = [path_clean(path) for path in deletes]
    renames = [Rename(path_clean(rename.source), path_clean(rename.target)) for rename in renames]
    preconditions = {path_clean(path): rule for path, rule in (preconditions or {}).items()}
    _refuse_duplicates(
        [
            *(path for path, _ in written),
            *links,
            *deletes,
            *(rename.source for rename in renames),
            *(rename.target for rename in renames),
        ]
    )
    for path, content in written:
        file_size_check(path=path, size=len(content))
    return Changes(
        writes={path: (hashlib.sha256(content).hexdigest(), content) for path, content in written},
        links=links,
        deletes=deletes,
        renames=renames,
        preconditions=preconditions,
    )


def commit_plan(*, tree: Mapping[str, FileState], changes: Changes) -> CommitPlan:
    """What `changes` do to `tree` (the current files by path), worked out without the database.

    Refuses deleting or renaming a missing file, renaming onto an existing one, a path that would be
    both a file and a folder, and a tree past the project's limits. Bytes a file already holds change nothing.
    """
    missing = [path for path in [*changes.deletes, *(r.source for r in changes.renames)] if path not in tree]
    if missing:
        raise NotFound("These files do not exist.", code="file_not_found", details={"paths": missing})
    taken = [rename.target for rename in changes.renames if rename.target in tree]
    if taken:
        raise Conflict("A file already exists at these paths.", code="file_exists", details={"paths": taken})

    planned: dict[str, FileState | None] = {}
    for rename in changes.renames:
        planned[rename.source] = _DELETED
        planned[rename.target] = tree[rename.source]
    for path in changes.deletes:
        planned[path] = _DELETED
    for path, link in changes.links.items():
        planned[path] = FileState(link.sha256, link.size, link.blob_id)
    for path, (sha256, content) in changes.writes.items():
        planned[path] = FileState(sha256, len(content))
    changed = {
        path: state
        for path, state in planned.items()
        if (state is _DELETED and path in tree)
        or (state is not _DELETED and (path not in tree or tree[path].sha256 != state.sha256))
    }

    final = {path: state for path, state in tree.items() if path not in changed}
    final.update({path: state for path, state in changed.items() if state is not _DELETED})
    _check_structure(final)
    _check_project_limits(final)
    return CommitPlan(
        changed=changed,
        actions={path: _action(path, state, tree) for path, state in changed.items()},
        renamed_from={rename.target: rename.source for rename in changes.renames},
        tree=final,
    )


def _tree_of(project: Project) -> dict[str, FileState]:
    return {
        row["path"]: FileState(row["sha256"], row["size"], row["blob_id"])
        for row in TreeEntry.objects.filter(project=project).values("path", "sha256", "size", "blob_id")
    }


def _revision_write(
    project: Project,
    plan: CommitPlan,
    changes: Changes,
    *,
    message: str,
    author_user_id,
    generation_id: str | None,
    restored_from: int | None,
) -> Revision:
    """Store the plan as the project's next revision: new blobs, the revision, its changes, the tree."""
    blob_ids = _store_blobs(
        project, {path: changes.writes[path] for path in plan.changed if path in changes.writes}
    )
    number = project.current_revision + 1
    revision = Revision.objects.create(
        project=project,
        number=number,
        # Generated messages ("Edit <a 512-byte path>") may run past the column; users' are validated.
        message=message[: Revision._meta.get_field("message").max_length],
        author_user_id=author_user_id,
        generation_id=generation_id or "",
        restored_from=restored_from,
        file_count=len(plan.tree),
        size=sum(state.size for state in plan.tree.values()),
    )
    FileChange.objects.bulk_create(
        FileChange(
            project=project,
            revision=revision,
            number=number,
            path=path,
            action=plan.actions[path],
            blob_id=None if state is _DELETED else (state.blob_id or blob_ids[state.sha256]),
            renamed_from=plan.renamed_from.get(path, ""),
        )
        for path, state in plan.changed.items()
    )
    _tree_write(project, revision, plan, blob_ids)
    return revision


def _tree_write(project: Project, revision: Revision, plan: CommitPlan, blob_ids: dict[str, int]) -> None:
    """Make the project's current tree and totals the plan's."""
    TreeEntry.objects.filter(project=project, path__in=list(plan.changed)).delete()
    TreeEntry.objects.bulk_create(
        TreeEntry(
            project=project,
            path=path,
            blob_id=state.blob_id or blob_ids[state.sha256],
            sha256=state.sha256,
            size=state.size,
            revision_number=revision.number,
            changed_at=revision.created_at,
        )
        for path, state in plan.writes.items()
    )
    project.current_revision = revision.number
    project.file_count = revision.file_count
    project.size = revision.size
    project.updated_at = timezone.now()
    project.save(update_fields=["current_revision", "file_count", "size", "updated_at"])


def _pairs(writes: Mapping[str, bytes] | Iterable[tuple[str, bytes]]) -> Iterable[tuple[str, bytes]]:
    return writes.items() if isinstance(writes, Mapping) else writes


def _refuse_duplicates(paths: list[str]) -> None:
    repeated = sorted(path for path, count in Counter(paths).items() if count > 1)
    if repeated:
        raise ServiceError(
            "Each path may appear only once in a change set.",
            code="duplicate_path",
            details={"paths": repeated},
        )


def _check_preconditions(preconditions: Mapping[str, Precondition], tree: Mapping[str, FileState]) -> None:
    for path, rule in preconditions.items():
        refusal = rule.refusal(path=path, current=tree[path].sha256 if path in tree else None)
        if refusal is not None:
            raise refusal


def _check_base_revision(project: Project, base_revision: int | None, touched: list[str]) -> None:
    if base_revision is None:
        return
    if base_revision > project.current_revision:
        raise ServiceError(
            f"base_revision {base_revision} is newer than the project (revision {project.current_revision}).",
            code="invalid_base_revision",
            details={"base_revision": base_revision, "current_revision": project.current_revision},
        )
    if base_revision == project.current_revision:
        return
    stale = set(
        FileChange.objects.filter(project=project, number__gt=base_revision, path__in=touched).values_list(
            "path", flat=True
        )
    )
    if stale:
        raise Conflict(
            "Some of these files changed after base_revision; read them again and retry.",
            code="stale_base_revision",
            details={
                "paths": sorted(stale),
                "base_revision": base_revision,
                "current_revision": project.current_revision,
            },
        )


def _check_structure(final: dict[str, FileState]) -> None:
    """A path cannot be a file and a folder at once (`a` and `a/b`): no file system could hold both."""
    folders = {parent for path in final for parent in path_parents(path)}
    clashes = sorted(path for path in final if path in folders)
    if clashes:
        raise Conflict(
            "A path would be both a file and a folder.", code="path_conflict", details={"paths": clashes}
        )


def _check_project_limits(final: dict[str, FileState]) -> None:
    limits = settings.OASIS
    if len(final) > limits["MAX_FILES_PER_PROJECT"]:
        raise ServiceError(
            f"A project may hold at most {limits['MAX_FILES_PER_PROJECT']} files.",
            code="too_many_files",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            details={"files": len(final), "limit": limits["MAX_FILES_PER_PROJECT"]},
        )
    total = sum(state.size for state in final.values())
    if total > limits["MAX_PROJECT_BYTES"]:
        raise ServiceError(
            f"A project may hold at most {limits['MAX_PROJECT_BYTES']} bytes.",
            code="project_too_large",
            status_code=status.HTTP_422_UNPROCESSABLE_ENTITY,
            details={"size": total, "limit": limits["MAX_PROJECT_BYTES"]},
        )


def _store_blobs(project: Project, contents: dict[str, tuple[str, bytes]]) -> dict[str, int]:
    """Blob ids by SHA-256 for `contents`, storing only bytes the project does not hold yet."""
    by_hash = {sha256: content for sha256, content in contents.values()}
    if not by_hash:
        return {}
    ids = dict(Blob.objects.filter(project=project, sha256__in=list(by_hash)).values_list("sha256", "id"))
    created = Blob.objects.bulk_create(
        Blob(project=project, sha256=sha256, size=len(content), is_text=is_text(content), data=content)
        for sha256, content in by_hash.items()
        if sha256 not in ids
    )
    ids.update({blob.sha256: blob.pk for blob in created})
    return ids


def _action(path: str, state: FileState | None, tree: dict[str, FileState]) -> str:
    if state is _DELETED:
        return FileChange.Action.DELETED
    return FileChange.Action.MODIFIED if path in tree else FileChange.Action.CREATED


def revision_restore(*, project_id, owner_id, number: int, author_user_id, message: str = "") -> Commit:
    """A new revision whose tree equals revision `number`'s (0: the empty project before its first
    revision); history is never rewritten.

    When the current tree already equals it, nothing is made and the current revision is the answer
    (None for a project that never had one).
    """
    with transaction.atomic():
        # Lock before reading either tree, so no commit can slip in between the read and the write.
        project = Project.objects.select_for_update().filter(pk=project_id, owner_id=owner_id).first()
        if project is None:
            raise NotFound("No such project.")
        if number and not Revision.objects.filter(project=project, number=number).exists():
            raise NotFound(f"Revision {number} does not exist.", code="revision_not_found")
        if number == 0 and project.current_revision == 0:
            return Commit(revision=None, created=False)
        target = {entry.path: entry for entry in tree_read(project=project, revision=number)}
        current = dict(TreeEntry.objects.filter(project=project).values_list("path", "sha256"))
        if current == {path: entry.sha256 for path, entry in target.items()}:
            # Restoring what is already there is a no-op, so a repeated click makes no empty revision.
            now = Revision.objects.get(project=project, number=project.current_revision)
            return Commit(revision=now, created=False)
        return revision_commit(
            project_id=project.pk,
            owner_id=owner_id,
            author_user_id=author_user_id,
            message=message or f"Restore revision {number}",
            links={path: Link(entry.blob_id, entry.sha256, entry.size) for path, entry in target.items()},
            deletes=[path for path in current if path not in target],
            restored_from=number,
        )


@dataclass(frozen=True)
class Written:
    path: str
    sha256: str
    size: int
    created: bool
    revision: int


def file_write(*, project_id, owner_id, path: str, content: bytes, preconditions=None) -> Written:
    """Create or replace one file (a PUT): one revision, by the owner."""
    path = path_clean(path)
    commit = revision_commit(
        project_id=project_id,
        owner_id=owner_id,
        author_user_id=owner_id,
        message=f"Edit {path}",
        writes={path: content},
        preconditions={path: preconditions} if preconditions else None,
    )
    created = commit.revision.changes.filter(path=path, action=FileChange.Action.CREATED).exists()
    sha256 = hashlib.sha256(content).hexdigest()
    return Written(
        path=path, sha256=sha256, size=len(content), created=created, revision=commit.revision.number
    )


def file_delete(*, project_id, owner_id, path: str, preconditions=None) -> Commit:
    """Delete one file (a DELETE): one revision, by the owner."""
    path = path_clean(path)
    return revision_commit(
        project_id=project_id,
        owner_id=owner_id,
        author_user_id=owner_id,
        message=f"Delete {path}",
        deletes=[path],
        preconditions={path: preconditions} if preconditions else None,
    )
