"""Conversations: the threads of a project's prompts, answers and runs, each its own context.

A project has as many as its owner starts. A run names its conversation, or goes in the
one most recently active (a new one when the project has none), and its model sees that
conversation's messages only. Archiving keeps a conversation out of the list and out of
new runs; deleting it removes its messages and runs (never the project's revisions they
made), and waits while one of its runs goes.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from generations import peers
from generations.models import ACTIVE, Conversation, Role
from oasis_common.errors import Conflict, NotFound, Unprocessable

TITLE_FROM_PROMPT_CHARS = 80


class ConversationArchived(Conflict):
    code = "conversation_archived"
    message = "This conversation is archived. Unarchive it, or start the run in another one."


class ConversationBusy(Conflict):
    code = "conversation_busy"
    message = "A run of this conversation is still going. Cancel it or wait for it to end first."


def conversations_of(*, user_id, project_id, archived: bool = False) -> QuerySet[Conversation]:
    """The caller's conversations about the project, the most recently active first."""
    return Conversation.objects.filter(
        user_id=user_id, project_id=project_id, archived_at__isnull=not archived
    )


def conversation_create(*, user_id, project_id, title: str = "") -> Conversation:
    return Conversation.objects.create(user_id=user_id, project_id=project_id, title=title.strip())


def conversation_get(*, user_id, conversation_id, for_update: bool = False) -> Conversation:
    """The caller's conversation, or a 404: another user's is not found, as one that never was."""
    rows = Conversation.objects.filter(pk=conversation_id, user_id=user_id)
    conversation = (rows.select_for_update() if for_update else rows).first()
    if conversation is None:
        raise NotFound()
    return conversation


def conversation_update(
    *, user_id, conversation_id, title: str | None, archived: bool | None
) -> Conversation:
    """Rename, archive or unarchive one of the caller's conversations."""
    with transaction.atomic():
        conversation = conversation_get(user_id=user_id, conversation_id=conversation_id, for_update=True)
        if title is not None:
            conversation.title = title.strip()
        if archived is not None and archived != (conversation.archived_at is not None):
            conversation.archived_at = timezone.now() if archived else None
        conversation.save(update_fields=["title", "archived_at"])
    return conversation


def conversation_delete(*, user_id, conversation_id) -> None:
    """Delete a conversation with its messages and runs; refused while one of its runs goes."""
    with transaction.atomic():
        conversation = conversation_get(user_id=user_id, conversation_id=conversation_id, for_update=True)
        if conversation.generations.filter(status__in=ACTIVE).exists():
            raise ConversationBusy(details={"conversation_id": str(conversation.id)})
        conversation.delete()


@dataclass(frozen=True)
class Rewound:
    prompt: str  # the rewound prompt, for a client to edit and send again
    revision: int | None  # the project's revision now: the one before that run (None: it had none)
    restored: bool  # a new revision was made (not when the files already were those)
    hidden: int  # messages this rewind took out of the model's context


def conversation_rewind(*, user_id, conversation_id, message_id) -> Rewound:
    """Go back to before a message's run: the project's files as that run found them (a new revision,
    history kept), that prompt and everything after it out of the model's context (kept for the record).

    Asked again, it makes nothing new. Refused while a run of the conversation goes, which would land after.
    """
    conversation = conversation_get(user_id=user_id, conversation_id=conversation_id)
    message = conversation.messages.select_related("generation").filter(pk=message_id).first()
    if message is None:
        raise NotFound()
    generation = message.generation
    if generation is None:
        raise Unprocessable("This message has no run to go back before.", code="nothing_to_rewind")
    if conversation.generations.filter(status__in=ACTIVE).exists():
        raise ConversationBusy(details={"conversation_id": str(conversation.id)})
    revision, restored = None, False
    if generation.base_revision is not None:
        landed, restored = peers.project_restore(
            project_id=generation.project_id,
            owner_id=user_id,
            revision=generation.base_revision,
            message=f"Rewind to before: {_shortened(generation.prompt)}",
        )
        revision = landed["number"]
    prompt = (
        conversation.messages.filter(generation=generation, role=Role.USER).order_by("created_at").first()
    )
    since = prompt.created_at if prompt else message.created_at
    hidden = conversation.messages.filter(created_at__gte=since, hidden_at__isnull=True).update(
        hidden_at=timezone.now()
    )
    return Rewound(prompt=generation.prompt, revision=revision, restored=restored, hidden=hidden)


def conversation_named(*, user_id, project_id, conversation_id) -> Conversation:
    """The conversation a run asks for: the caller's, about this project, and not archived."""
    conversation = conversation_get(user_id=user_id, conversation_id=conversation_id)
    if str(conversation.project_id) != str(project_id):
        # Another project's conversation is not found from this one.
        raise NotFound()
    if conversation.archived_at is not None:
        raise ConversationArchived(details={"conversation_id": str(conversation.id)})
    return conversation


def conversation_latest(*, user_id, project_id) -> Conversation | None:
    """The project's most recently active conversation that is not archived, if any."""
    return conversations_of(user_id=user_id, project_id=project_id).first()


def conversation_for_run(*, user_id, project_id, conversation_id=None, prompt: str) -> Conversation:
    """The conversation a new run goes in, made active: the one named, else the latest, else a new one.

    Called inside the transaction that inserts the run, under the caller's row lock, so two
    first runs of a project cannot start two conversations.
    """
    if conversation_id is not None:
        conversation = conversation_named(
            user_id=user_id, project_id=project_id, conversation_id=conversation_id
        )
    else:
        conversation = conversation_latest(user_id=user_id, project_id=project_id) or conversation_create(
            user_id=user_id, project_id=project_id
        )
    conversation.last_active_at = timezone.now()
    if not conversation.title:
        # An untitled conversation is named after its first prompt, as people name threads.
        conversation.title = _shortened(prompt)
    conversation.save(update_fields=["last_active_at", "title"])
    return conversation


def _shortened(prompt: str) -> str:
    """A prompt on one line, cut to a title's length."""
    return " ".join(prompt.split())[:TITLE_FROM_PROMPT_CHARS]
