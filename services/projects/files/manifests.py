"""What publishing a revision needs from projects: its manifest, and chosen blobs in bounded batches.

The sites service copies a revision into its own store by content hash. It asks first for
the manifest (every path with its hash, size and type: one query however many files),
then only for the blobs it does not hold yet, a batch at a time.
"""

from __future__ import annotations

from dataclasses import dataclass

from files.models import Blob
from files.trees import Entry, revision_resolve, tree_read
from oasis_common.errors import NotFound
from projects.models import Project

# One batch answers at most this many blobs and, beyond its first blob, about this many bytes.
MAX_BLOBS_PER_BATCH = 500
MAX_BATCH_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Manifest:
    revision: int
    files: list[Entry]


def manifest_read(*, project: Project, revision: int | None) -> Manifest:
    """Every file of `project` at `revision` (None: the current one), sorted by path."""
    number = revision_resolve(project=project, revision=revision)
    return Manifest(revision=number, files=tree_read(project=project, revision=number))


def blobs_read(*, project: Project, sha256s: list[str], max_bytes: int) -> list[tuple[str, bytes]]:
    """The blobs of `project` named by `sha256s`, in that order, while they fit in `max_bytes` (at least one).

    Sizes are read first, so only the bytes of the blobs that fit are loaded.
    """
    wanted = list(dict.fromkeys(sha256s))
    sizes = dict(Blob.objects.filter(project=project, sha256__in=wanted).values_list("sha256", "size"))
    unknown = [sha for sha in wanted if sha not in sizes]
    if unknown:
        raise NotFound(
            "No such file contents in this project.", code="blob_not_found", details={"sha256": unknown}
        )
    chosen, used = [], 0
    for sha in wanted:
        if chosen and used + sizes[sha] > max_bytes:
            break
        chosen.append(sha)
        used += sizes[sha]
    data = dict(Blob.objects.filter(project=project, sha256__in=chosen).values_list("sha256", "data"))
    return [(sha, bytes(data[sha])) for sha in chosen]
