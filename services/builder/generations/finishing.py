"""How a generation ends, whoever ends it: status set once, last message, terminal event, the money.

The runner ends the runs it carries; the sweeper ends the ones a lost worker left behind.
Both go through `generation_finish`, which writes only if the run is still where the caller
saw it, so two enders can never both finish one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from generations import events
from generations.connections import once_more_if_dropped
from generations.models import Generation, Message, Role, Status
from generations.publication import publication_summary
from generations.settlement import generation_settle


class RunStopped(Exception):
    """The run ends here with `status`; `charge` says whether the tokens used are paid for."""

    def __init__(self, status: str, code: str, message: str, *, charge: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.charge = charge
        self.details: dict = {}


def failed(code: str, message: str) -> RunStopped:
    """A failure that is not the user's: nothing is charged."""
    return RunStopped(Status.FAILED, code, message, charge=False)


def exhausted(code: str, message: str) -> RunStopped:
    """A limit reached: the work done so far is paid for, nothing is applied."""
    return RunStopped(Status.BUDGET_EXHAUSTED, code, message, charge=True)


def incomplete(code: str, message: str, *, partial_text: str) -> RunStopped:
    """The model's answer stopped before it was whole: paid for as a reached limit, nothing applied.

    What had arrived is kept in the terminal event's details, never shown as the answer.
    """
    stop = RunStopped(Status.INCOMPLETE, code, message, charge=True)
    stop.details = {"partial_text": partial_text}
    return stop


@dataclass(frozen=True)
class Outcome:
    """What a run ended with. `publication` is the project's sites as projects last told us."""

    status: str
    cost: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    summary: str = ""
    revision: int | None = None
    code: str = ""
    message: str = ""
    details: dict = field(default_factory=dict)
    publication: dict | None = None


def generation_finish(
    *, generation: Generation, outcome: Outcome, unless_beating: bool = False, settle_seconds: float = 0
) -> bool:
    """End `generation` with `outcome`, if it is still in the state it was read in, then settle it.

    `unless_beating` also requires its heartbeat not to have moved since (the sweeper ending a
    run it believes lost). Status, last message and terminal event are written together; a
    connection dropped meanwhile costs one more try, which finds the first one's commit if it
    landed. Returns False, changing nothing, when the run had moved on.
    """
    status = generation.status
    ended = once_more_if_dropped(_end_record, generation, outcome, unless_beating=unless_beating)
    if not ended:
        current = Generation.objects.get(pk=generation.pk)
        if current.status != outcome.status or current.status == status or current.settled:
            return False
        # The first try's commit landed and only its answer was lost: this run is ours to settle.
        generation.refresh_from_db()
    generation_settle(generation=generation, retry_seconds=settle_seconds)
    return True


def _end_record(generation: Generation, outcome: Outcome, *, unless_beating: bool) -> bool:
    fields = {
        "status": outcome.status,
        "cost": outcome.cost,
        "input_tokens": outcome.input_tokens,
        "output_tokens": outcome.output_tokens,
        "summary": outcome.summary,
        "revision": outcome.revision,
        "error_code": outcome.code,
        "error_message": outcome.message,
        "finished_at": timezone.now(),
    }
    with transaction.atomic():
        unchanged = Generation.objects.filter(
            pk=generation.pk, status=generation.status, attempt=generation.attempt
        )
        if unless_beating:
            unchanged = unchanged.filter(heartbeat_at=generation.heartbeat_at)
        if not unchanged.update(**fields):
            return False
        Message.objects.create(
            project_id=generation.project_id,
            user_id=generation.user_id,
            conversation_id=generation.conversation_id,
            generation=generation,
            role=Role.ASSISTANT,
            content=outcome.summary or outcome.message,
        )
        events.event_append(generation_id=generation.id, type=outcome.status, data=_terminal_event(outcome))
    for name, value in fields.items():
        setattr(generation, name, value)
    return True


def _terminal_event(outcome: Outcome) -> dict:
    data = {
        "status": outcome.status,
        "cost": outcome.cost,
        "revision": outcome.revision,
        "summary": outcome.summary,
    }
    if outcome.status == Status.DONE or outcome.revision is not None:
        data.update(publication_summary(publication=outcome.publication, revision=outcome.revision))
    if outcome.code:
        data["error"] = {"code": outcome.code, "message": outcome.message, "details": outcome.details}
    return data
