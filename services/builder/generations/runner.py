"""Running a generation: the agent loop, in a worker process, off the request path.

The model edits the run's own copy of the project with tools, one streamed turn after
another (`model_stream`), within the run's limits (`budget`), while the run's heartbeat
(`heartbeat`) keeps it alive and listens for a cancel; every step becomes an event; at the
end a build lands as one revision through projects, idempotent by generation id, and the
run ends through `finishing`. Money: success and a user's cancel pay for the tokens used
(rounded up, never above the ceiling held); a failure that is not the user's pays nothing.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from concurrent.futures import Future
from concurrent.futures import TimeoutError as FutureTimeout

from django.conf import settings
from django.db import DatabaseError
from django.utils import timezone

from catalog import registry
from generations import context, events, model_stream, peers, proposals, tools
from generations.budget import Budget
from generations.connections import release_connection
from generations.finishing import Outcome, RunStopped, failed, generation_finish, incomplete
from generations.heartbeat import Heartbeat
from generations.models import Apply, Generation, Mode, Status
from oasis_common.errors import PeerUnavailable

logger = logging.getLogger("oasis.runner")

# A run's failure code when projects could not be reached for its files or its landing.
PROJECTS_UNAVAILABLE = "projects_unavailable"

SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024
TEXT_FLUSH_CHARS = 2000
RETRY_BACKOFF_SECONDS = 0.5
# How a whole turn ends: its answer, or the tool calls it asks for.
WHOLE = frozenset({"stop", "tool_calls", "function_call"})
NUDGE = (
    "You answered without changing any file, but this is a build: the user expects their site to change. "
    "If the request asks for a change, make it now with the tools (write_file, edit_file, ...). If no "
    "change is needed, say why in one sentence."
)
NO_CHANGES = "No file was changed."


class RunTaken(Exception):
    """The run is no longer this worker's: a sweep that believed it lost queued it again, or ended it."""


class Run:
    """One generation being run: its working copy, its budget, its heartbeat and its events."""

    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.oasis = settings.OASIS
        self.model = generation.model
        self.budget = Budget.for_run(model=self.model, ceiling=generation.ceiling, limits=self.oasis)
        self.heartbeat = Heartbeat(generation.id, self.oasis["HEARTBEAT_SECONDS"], attempt=generation.attempt)
        self.events = events.RunEvents(generation.id, store_seconds=self.oasis["EVENT_STORE_SECONDS"])
        self.copy: tools.WorkingCopy | None = None
        # Set when the run is over: what it still waits for on other threads stops asking.
        self.ended = threading.Event()
        # The project's sites as projects last said: from the snapshot, then from the landing.
        self.publication: dict | None = None
        self._text_buffer: list[str] = []
        self._last_flush = time.monotonic()
        self._streaming = False
        self._model_requests = 0
        # What the model asked the user (its ask_user tool), which ends the run waiting for the answer.
        self.question: str | None = None
        endpoint = registry.endpoint_for(self.model)
        self.client = model_stream.model_client(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=self.oasis["MODEL_TIMEOUT_SECONDS"],
            max_retries=self.oasis["MODEL_MAX_RETRIES"],
        )

    # ---- events, and the model stream's listener ----

    def emit(self, type: str, **data) -> None:
        # What the model streams may wait to be stored; the run's other events are stored at once.
        self._stored(self.events.append(type, data, may_wait=self._streaming))

    def _stored(self, stored: bool) -> None:
        # While the answer streams the run holds no connection between its writes.
        if stored and self._streaming:
            release_connection()

    def on_text(self, delta: str) -> None:
        self._text_buffer.append(delta)
        if (
            time.monotonic() - self._last_flush >= self.oasis["DELTA_FLUSH_SECONDS"]
            or sum(map(len, self._text_buffer)) >= TEXT_FLUSH_CHARS
        ):
            self._flush()

    def on_tool_call(self, call: dict, visible: dict) -> None:
        self._flush()  # text the model wrote before the call comes first
        self.emit("tool_call", id=call["id"], name=call["name"], arguments=visible)

    def on_chunk(self) -> None:
        if time.monotonic() - self._last_flush >= self.oasis["DELTA_FLUSH_SECONDS"]:
            self._flush()
        self._stored(self.events.store_if_due())

    def on_turn_end(self) -> None:
        self._flush()

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        if self._text_buffer:
            text, self._text_buffer = "".join(self._text_buffer), []
            self.emit("text", delta=text)
        self._check_limits()

    def _check_limits(self) -> None:
        self._check_still_ours()
        if self.heartbeat.cancel_requested.is_set():
            raise RunStopped(Status.CANCELLED, "cancelled", "Cancelled at your request.", charge=True)
        self.budget.check_clock()

    def _check_still_ours(self) -> None:
        if self.heartbeat.taken.is_set():
            raise RunTaken()

    # ---- the loop ----

    def execute(self) -> None:
        self.heartbeat.start()
        try:
            self._finish(self._outcome())
        except RunTaken:
            # Whoever has the run now ends it; this attempt lands, stores and charges nothing more.
            logger.warning(
                "Generation %s was taken from this worker (queued again or ended); stopping",
                self.generation.id,
            )
        finally:
            self.ended.set()
            self.heartbeat.stop()

    def _outcome(self) -> Outcome:
        """Run the work to its end and say how it ended."""
        try:
            # The project's files are asked for while the run says it runs and reads its history.
            snapshot = peers.concurrently(self._snapshot)
            self.emit("status", status=Status.RUNNING)
            answer = self._loop(self._start(snapshot))
            self._check_still_ours()  # before anything lands
            self.events.store()  # the last turn's events wait for nothing that follows (the landing)
            if self.question is not None:
                # Paid for, and what it changed before asking is kept: the answer continues from there.
                revision = self._land(self.question) if self._applies_now() else None
                return self._spent(Status.NEEDS_INPUT, charge=True, summary=self.question, revision=revision)
            if self.generation.apply == Apply.REVIEW and self.copy.has_changes():
                # Held for the owner's review: the work is done (and paid for), nothing is applied yet.
                proposals.proposal_hold(generation=self.generation, copy=self.copy)
                return self._spent(Status.PROPOSED, charge=True, summary=answer or "Proposed.")
            if self.generation.mode == Mode.BUILD and not self.copy.has_changes():
                # Paid for like any answer: the model worked, and its answer is what the user gets.
                return self._spent(Status.NO_CHANGES, charge=True, summary=answer or NO_CHANGES)
            summary = answer or "Done."
            return self._spent(Status.DONE, charge=True, summary=summary, revision=self._land(summary))
        except RunTaken:
            raise
        except RunStopped as stop:
            return self._spent(
                stop.status, charge=stop.charge, code=stop.code, message=stop.message, details=stop.details
            )
        except peers.ChangeConflict as conflict:
            return self._spent(
                Status.CONFLICT,
                charge=False,
                code="conflict",
                message="The project changed while this ran, so nothing was applied. Run it again.",
                details={"paths": conflict.paths},
            )
        except Exception:
            logger.exception("Generation %s failed", self.generation.id)
            return self._spent(
                Status.FAILED,
                charge=False,
                code="internal_error",
                message="Something went wrong on our side.",
            )

    def _start(self, asked_snapshot: Future) -> list[dict]:
        """The run's working copy of the project (its snapshot, once projects answers), and what the
        model is told first."""
        generation = self.generation
        history = context.history_of(
            user_id=generation.user_id, project_id=generation.project_id, before=generation
        )
        try:
            snapshot = self._awaited(asked_snapshot)
        except PeerUnavailable as unavailable:
            raise failed(
                PROJECTS_UNAVAILABLE,
                "Your project's files could not be read because a service was unavailable. "
                "Nothing was charged.",
            ) from unavailable
        self.copy = tools.WorkingCopy.from_snapshot(snapshot)
        self.publication = snapshot.get("publication")
        return context.initial_messages(
            mode=generation.mode,
            prompt=generation.prompt,
            copy=self.copy,
            history=history,
            budget_tokens=self.oasis["CONTEXT_BUDGET_TOKENS"],
            history_tokens=self.oasis["HISTORY_BUDGET_TOKENS"],
        )

    def _snapshot(self) -> dict:
        """The project's files, asked for again while projects is unavailable (a restart, a crowd)."""
        generation = self.generation
        return peers.while_unavailable(
            lambda: peers.project_snapshot(
                project_id=generation.project_id,
                owner_id=generation.user_id,
                revision=generation.base_revision,
                max_bytes=SNAPSHOT_MAX_BYTES,
            ),
            seconds=self.oasis["LAND_RETRY_SECONDS"],
            until=self.ended,
        )

    def _awaited(self, future: Future):
        """The future's result; a cancel, the clock or a sweep's taking of the run stops the wait."""
        while True:
            try:
                return future.result(timeout=self.heartbeat.interval)
            except FutureTimeout:
                self._check_limits()

    def _loop(self, messages: list[dict]) -> str:
        """Turns until the model answers without a tool call; its answer."""
        schemas = tools.tool_schemas(mode=self.generation.mode)
        nudged = False
        for _ in range(self.budget.max_turns):
            self._check_limits()
            turn = self._call_model(messages, schemas)
            _check_whole(turn)
            if not turn.tool_calls and (nudged or not self._ignored_tools()):
                return turn.text.strip()
            messages.append(_assistant_message(turn))
            if not turn.tool_calls:
                # A build answered in words alone: once, the model is reminded what its tools are for.
                nudged = True
                messages.append({"role": "system", "content": NUDGE})
            for call in turn.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": self._run_tool(call)})
            if self.question is not None:
                return self.question
        raise self.budget.turn_limit_reached()

    def _ignored_tools(self) -> bool:
        return self.generation.mode == Mode.BUILD and self.budget.tool_calls == 0

    def _run_tool(self, call: dict) -> str:
        self.budget.count_tool_call()
        if not call.get("announced"):
            self.on_tool_call(call, model_stream.visible_arguments(call["arguments"]))
        outcome = tools.tool_run(
            self.copy, name=call["name"], raw_arguments=call["arguments"], mode=self.generation.mode
        )
        ok = not outcome.result.startswith("error:")
        self.emit(
            "tool_result",
            id=call["id"],
            name=call["name"],
            ok=ok,
            message=outcome.result[:300] if not ok else "",
        )
        if outcome.changed:
            self.emit("file_changed", **outcome.changed)
        if outcome.plan is not None:
            self.emit("plan", steps=outcome.plan)
        if outcome.question is not None:
            self.question = outcome.question
        return outcome.result

    def _call_model(self, messages: list[dict], schemas: list[dict]) -> model_stream.Turn:
        """One turn, asked again from the start when its answer breaks off (a few times at most)."""
        input_estimate = context.messages_tokens(messages) + registry.tokens_for_text(json.dumps(schemas))
        max_tokens = self.budget.turn_max_tokens(input_estimate)
        attempts = self.oasis["STREAM_RETRIES"] + 1
        for attempt in range(attempts):
            try:
                turn = self._stream(messages, schemas, max_tokens, input_estimate)
            except model_stream.StreamBroken:
                if attempt + 1 == attempts:
                    raise failed(
                        "model_unavailable", "The model's answer was cut off repeatedly. Try again later."
                    ) from None
                self._text_buffer.clear()
                self.emit("status", status=Status.RUNNING, retrying=True)
                time.sleep(RETRY_BACKOFF_SECONDS * (attempt + 1))
                continue
            self.emit(
                "usage",
                input_tokens=self.budget.input_tokens,
                output_tokens=self.budget.output_tokens,
                cost=self.budget.cost(),
            )
            self.budget.check_ceiling()
            return turn
        raise AssertionError("unreachable")

    def _stream(self, messages, schemas, max_tokens: int, input_estimate: int) -> model_stream.Turn:
        # Nothing waits to be stored while the model is asked, and the run holds no database
        # connection while the answer streams (each store takes one briefly).
        self.events.store()
        release_connection()
        self._streaming = True
        self._model_requests += 1
        try:
            stream = model_stream.open_stream(
                self.client,
                model=self.model,
                messages=messages,
                schemas=schemas,
                max_tokens=max_tokens,
                run_id=self.generation.id,
                request_id=f"{self.generation.id}/{self._model_requests}",
                options=self.generation.options,
            )
            return model_stream.stream_turn(
                stream, listener=self, budget=self.budget, input_estimate=input_estimate
            )
        finally:
            self._streaming = False

    # ---- the end ----

    def _applies_now(self) -> bool:
        """Whether the run's changes land now; a reviewed run's are held as a proposal instead."""
        if not self.copy.has_changes():
            return False
        if self.generation.apply == Apply.REVIEW:
            proposals.proposal_hold(generation=self.generation, copy=self.copy)
            return False
        return True

    def _land(self, summary: str) -> int | None:
        generation = self.generation
        if generation.mode != "build" or not self.copy.has_changes():
            return None
        try:
            result = peers.while_unavailable(
                lambda: peers.project_apply_changes(
                    project_id=generation.project_id,
                    owner_id=generation.user_id,
                    generation_id=generation.id,
                    base_revision=self.copy.base_revision,
                    message=summary[:500],
                    changes=self.copy.changes(),
                ),
                seconds=self.oasis["LAND_RETRY_SECONDS"],
            )
        except PeerUnavailable as unavailable:
            # Asked again for as long as a restart takes, under one idempotency key: had a commit
            # landed, the answer would have said so. Only a longer outage ends the run here.
            raise failed(
                PROJECTS_UNAVAILABLE,
                "Your project could not be saved because a service was unavailable. Nothing was charged.",
            ) from unavailable
        except peers.ChangeRefused as refused:
            raise failed(
                refused.error.get("code", "change_refused"),
                f"The project refused the changes: {refused.error.get('message', '')}".strip(),
            ) from refused
        self.publication = result.get("publication", self.publication)
        return int(result["number"])

    def _spent(self, status: str, *, charge: bool, **ending) -> Outcome:
        """The outcome `status`, with what the run used and, when `charge`, what it costs."""
        return Outcome(
            status=status,
            cost=self.budget.cost() if charge else 0,
            input_tokens=self.budget.input_tokens,
            output_tokens=self.budget.output_tokens,
            publication=self.publication,
            **ending,
        )

    def _finish(self, outcome: Outcome) -> None:
        self._text_buffer.clear()
        # Its events are stored, and numbered without a gap, before the terminal event follows them.
        try:
            self.events.close()
        except DatabaseError:
            # The terminal event is still numbered after every event published.
            logger.exception("The last events of generation %s could not be stored", self.generation.id)
        # Only a run still marked running may finish: the sweeper may have ended it already.
        ended = generation_finish(
            generation=self.generation, outcome=outcome, settle_seconds=self.oasis["SETTLE_RETRY_SECONDS"]
        )
        if not ended:
            logger.warning("Generation %s was already finished elsewhere; leaving it", self.generation.id)


def _check_whole(turn: model_stream.Turn) -> None:
    """A turn that stopped before its answer was whole ends the run `incomplete`, never as an answer."""
    reason = turn.finish_reason
    if reason in WHOLE or (reason == "length" and turn.tool_calls):
        # Cut among tool calls: the calls that parse run; a cut one goes back to the model as an error.
        return
    if reason == "length":
        code, message = (
            "output_limit",
            "The model's answer was cut off by its output limit before it was complete.",
        )
    elif reason == "content_filter":
        code, message = "content_filtered", "The model's provider stopped the answer with its content filter."
    else:
        logger.warning("A turn ended for a reason the builder does not know: %r", reason)
        code, message = "unexpected_finish", f"The model stopped for a reason we do not know ({reason})."
    raise incomplete(code, f"{message} Nothing was applied.", partial_text=turn.text)


def _assistant_message(turn: model_stream.Turn) -> dict:
    """The model's turn as the chat message the next request repeats."""
    message = {"role": "assistant", "content": turn.text or None}
    if not turn.tool_calls:
        return message
    return {
        **message,
        "tool_calls": [
            {
                "id": call["id"],
                "type": "function",
                "function": {"name": call["name"], "arguments": call["arguments"]},
            }
            for call in turn.tool_calls
        ],
    }


def generation_run(*, generation_id) -> None:
    """Claim a queued generation and run it; a generation already claimed or cancelled is left alone."""
    now = timezone.now()
    claimed = Generation.objects.filter(pk=generation_id, status=Status.QUEUED).update(
        status=Status.RUNNING, started_at=now, heartbeat_at=now
    )
    if not claimed:
        logger.info("Generation %s is no longer queued; not running it", generation_id)
        return
    generation = Generation.objects.select_related("model").get(pk=generation_id)
    Run(generation).execute()
