"""Accepting, estimating, cancelling and reading generations.

A generation is accepted only when the project is the caller's, the model exists,
its credit ceiling is held at payments, no other build of the project is active and
the caller is under their limit of running generations — the last two enforced by
the database, so concurrent requests cannot both pass.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import requests
from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework import status

from catalog import registry
from catalog.models import LanguageModel
from generations import admission, context, conversations, events, peers
from generations.models import ACTIVE, Generation, Message, Role, Status, UserSlot
from generations.settlement import generation_settle
from generations.tasks import run_generation
from oasis_common.errors import Conflict, NotFound, PeerUnavailable, ServiceError

logger = logging.getLogger("oasis.generations")

# A run's context grows with each turn; the ceiling assumes about this many full turns.
CEILING_TURNS = 8
SYSTEM_PROMPT_TOKENS = 400


class TooManyGenerations(ServiceError):
    status_code = status.HTTP_429_TOO_MANY_REQUESTS
    code = "too_many_generations"
    message = "You have too many generations running. Wait for one to finish."


def _admit() -> None:
    """Refuse a run while more than MAX_QUEUED wait for a worker: it would wait longer than its
    client waits for a first token."""
    queued = settings.OASIS["MAX_QUEUED"]
    if queued and Generation.objects.filter(status=Status.QUEUED).count() >= queued:
        raise admission.busy(queued_limit=queued)


class BuildInProgress(Conflict):
    code = "build_in_progress"
    message = "Another build of this project is running. Wait for it or cancel it."


class CeilingTooLow(ServiceError):
    code = "max_credits_too_low"
    message = "max_credits is too low for even one step with this model."


@dataclass(frozen=True)
class Estimate:
    model: LanguageModel
    input_tokens: int
    ceiling: int
    project: dict  # the project's metadata from projects, as the estimate saw it


def generation_estimate(
    *, model: LanguageModel, prompt: str, project: dict, history_tokens: int, max_credits: int | None
) -> Estimate:
    """The first request's input tokens and the credits to hold: the most the run may cost."""
    oasis = settings.OASIS
    project_tokens = min(oasis["CONTEXT_BUDGET_TOKENS"], -(-int(project.get("size", 0)) // 4))
    input_tokens = SYSTEM_PROMPT_TOKENS + project_tokens + history_tokens + registry.tokens_for_text(prompt)
    output_tokens = min(oasis["MAX_OUTPUT_TOKENS"], model.max_output_tokens * CEILING_TURNS)
    ceiling = registry.cost_credits(
        model=model, input_tokens=input_tokens * CEILING_TURNS, output_tokens=output_tokens
    )
    if max_credits is not None:
        smallest = registry.cost_credits(model=model, input_tokens=input_tokens, output_tokens=256)
        if max_credits < smallest:
            raise CeilingTooLow(details={"max_credits": [f"At least {smallest} credits are needed."]})
        ceiling = min(ceiling, max_credits)
    return Estimate(model=model, input_tokens=input_tokens, ceiling=max(1, ceiling), project=project)


def estimate_for(
    *,
    user_id,
    project: dict,
    prompt: str,
    model_slug: str | None,
    max_credits: int | None,
    conversation_id=None,
    options: dict | None = None,
) -> Estimate:
    """The estimate for the caller's `project`, its metadata as `peers.project_get` answered it, in the
    conversation named (else the one a run would go in), with `options` the model must take."""
    model = registry.model_get(slug=model_slug)
    _check_options(model, options or {})
    if conversation_id is not None:
        conversation = conversations.conversation_named(
            user_id=user_id, project_id=project["id"], conversation_id=conversation_id
        )
    else:
        conversation = conversations.conversation_latest(user_id=user_id, project_id=project["id"])
    history = context.compact_history(
        context.history_of(
            user_id=user_id,
            project_id=project["id"],
            conversation_id=conversation.id if conversation else None,
        ),
        budget_tokens=settings.OASIS["HISTORY_BUDGET_TOKENS"],
    )
    history_tokens = context.messages_tokens(history)
    return generation_estimate(
        model=model, prompt=prompt, project=project, history_tokens=history_tokens, max_credits=max_credits
    )


class OptionNotTaken(ServiceError):
    code = "option_not_supported"
    message = (
        "The model does not take some of these options. GET /api/v1/builder/models/ says which it takes."
    )


def _check_options(model: LanguageModel, options: dict) -> None:
    refused = sorted(set(options) - set(model.options))
    if refused:
        raise OptionNotTaken(
            details={"options": {name: [f"{model.slug} does not take {name}."] for name in refused}}
        )


def generation_create(
    *,
    user_id,
    project: dict,
    prompt: str,
    model_slug: str | None,
    mode: str,
    max_credits: int | None,
    conversation_id=None,
    options: dict | None = None,
    apply: str = "now",
) -> Generation:
    """Accept a generation on the caller's `project` (its metadata, loaded by the view before the body),
    in the conversation named, else the latest one."""
    _admit()
    project_id = project["id"]
    estimate = estimate_for(
        user_id=user_id,
        project=project,
        prompt=prompt,
        model_slug=model_slug,
        max_credits=max_credits,
        conversation_id=conversation_id,
        options=options,
    )
    generation = _generation_insert(
        user_id=user_id,
        project_id=project_id,
        prompt=prompt,
        mode=mode,
        estimate=estimate,
        project=project,
        max_credits=max_credits,
        conversation_id=conversation_id,
        options=options or {},
        apply=apply,
    )
    try:
        hold = peers.hold_create(user_id=user_id, amount=estimate.ceiling, generation_id=generation.id)
    except Exception as exc:
        generation_id = generation.id
        # Nothing ran: the generation never existed.
        generation.delete()
        if isinstance(exc, PeerUnavailable) and isinstance(exc.__cause__, requests.RequestException):
            # No answer came: payments may have made the hold all the same. It is asked for again
            # by its key, off this request, and given back, rather than held until it expires.
            peers.concurrently(
                _unanswered_hold_give_back,
                user_id=user_id,
                amount=estimate.ceiling,
                generation_id=generation_id,
            )
        raise
    try:
        with transaction.atomic():
            Generation.objects.filter(pk=generation.pk).update(hold_id=hold.id)
            generation.hold_id = hold.id
            Message.objects.create(
                project_id=project_id,
                user_id=user_id,
                conversation_id=generation.conversation_id,
                generation=generation,
                role=Role.USER,
                content=prompt,
            )
            events.event_append(generation_id=generation.id, type="status", data={"status": Status.QUEUED})
            # The task row is written in this same transaction: a committed generation always has
            # its task, and a failed one leaves none behind.
            run_generation.enqueue(str(generation.id))
    except Exception:
        _abandon(generation=generation, hold_id=hold.id)
        raise
    return generation


def _abandon(*, generation: Generation, hold_id: str) -> None:
    """Undo an accepted generation that could not be queued: give the hold back, forget the run."""
    try:
        peers.hold_release(hold_id=hold_id, generation_id=generation.id)
    except Exception:
        logger.exception(
            "Could not release the hold of abandoned generation %s; it expires on its own", generation.id
        )
    Generation.objects.filter(pk=generation.pk).delete()


def _unanswered_hold_give_back(*, user_id, amount: int, generation_id) -> None:
    """Release the hold of a start whose hold request got no answer, if payments made it.

    The same request with the same key answers with the hold payments made, or makes it now (the
    first never arrived), or says there were not enough credits (nothing is held); either hold is
    then released. Asked while payments is unavailable, for as long as a settlement would be.
    """
    seconds = settings.OASIS["SETTLE_RETRY_SECONDS"]
    try:
        hold = peers.while_unavailable(
            lambda: peers.hold_create(user_id=user_id, amount=amount, generation_id=generation_id),
            seconds=seconds,
        )
        peers.while_unavailable(
            lambda: peers.hold_release(hold_id=hold.id, generation_id=generation_id), seconds=seconds
        )
    except peers.InsufficientCredits:
        return
    except Exception:
        logger.exception(
            "Could not give back the hold of start %s, whose answer was lost; it expires on its own",
            generation_id,
        )
        return
    logger.warning("Gave back the hold of start %s, whose answer was lost", generation_id)


def _generation_insert(
    *,
    user_id,
    project_id,
    prompt,
    mode,
    estimate: Estimate,
    project: dict,
    max_credits: int | None,
    conversation_id=None,
    options: dict,
    apply: str,
) -> Generation:
    limit = settings.OASIS["MAX_RUNNING_PER_USER"]
    try:
        with transaction.atomic():
            _lock_user_slot(user_id)
            if Generation.objects.filter(user_id=user_id, status__in=ACTIVE).count() >= limit:
                raise TooManyGenerations(details={"limit": limit})
            conversation = conversations.conversation_for_run(
                user_id=user_id, project_id=project_id, conversation_id=conversation_id, prompt=prompt
            )
            return Generation.objects.create(
                user_id=user_id,
                project_id=project_id,
                conversation=conversation,
                model=estimate.model,
                mode=mode,
                prompt=prompt,
                ceiling=estimate.ceiling,
                max_credits=max_credits,
                options=options,
                apply=apply,
                base_revision=project.get("current_revision"),
            )
    except IntegrityError as exc:
        # The one active build per project, decided by the database's unique constraint; the whole
        # transaction is undone, the conversation's touch with it.
        raise BuildInProgress() from exc


def _lock_user_slot(user_id) -> None:
    """Lock the caller's row, which serialises their starts: one query once the row exists."""
    if UserSlot.objects.select_for_update().filter(user_id=user_id).exists():
        return
    UserSlot.objects.get_or_create(user_id=user_id)
    UserSlot.objects.select_for_update().get(user_id=user_id)


def generation_get(*, user_id, generation_id) -> Generation:
    generation = Generation.objects.select_related("model").filter(pk=generation_id, user_id=user_id).first()
    if generation is None:
        raise NotFound("No such generation.")
    return generation


def generations_for_project(*, user_id, project: dict):
    """The generations on the caller's `project`, whose ownership projects confirmed when it was loaded."""
    return Generation.objects.select_related("model").filter(user_id=user_id, project_id=project["id"])


def messages_for_project(*, user_id, project: dict):
    return Message.objects.filter(user_id=user_id, project_id=project["id"]).order_by("created_at")


def generation_cancel(*, user_id, generation_id) -> Generation:
    """A queued run ends at once; a running one stops at its next step and pays only for what it used."""
    with transaction.atomic():
        generation = Generation.objects.select_for_update().filter(pk=generation_id, user_id=user_id).first()
        if generation is None:
            raise NotFound("No such generation.")
        if generation.is_terminal:
            return generation
        if generation.status == Status.RUNNING:
            generation.cancel_requested = True
            generation.save(update_fields=["cancel_requested"])
            return generation
        generation.status = Status.CANCELLED
        generation.cancel_requested = True
        generation.finished_at = timezone.now()
        generation.error_code = "cancelled"
        generation.save(update_fields=["status", "cancel_requested", "finished_at", "error_code"])
        events.event_append(generation_id=generation.id, type="cancelled", data={"cost": 0})
    generation_settle(generation=generation)
    return generation
