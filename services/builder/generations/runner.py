"""Running a generation: the agent loop, in a worker process, off the request path.

The model (any OpenAI-compatible endpoint, through the `openai` SDK, streaming) edits
the run's own copy of the project with tools; every step becomes an event; at the end
a build lands as one revision through projects, idempotent by generation id. Money:
success and a user's cancel pay for the tokens used (rounded up, never above the
ceiling held); a failure that is not the user's pays nothing.
"""

from __future__ import annotations

import json
import logging
import re
import threading
import time
from dataclasses import dataclass, field
from functools import lru_cache

import openai
from django.conf import settings
from django.db import connection
from django.utils import timezone

from catalog import catalog
from catalog.models import LanguageModel
from generations import context, events, peers, tools
from generations.connections import release_connection
from generations.models import Generation, Message, Role, Status
from generations.publication import publication_summary
from generations.settlement import generation_settle

logger = logging.getLogger("oasis.runner")

MIN_OUTPUT_TOKENS = 64
SNAPSHOT_MAX_BYTES = 2 * 1024 * 1024
TEXT_FLUSH_CHARS = 2000
RETRY_BACKOFF_SECONDS = 0.5
# The arguments a `tool_call` event shows. A call is announced while it streams, as soon as
# these have arrived, so a client sees the model start each file instead of waiting for its turn.
VISIBLE_ARGUMENTS = ("path", "from_path", "to_path")
ANNOUNCE_SCAN_CHARS = 4096
_STREAMED_ARGUMENT = re.compile(r'[{,]\s*"(path|from_path|to_path)"\s*:\s*"((?:[^"\\]|\\.)*)"')


class RunStopped(Exception):
    """The run ends here with `status`; `charge` says whether the tokens used are paid for."""

    def __init__(self, status: str, code: str, message: str, *, charge: bool) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.charge = charge


def _failed(code: str, message: str) -> RunStopped:
    return RunStopped(Status.FAILED, code, message, charge=False)


def _exhausted(code: str, message: str) -> RunStopped:
    return RunStopped(Status.BUDGET_EXHAUSTED, code, message, charge=True)


@dataclass
class Budget:
    """Tokens used so far against the credit ceiling (kept in millionths of a credit, exactly)."""

    model: LanguageModel
    ceiling: int
    input_tokens: int = 0
    output_tokens: int = 0

    def spent_micro(self) -> int:
        return self.input_tokens * self.model.input_price + self.output_tokens * self.model.output_price

    def cost(self) -> int:
        """What the run costs so far: rounded up to a credit, never above the ceiling held."""
        exact = catalog.cost_credits(
            model=self.model, input_tokens=self.input_tokens, output_tokens=self.output_tokens
        )
        return min(exact, self.ceiling)

    def affordable_output(self, next_input_tokens: int) -> int:
        remaining = self.ceiling * 1_000_000 - self.spent_micro() - next_input_tokens * self.model.input_price
        if remaining <= 0:
            return 0
        return remaining // self.model.output_price if self.model.output_price else 1 << 30

    def add(self, *, input_tokens: int, output_tokens: int) -> None:
        self.input_tokens += input_tokens
        self.output_tokens += output_tokens


@dataclass
class Turn:
    text: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str | None = None
    input_tokens: int = 0
    output_tokens: int = 0


class _StreamBroken(Exception):
    pass


def _is_transport_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return isinstance(exc, OSError) or module.split(".")[0] in {"httpx", "httpx2", "httpcore", "h11"}


class Heartbeat:
    """Marks one run alive every few seconds and notices a cancel request.

    The beats of every run in a process are made together, by one thread with one database
    connection and two queries a beat, however many runs the process carries.
    """

    def __init__(self, generation_id, interval: float) -> None:
        self.generation_id = generation_id
        self.interval = interval
        self.cancel_requested = threading.Event()

    def start(self) -> None:
        _heartbeats.add(self)

    def stop(self) -> None:
        _heartbeats.discard(self)


class _Heartbeats:
    """The process's heartbeat thread, running while any run is registered."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.beating: set[Heartbeat] = set()
        self.thread: threading.Thread | None = None

    def add(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.beating.add(heartbeat)
            if self.thread is None:
                self.thread = threading.Thread(target=self._beat, daemon=True, name="heartbeats")
                self.thread.start()

    def discard(self, heartbeat: Heartbeat) -> None:
        with self.lock:
            self.beating.discard(heartbeat)

    def _beat(self) -> None:
        try:
            while True:
                with self.lock:
                    if not self.beating:
                        self.thread = None
                        return
                    interval = min(heartbeat.interval for heartbeat in self.beating)
                time.sleep(interval)
                with self.lock:
                    beating = {heartbeat.generation_id: heartbeat for heartbeat in self.beating}
                if not beating:
                    continue
                try:
                    Generation.objects.filter(pk__in=beating, status=Status.RUNNING).update(
                        heartbeat_at=timezone.now()
                    )
                    cancelled = Generation.objects.filter(pk__in=beating, cancel_requested=True)
                    for generation_id in cancelled.values_list("pk", flat=True):
                        beating[generation_id].cancel_requested.set()
                except Exception:
                    logger.exception("A heartbeat of %d runs failed; the next one tries again", len(beating))
                    connection.close()
        finally:
            connection.close()


_heartbeats = _Heartbeats()


@lru_cache(maxsize=32)
def model_client(*, base_url: str | None, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    """One client per endpoint, shared by the runs of a process (thread-safe, one connection pool).

    Building one costs some 30 ms of CPU, which a worker starting many runs at once cannot spare.
    """
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)


class Run:
    def __init__(self, generation: Generation) -> None:
        self.generation = generation
        self.oasis = settings.OASIS
        self.model = generation.model
        self.budget = Budget(model=self.model, ceiling=generation.ceiling)
        self.started = time.monotonic()
        self.tool_calls = 0
        self.heartbeat = Heartbeat(generation.id, self.oasis["HEARTBEAT_SECONDS"])
        self.copy: tools.WorkingCopy | None = None
        # The project's sites as projects last said: from the snapshot, then from the landing.
        self.publication: dict | None = None
        self._text_buffer: list[str] = []
        self._last_flush = time.monotonic()
        self._streaming = False
        endpoint = catalog.endpoint_for(self.model)
        self.client = model_client(
            base_url=endpoint.base_url,
            api_key=endpoint.api_key,
            timeout=self.oasis["MODEL_TIMEOUT_SECONDS"],
            max_retries=self.oasis["MODEL_MAX_RETRIES"],
        )

    # ---- events ----

    def emit(self, type: str, **data) -> None:
        events.event_append(generation_id=self.generation.id, type=type, data=data)
        if self._streaming:
            release_connection()

    def _text(self, delta: str) -> None:
        self._text_buffer.append(delta)
        if (
            time.monotonic() - self._last_flush >= self.oasis["DELTA_FLUSH_SECONDS"]
            or sum(map(len, self._text_buffer)) >= TEXT_FLUSH_CHARS
        ):
            self._flush()

    def _flush(self) -> None:
        self._last_flush = time.monotonic()
        if self._text_buffer:
            text, self._text_buffer = "".join(self._text_buffer), []
            self.emit("text", delta=text)
        self._check_limits()

    def _check_limits(self) -> None:
        if self.heartbeat.cancel_requested.is_set():
            raise RunStopped(Status.CANCELLED, "cancelled", "Cancelled at your request.", charge=True)
        if time.monotonic() - self.started > self.oasis["MAX_WALL_SECONDS"]:
            raise _failed("timeout", "The generation took too long and was stopped.")

    # ---- the loop ----

    def execute(self) -> None:
        generation = self.generation
        self.heartbeat.start()
        try:
            self.emit("status", status=Status.RUNNING)
            snapshot = peers.project_snapshot(
                project_id=generation.project_id,
                owner_id=generation.user_id,
                revision=generation.base_revision,
                max_bytes=SNAPSHOT_MAX_BYTES,
            )
            self.copy = tools.WorkingCopy.from_snapshot(snapshot)
            self.publication = snapshot.get("publication")
            history = [
                (role, content)
                for role, content in Message.objects.filter(
                    user_id=generation.user_id, project_id=generation.project_id
                )
                .exclude(generation=generation)
                .order_by("created_at")
                .values_list("role", "content")
            ]
            messages = context.initial_messages(
                mode=generation.mode,
                prompt=generation.prompt,
                copy=self.copy,
                history=history,
                budget_tokens=self.oasis["CONTEXT_BUDGET_TOKENS"],
                history_tokens=self.oasis["HISTORY_BUDGET_TOKENS"],
            )
            summary = self._loop(messages)
            revision = self._land(summary)
            self._finish(Status.DONE, charge=True, summary=summary, revision=revision)
        except RunStopped as stop:
            self._finish(stop.status, charge=stop.charge, code=stop.code, message=stop.message)
        except peers.ChangeConflict as conflict:
            self._finish(
                Status.CONFLICT,
                charge=False,
                code="conflict",
                message="The project changed while this ran, so nothing was applied. Run it again.",
                details={"paths": conflict.paths},
            )
        except Exception:
            logger.exception("Generation %s failed", generation.id)
            self._finish(
                Status.FAILED,
                charge=False,
                code="internal_error",
                message="Something went wrong on our side.",
            )
        finally:
            self.heartbeat.stop()

    def _loop(self, messages: list[dict]) -> str:
        schemas = tools.tool_schemas(mode=self.generation.mode)
        for _ in range(self.oasis["MAX_TURNS"]):
            self._check_limits()
            turn = self._call_model(messages, schemas)
            if not turn.tool_calls:
                return turn.text.strip() or "Done."
            messages.append(
                {
                    "role": "assistant",
                    "content": turn.text or None,
                    "tool_calls": [
                        {
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["name"], "arguments": call["arguments"]},
                        }
                        for call in turn.tool_calls
                    ],
                }
            )
            for call in turn.tool_calls:
                messages.append({"role": "tool", "tool_call_id": call["id"], "content": self._run_tool(call)})
        raise _exhausted(
            "turn_limit",
            f"The generation stopped after {self.oasis['MAX_TURNS']} steps; nothing was applied.",
        )

    def _run_tool(self, call: dict) -> str:
        self.tool_calls += 1
        if self.tool_calls > self.oasis["MAX_TOOL_CALLS"]:
            raise _exhausted(
                "tool_call_limit", "The generation used too many tool calls; nothing was applied."
            )
        if not call.get("announced"):
            self._announce(call, _visible_arguments(call["arguments"]))
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
        return outcome.result

    def _call_model(self, messages: list[dict], schemas: list[dict]) -> Turn:
        input_estimate = context.messages_tokens(messages) + catalog.tokens_for_text(json.dumps(schemas))
        output_cap = self.oasis["MAX_OUTPUT_TOKENS"] - self.budget.output_tokens
        max_tokens = min(
            self.model.max_output_tokens, output_cap, self.budget.affordable_output(input_estimate)
        )
        if max_tokens < MIN_OUTPUT_TOKENS:
            raise _exhausted(
                "budget_exhausted",
                "The credit ceiling was reached before the work was done; nothing was applied.",
            )
        attempts = self.oasis["STREAM_RETRIES"] + 1
        for attempt in range(attempts):
            try:
                turn = self._stream_once(messages, schemas, max_tokens, input_estimate)
            except _StreamBroken:
                if attempt + 1 == attempts:
                    raise _failed(
                        "model_unavailable", "The model's answer was cut off repeatedly. Try again later."
                    ) from None
                self._text_buffer.clear()
                self.emit("status", status=Status.RUNNING, retrying=True)
                time.sleep(RETRY_BACKOFF_SECONDS * (attempt + 1))
                continue
            self.budget.add(input_tokens=turn.input_tokens, output_tokens=turn.output_tokens)
            self.emit(
                "usage",
                input_tokens=self.budget.input_tokens,
                output_tokens=self.budget.output_tokens,
                cost=self.budget.cost(),
            )
            if self.budget.spent_micro() > self.budget.ceiling * 1_000_000:
                raise _exhausted("budget_exhausted", "The credit ceiling was reached; nothing was applied.")
            return turn
        raise AssertionError("unreachable")

    def _stream_once(self, messages, schemas, max_tokens: int, input_estimate: int) -> Turn:
        # While the answer streams the run holds no database connection (each event takes one briefly).
        release_connection()
        self._streaming = True
        try:
            return self._stream_turn(messages, schemas, max_tokens, input_estimate)
        finally:
            self._streaming = False

    def _stream_turn(self, messages, schemas, max_tokens: int, input_estimate: int) -> Turn:
        try:
            # The SDK itself retries a refused or failed request (429, 5xx, timeouts) with backoff.
            stream = self.client.chat.completions.create(
                model=self.model.upstream_model,
                messages=messages,
                tools=schemas,
                stream=True,
                stream_options={"include_usage": True},
                max_tokens=max_tokens,
            )
        except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
            raise _failed(
                "model_unavailable", "The model is unavailable right now. Try again later."
            ) from exc
        except openai.APIStatusError as exc:
            if exc.status_code >= 500:
                raise _failed(
                    "model_unavailable", "The model is unavailable right now. Try again later."
                ) from exc
            logger.warning("The model refused a request of %s: %s", self.generation.id, exc.status_code)
            raise _failed("model_error", "The model could not handle this request.") from exc
        turn = Turn()
        calls: dict[int, dict] = {}
        usage = None
        try:
            with stream:
                for chunk in stream:
                    if chunk.usage is not None:
                        usage = chunk.usage
                    for choice in chunk.choices:
                        self._take(choice, turn, calls)
                    if time.monotonic() - self._last_flush >= self.oasis["DELTA_FLUSH_SECONDS"]:
                        self._flush()
        except RunStopped:
            # Stopped mid-answer (a cancel, the wall clock): what streamed so far was used all the same.
            self.budget.add(
                input_tokens=input_estimate,
                output_tokens=catalog.tokens_for_text(
                    turn.text + "".join(c["arguments"] for c in calls.values())
                ),
            )
            raise
        except (openai.APIConnectionError, openai.APIError) as exc:
            # The answer broke off mid-way: the turn is retried from the start.
            raise _StreamBroken() from exc
        except Exception as exc:
            if _is_transport_error(exc):
                raise _StreamBroken() from exc
            raise
        if turn.finish_reason is None:
            raise _StreamBroken()
        self._flush()
        for index in sorted(calls):
            call = calls[index]
            turn.tool_calls.append({**call, "id": call["id"] or f"call_{index}"})
        if usage is not None:
            turn.input_tokens, turn.output_tokens = usage.prompt_tokens, usage.completion_tokens
        else:
            turn.input_tokens = input_estimate
            turn.output_tokens = catalog.tokens_for_text(
                turn.text + "".join(c["arguments"] for c in calls.values())
            )
        return turn

    def _take(self, choice, turn: Turn, calls: dict[int, dict]) -> None:
        """Fold one streamed choice delta into the turn: text, tool-call pieces, the finish reason."""
        delta = choice.delta
        if delta is not None and delta.content:
            turn.text += delta.content
            self._text(delta.content)
        for piece in (delta.tool_calls or []) if delta is not None else []:
            call = calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
            if piece.id:
                call["id"] = piece.id
            if piece.function is not None:
                call["name"] += piece.function.name or ""
                call["arguments"] += piece.function.arguments or ""
            if not call.get("announced"):
                visible = _streamed_arguments(call["name"], call["arguments"])
                if visible is not None:
                    self._announce({**call, "id": call["id"] or f"call_{piece.index}"}, visible)
                    call["announced"] = True
        if choice.finish_reason:
            turn.finish_reason = choice.finish_reason

    def _announce(self, call: dict, visible: dict) -> None:
        self._flush()  # text the model wrote before the call comes first
        self.emit("tool_call", id=call["id"], name=call["name"], arguments=visible)

    # ---- the end ----

    def _land(self, summary: str) -> int | None:
        generation = self.generation
        if generation.mode != "build" or not self.copy.has_changes():
            return None
        try:
            result = peers.project_apply_changes(
                project_id=generation.project_id,
                owner_id=generation.user_id,
                generation_id=generation.id,
                base_revision=self.copy.base_revision,
                message=summary[:500],
                changes=self.copy.changes(),
            )
        except peers.ChangeRefused as refused:
            raise _failed(
                refused.error.get("code", "change_refused"),
                f"The project refused the changes: {refused.error.get('message', '')}".strip(),
            ) from refused
        self.publication = result.get("publication", self.publication)
        return int(result["number"])

    def _finish(
        self,
        status: str,
        *,
        charge: bool,
        summary: str = "",
        revision: int | None = None,
        code: str = "",
        message: str = "",
        details: dict | None = None,
    ) -> None:
        self._text_buffer.clear()
        generation = self.generation
        fields = {
            "status": status,
            "cost": self.budget.cost() if charge else 0,
            "input_tokens": self.budget.input_tokens,
            "output_tokens": self.budget.output_tokens,
            "summary": summary,
            "revision": revision,
            "error_code": code,
            "error_message": message,
            "finished_at": timezone.now(),
        }
        # Only a run still marked running may finish: the sweeper may have ended it already.
        if not Generation.objects.filter(pk=generation.pk, status=Status.RUNNING).update(**fields):
            logger.warning("Generation %s was already finished elsewhere; leaving it", generation.id)
            return
        for name, value in fields.items():
            setattr(generation, name, value)
        Message.objects.create(
            project_id=generation.project_id,
            user_id=generation.user_id,
            generation=generation,
            role=Role.ASSISTANT,
            content=summary or message,
        )
        data = {"status": status, "cost": generation.cost, "revision": revision, "summary": summary}
        if status == Status.DONE:
            data.update(publication_summary(publication=self.publication, revision=revision))
        if code:
            data["error"] = {"code": code, "message": message, "details": details or {}}
        self.emit(status, **data)
        generation_settle(generation=generation)


def _visible_arguments(raw_arguments: str) -> dict:
    try:
        arguments = json.loads(raw_arguments or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(arguments, dict):
        return {}
    return {key: value for key, value in arguments.items() if key in VISIBLE_ARGUMENTS}


def _streamed_arguments(name: str, partial_arguments: str) -> dict | None:
    """A known tool's visible arguments once they have streamed in; None while they are still coming."""
    if name not in tools.TOOLS or len(partial_arguments) > ANNOUNCE_SCAN_CHARS:
        # A name still streaming, one the tool run will refuse, or paths after a long content:
        # announced when the turn ends.
        return None
    schema = tools.TOOLS[name][1]["function"]["parameters"]["properties"]
    wanted = [key for key in VISIBLE_ARGUMENTS if key in schema]
    found = {}
    for match in _STREAMED_ARGUMENT.finditer(partial_arguments):
        try:
            found.setdefault(match.group(1), json.loads(f'"{match.group(2)}"'))
        except json.JSONDecodeError:
            return None
    if not all(key in found for key in wanted):
        return None
    return {key: found[key] for key in wanted}


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
