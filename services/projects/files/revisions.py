"""Committing a change to a project: the one way a revision is made.

Every write (a file PUT or DELETE, a change set, a restore, an import, a template)
goes through `revision_commit`, which takes the project's row lock first, so writers
to one project queue up and each sees the tree the previous one left. A request is
checked whole before anything is written; a refusal changes nothing.
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
    revision: Revision
    created: bool


class FileTooLarge(ServiceError):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    code = "file_too_large"


@dataclass(frozen=True)
class _State:
    sha256: str
    size: int
    blob_id: int | None = None


_DELETED = None


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
    written = [(path_clean(path), content) for path, content in _pairs(writes)]
    links = {path_clean(path): link for path, link in (links or {}).items()}
    deletes = [path_clean(path) for path in deletes]
    renames = [Rename(path_clean(rename.source), path_clean(rename.target)) for rename in renames]
    preconditions = {path_clean(path): rule for path, rule in (preconditions or {}).items()}
    touched = [
        *(path for path, _ in written),
        *links,
        *deletes,
        *(r.source for r in renames),
        *(r.target for r in renames),
    ]
    _refuse_duplicates(touched)
    writes = dict(written)
    for path, content in writes.items():
        file_size_check(path=path, size=len(content))
    hashed = {path: (hashlib.sha256(content).hexdigest(), content) for path, content in writes.items()}

    with transaction.atomic():
        project = Project.objects.select_for_update().filter(pk=project_id, owner_id=owner_id).first()
        if project is None:
            raise NotFound("No such project.")
        if generation_id:
            done = Revision.objects.filter(project=project, generation_id=generation_id).first()
            if done is not None:
                return Commit(revision=done, created=False)
        tree = {
            row["path"]: _State(row["sha256"], row["size"], row["blob_id"])
            for row in TreeEntry.objects.filter(project=project).values("path", "sha256", "size", "blob_id")
        }
        _check_preconditions(preconditions, tree)
        _check_base_revision(project, base_revision, touched)

        missing = [path for path in [*deletes, *(r.source for r in renames)] if path not in tree]
        if missing:
            raise NotFound("These files do not exist.", code="file_not_found", details={"paths": missing})
        taken = [rename.target for rename in renames if rename.target in tree]
        if taken:
            raise Conflict(
                "A file already exists at these paths.", code="file_exists", details={"paths": taken}
            )

        planned: dict[str, _State | None] = {}
        for rename in renames:
            planned[rename.source] = _DELETED
            planned[rename.target] = tree[rename.source]
        for path in deletes:
            planned[path] = _DELETED
        for path, link in links.items():
            planned[path] = _State(link.sha256, link.size, link.blob_id)
        for path, (sha256, content) in hashed.items():
            planned[path] = _State(sha256, len(content))
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

        blob_ids = _store_blobs(project, {path: hashed[path] for path in changed if path in hashed})
        number = project.current_revision + 1
        revision = Revision.objects.create(
            project=project,
            number=number,
            # Generated messages ("Edit <a 512-byte path>") may run past the column; users' are validated.
            message=message[: Revision._meta.get_field("message").max_length],
            author_user_id=author_user_id,
            generation_id=generation_id or "",
            restored_from=restored_from,
            file_count=len(final),
            size=sum(state.size for state in final.values()),
        )
        renamed_from = {rename.target: rename.source for rename in renames}
        FileChange.objects.bulk_create(
            FileChange(
                project=project,
                revision=revision,
                number=number,
                path=path,
                action=_action(path, state, tree),
                blob_id=None if state is _DELETED else (state.blob_id or blob_ids[state.sha256]),
                renamed_from=renamed_from.get(path, ""),
            )
            for path, state in changed.items()
        )
        TreeEntry.objects.filter(project=project, path__in=list(changed)).delete()
        TreeEntry.objects.bulk_create(
            TreeEntry(
                project=project,
                path=path,
                blob_id=state.blob_id or blob_ids[state.sha256],
                sha256=state.sha256,
                size=state.size,
                revision_number=number,
                changed_at=revision.created_at,
            )
            for path, state in changed.items()
            if state is not _DELETED
        )
        project.current_revision = number
        project.file_count = revision.file_count
        project.size = revision.size
        project.updated_at = timezone.now()
        project.save(update_fields=["current_revision", "file_count", "size", "updated_at"])
    return Commit(revision=revision, created=True)


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


def _check_preconditions(preconditions: Mapping[str, Precondition], tree: dict[str, _State]) -> None:
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


def _check_structure(final: dict[str, _State]) -> None:
    """A path cannot be a file and a folder at once (`a` and `a/b`): no file system could hold both."""
    folders = {parent for path in final for parent in path_parents(path)}
    clashes = sorted(path for path in final if path in folders)
    if clashes:
        raise Conflict(
            "A path would be both a file and a folder.", code="path_conflict", details={"paths": clashes}
        )


def _check_project_limits(final: dict[str, _State]) -> None:
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


def _action(path: str, state: _State | None, tree: dict[str, _State]) -> str:
    if state is _DELETED:
        return FileChange.Action.DELETED
    return FileChange.Action.MODIFIED if path in tree else FileChange.Action.CREATED


def revision_restore(*, project_id, owner_id, number: int, author_user_id, message: str = "") -> Commit:
    """A new revision whose tree equals revision `number`'s; history is never rewritten.

    When the current tree already equals it, nothing is made and the current revision is the answer.
    """
    with transaction.atomic():
        # Lock before reading either tree, so no commit can slip in between the read and the write.
        project = Project.objects.select_for_update().filter(pk=project_id, owner_id=owner_id).first()
        if project is None:
            raise NotFound("No such project.")
        if not Revision.objects.filter(project=project, number=number).exists():
            raise NotFound(f"Revision {number} does not exist.", code="revision_not_found")
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
