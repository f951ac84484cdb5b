"""Review before apply: a run asked with `apply: review` holds its changes as a proposal.

The owner reads it as per-file diffs against the revision the run started from, then accepts it
(all files, or some) as one revision, or dismisses it. Accepting is idempotent (projects keys the
revision by the generation) and refused with the paths when those files changed since the run
started; files that did not change are applied onto the newer revision, which is the rebase. The
run was charged when it ended, whatever becomes of its proposal; a proposal not decided within
`PROPOSAL_TTL_SECONDS` can no longer be accepted.
"""

from __future__ import annotations

import difflib
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework import status

from generations import peers
from generations.models import Generation, Proposal
from oasis_common.errors import Conflict, NotFound, ServiceError

# A diff longer than this is cut (the whole file is still applied); a reviewer reads the start.
MAX_DIFF_CHARS = 200_000


class ProposalExpired(ServiceError):
    status_code = status.HTTP_410_GONE
    code = "proposal_expired"
    message = "This proposal is too old to accept. Run the prompt again."


class ProposalDismissed(Conflict):
    code = "proposal_dismissed"
    message = "This proposal was dismissed."


class ProposalAccepted(Conflict):
    code = "proposal_accepted"
    message = "This proposal was accepted; it can no longer be dismissed."


class ProposalStale(Conflict):
    code = "stale_base_revision"
    message = (
        "These files changed since the run started, so the proposal was not applied. Accept the other "
        "files, or run the prompt again."
    )


class ProposalBaseGone(Conflict):
    code = "proposal_base_gone"
    message = "The project this proposal was made for, or its base revision, no longer exists."


class UnknownPaths(ServiceError):
    code = "validation_error"
    message = "Some paths are not in this proposal."


def proposal_hold(*, generation: Generation, copy) -> Proposal:
    """Keep the run's changes (a `tools.WorkingCopy`) as a proposal instead of applying them."""
    changes = copy.changes()
    # A run queued again after losing its worker holds its proposal anew: the last attempt's stands.
    proposal, _ = Proposal.objects.update_or_create(
        generation=generation,
        defaults={
            "base_revision": copy.base_revision,
            "changes": changes,
            "files": _changed_files(copy, changes),
            "expires_at": timezone.now() + timedelta(seconds=settings.OASIS["PROPOSAL_TTL_SECONDS"]),
        },
    )
    return proposal


def _changed_files(copy, changes: dict) -> list[dict]:
    files = []
    for write in changes["writes"]:
        path = write["path"]
        action = "modified" if path in copy.original else "created"
        files.append(
            {"path": path, "action": action, "old": copy.original_text.get(path), "new": write["text"]}
        )
    for rename in changes["renames"]:
        files.append({"path": rename["to"], "action": "renamed", "from_path": rename["from"]})
    for path in changes["deletes"]:
        files.append({"path": path, "action": "deleted", "old": copy.original_text.get(path), "new": None})
    return sorted(files, key=lambda file: file["path"])


def proposal_get(*, user_id, generation_id) -> Proposal:
    """The caller's generation's proposal; another user's, or a run without one, is a 404."""
    proposal = (
        Proposal.objects.select_related("generation")
        .filter(generation_id=generation_id, generation__user_id=user_id)
        .first()
    )
    if proposal is None:
        raise NotFound("This generation has no proposal.")
    return proposal


def is_expired(proposal: Proposal) -> bool:
    return proposal.state == Proposal.State.PENDING and proposal.expires_at <= timezone.now()


def file_diffs(proposal: Proposal) -> list[dict]:
    """Each changed file with a unified diff against the run's base revision (none for a rename)."""
    return [
        {
            "path": file["path"],
            "action": file["action"],
            "from_path": file.get("from_path"),
            "diff": _diff(file) if file["action"] != "renamed" else "",
        }
        for file in proposal.files
    ]


def _diff(file: dict) -> str:
    old, new = file.get("old"), file.get("new")
    if (old is None and file["action"] != "created") or (new is None and file["action"] != "deleted"):
        return "(binary or too large to show)"
    lines = difflib.unified_diff(
        (old or "").splitlines(keepends=True),
        (new or "").splitlines(keepends=True),
        fromfile="/dev/null" if file["action"] == "created" else f"a/{file['path']}",
        tofile="/dev/null" if file["action"] == "deleted" else f"b/{file['path']}",
    )
    text = "".join(lines)
    return text if len(text) <= MAX_DIFF_CHARS else text[:MAX_DIFF_CHARS] + "\n… (cut)\n"


def proposal_accept(*, user_id, generation_id, paths: list[str] | None) -> tuple[Proposal, bool]:
    """Apply the proposal (or the files in `paths`) as one revision; the proposal, and whether this did."""
    proposal = proposal_get(user_id=user_id, generation_id=generation_id)
    if proposal.state == Proposal.State.ACCEPTED:
        return proposal, False
    if proposal.state == Proposal.State.DISMISSED:
        raise ProposalDismissed()
    if is_expired(proposal):
        raise ProposalExpired()
    chosen = _chosen(proposal, paths)
    generation = proposal.generation
    try:
        # Keyed by the generation: accepting twice, or at once from two tabs, makes one revision.
        landed = peers.project_apply_changes(
            project_id=generation.project_id,
            owner_id=generation.user_id,
            generation_id=generation.id,
            base_revision=proposal.base_revision,
            message=(generation.summary or "Accepted proposal")[:500],
            changes=chosen,
        )
    except peers.ChangeConflict as conflict:
        raise ProposalStale(details={"paths": conflict.paths}) from conflict
    except peers.ChangeRefused as refused:
        if refused.error.get("code") in ("not_found", "revision_not_found"):
            raise ProposalBaseGone() from refused
        raise Conflict(
            f"The project refused the changes: {refused.error.get('message', '')}".strip(),
            code=refused.error.get("code", "change_refused"),
        ) from refused
    return _accepted(proposal, revision=int(landed["number"]), paths=sorted(_paths_of(chosen))), True


def _chosen(proposal: Proposal, paths: list[str] | None) -> dict:
    changes = proposal.changes
    if paths is None:
        return changes
    unknown = sorted(set(paths) - _paths_of(changes))
    if unknown:
        raise UnknownPaths(details={"paths": unknown})
    wanted = set(paths)
    return {
        "writes": [write for write in changes["writes"] if write["path"] in wanted],
        "deletes": [path for path in changes["deletes"] if path in wanted],
        "renames": [rename for rename in changes["renames"] if rename["to"] in wanted],
    }


def _paths_of(changes: dict) -> set[str]:
    return (
        {write["path"] for write in changes["writes"]}
        | set(changes["deletes"])
        | {rename["to"] for rename in changes["renames"]}
    )


def _accepted(proposal: Proposal, *, revision: int, paths: list[str]) -> Proposal:
    with transaction.atomic():
        Proposal.objects.filter(pk=proposal.pk, state=Proposal.State.PENDING).update(
            state=Proposal.State.ACCEPTED, revision=revision, accepted_paths=paths, decided_at=timezone.now()
        )
        Generation.objects.filter(pk=proposal.generation_id).update(revision=revision)
    proposal.refresh_from_db()
    return proposal


def proposal_dismiss(*, user_id, generation_id) -> Proposal:
    """Drop a pending proposal (dismissing twice is harmless; an accepted one stays accepted)."""
    proposal = proposal_get(user_id=user_id, generation_id=generation_id)
    if proposal.state == Proposal.State.ACCEPTED:
        raise ProposalAccepted()
    Proposal.objects.filter(pk=proposal.pk, state=Proposal.State.PENDING).update(
        state=Proposal.State.DISMISSED, decided_at=timezone.now()
    )
    proposal.refresh_from_db()
    return proposal
