"""How a generation ends, whoever ends it: status set once, last message, terminal event, the money.

The runner ends the runs it carries; the sweeper ends the ones a lost worker left behind.
Both go through `generation_finish`, which writes only if the run is still where the caller
saw it, so two enders can never both finish one run.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import timezone

from generations import events
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


def generation_finish(*, generation: Generation, outcome: Outcome, unless_beating: bool = False) -> bool:
    """End `generation` with `outcome`, if it is still in the state it was read in.

    `unless_beating` also requires its heartbeat not to have moved since (the sweeper ending a
    run it believes lost). Returns False, changing nothing, when the run moved on meanwhile.
    """
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
    unchanged = Generation.objects.filter(pk=generation.pk, status=generation.status)
    if unless_beating:
        unchanged = unchanged.filter(heartbeat_at=generation.heartbeat_at)
    if not unchanged.update(**fields):
        return False
    for name, value in fields.items():
        setattr(generation, name, value)
    Message.objects.create(
        project_id=generation.project_id,
        user_id=generation.user_id,
        generation=generation,
        role=Role.ASSISTANT,
        content=outcome.summary or outcome.message,
    )
    events.event_append(generation_id=generation.id, type=outcome.status, data=_terminal_event(outcome))
    generation_settle(generation=generation)
    return True


def _terminal_event(outcome: Outcome) -> dict:
    data = {
        "status": outcome.status,
        "cost": outcome.cost,
        "revision": outcome.revision,
        "summary": outcome.summary,
    }
    if outcome.status == Status.DONE:
        data.update(publication_summary(publication=outcome.publication, revision=outcome.revision))
    if outcome.code:
        data["error"] = {"code": outcome.code, "message": outcome.message, "details": outcome.details}
    return data
