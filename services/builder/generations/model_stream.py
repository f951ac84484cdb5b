"""One turn of the model, streamed: open the request, fold the chunks into text and tool calls, count usage.

The model is any OpenAI-compatible endpoint, reached through the `openai` SDK. A turn tells
its listener what arrives as it arrives (text, each tool call as soon as its path is known)
and adds what it used to the run's budget: the usage the endpoint reports, or an estimate
when it reports none or the run stops mid-answer.
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import openai

from catalog import registry
from catalog.models import LanguageModel
from generations import tools
from generations.budget import Budget
from generations.finishing import RunStopped, failed

logger = logging.getLogger("oasis.runner")

# The arguments a `tool_call` event shows. A call is announced while it streams, as soon as
# these have arrived, so a client sees the model start each file instead of waiting for its turn.
VISIBLE_ARGUMENTS = ("path", "from_path", "to_path", "pattern")
ANNOUNCE_SCAN_CHARS = 4096
_STREAMED_ARGUMENT = re.compile(r'[{,]\s*"(path|from_path|to_path|pattern)"\s*:\s*"((?:[^"\\]|\\.)*)"')


@lru_cache(maxsize=32)
def model_client(*, base_url: str | None, api_key: str, timeout: float, max_retries: int) -> openai.OpenAI:
    """One client per endpoint, shared by the runs of a process (thread-safe, one connection pool).

    Building one costs some 30 ms of CPU, which a worker starting many runs at once cannot spare.
    """
    return openai.OpenAI(base_url=base_url, api_key=api_key, timeout=timeout, max_retries=max_retries)


@dataclass
class Turn:
    text: str = ""
    tool_calls: list[dict] = field(default_factory=list)
    finish_reason: str | None = None


class StreamBroken(Exception):
    """The answer broke off mid-way; the turn may be asked again from the start."""


class Listener(Protocol):
    """What a run does with a turn as it streams."""

    def on_text(self, delta: str) -> None: ...

    def on_tool_call(self, call: dict, visible: dict) -> None: ...

    def on_chunk(self) -> None: ...

    def on_turn_end(self) -> None: ...


class ToolCallAssembly:
    """Streamed tool-call pieces put back together, by index, in the order the model numbered them."""

    def __init__(self) -> None:
        self.calls: dict[int, dict] = {}

    def take(self, piece) -> dict | None:
        """Fold in one piece; return the call (with its visible arguments) the first time they are known."""
        call = self.calls.setdefault(piece.index, {"id": "", "name": "", "arguments": ""})
        if piece.id:
            call["id"] = piece.id
        if piece.function is not None:
            call["name"] += piece.function.name or ""
            call["arguments"] += piece.function.arguments or ""
        if call.get("announced"):
            return None
        visible = streamed_arguments(call["name"], call["arguments"])
        if visible is None:
            return None
        call["announced"] = True
        return {"id": call["id"] or f"call_{piece.index}", "name": call["name"], "arguments": visible}

    def arguments_text(self) -> str:
        return "".join(call["arguments"] for call in self.calls.values())

    def finished(self) -> list[dict]:
        """The complete calls, each with an id (the model's, or one made from its index)."""
        calls = sorted(self.calls.items())
        return [{**call, "id": call["id"] or f"call_{index}"} for index, call in calls]


def visible_arguments(raw_arguments: str) -> dict:
    """The arguments of a finished call that a `tool_call` event shows."""
    try:
        arguments = json.loads(raw_arguments or "{}")
    except json.JSONDecodeError:
        return {}
    if not isinstance(arguments, dict):
        return {}
    return {key: value for key, value in arguments.items() if key in VISIBLE_ARGUMENTS}


def streamed_arguments(name: str, partial_arguments: str) -> dict | None:
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


def is_transport_error(exc: BaseException) -> bool:
    module = type(exc).__module__ or ""
    return isinstance(exc, OSError) or module.split(".")[0] in {"httpx", "httpx2", "httpcore", "h11"}


MISCONFIGURED = "The model is not set up correctly at its provider, so this ran nothing and costs nothing."
UNAVAILABLE = "The model is unavailable right now. Try again later."


def open_stream(
    client: openai.OpenAI,
    *,
    model: LanguageModel,
    messages,
    schemas,
    max_tokens: int,
    run_id,
    request_id: str | None = None,
    options: dict | None = None,
):
    """Ask the model for one turn, streaming; a refusal or an unreachable model ends the run.

    `request_id` goes out as `X-Client-Request-Id`, which OpenAI keeps with the request: a slow
    or failed call can be traced to its run from either side.

    An endpoint that refuses the key, does not know the model or does not speak the protocol is
    misconfigured, which no retry mends: the run fails at no cost, and the catalog notes it.
    """
    try:
        # The SDK itself retries a refused or failed request (429, 5xx, timeouts) with backoff.
        response = client.chat.completions.with_streaming_response.create(
            model=model.upstream_model,
            messages=messages,
            tools=schemas,
            stream=True,
            stream_options={"include_usage": True},
            max_tokens=max_tokens,
            extra_headers={"X-Client-Request-Id": request_id} if request_id else None,
            # Only what the catalog says the model takes (checked when the run was accepted).
            **(options or {}),
        ).__enter__()  # the request is sent here; ChunkStream closes the response
    except (openai.APIConnectionError, openai.RateLimitError, openai.InternalServerError) as exc:
        raise failed("model_unavailable", UNAVAILABLE) from exc
    except (openai.AuthenticationError, openai.PermissionDeniedError, openai.NotFoundError) as exc:
        raise _misconfigured(model, f"{exc.status_code} {exc.code or ''}: {exc.message}") from exc
    except openai.APIStatusError as exc:
        if exc.status_code >= 500:
            raise failed("model_unavailable", UNAVAILABLE) from exc
        logger.warning("The model refused a request of %s: %s", run_id, exc.status_code)
        raise failed("model_error", "The model could not handle this request.") from exc
    content_type = response.headers.get("content-type", "")
    if not content_type.startswith("text/event-stream"):
        response.close()
        raise _misconfigured(model, f"answered {content_type or 'no content type'}, not an event stream")
    registry.model_problem_clear(model=model)
    return ChunkStream(response)


class Fields(dict):
    """A streamed JSON object read by attribute, as the SDK's models are read; an absent field is None."""

    __getattr__ = dict.get


class ChunkStream:
    """A streamed chat completion's chunks, decoded as plain JSON from the SDK's raw response.

    The SDK's own stream builds a pydantic model of every chunk: some 60 µs each, which at 50
    tokens a second is 3 ms of CPU per second of a run, most of what a worker spends. The SDK
    still sends the request, retries it and raises its errors; this reads the Server-Sent Events
    as the SDK's decoder does: `data:` lines up to a blank line make one event, `[DONE]` ends the
    stream, an event carrying an `error` raises `openai.APIError`. Transport errors pass through.
    """

    def __init__(self, response) -> None:
        self.response = response

    def __enter__(self) -> ChunkStream:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self.response.close()

    def __iter__(self):
        data: list[str] = []
        for line in self.response.iter_lines():
            if line:
                field_name, _, value = line.partition(":")
                if field_name == "data":
                    data.append(value[1:] if value.startswith(" ") else value)
                continue
            if not data:
                continue
            text, data = "\n".join(data), []
            if text.startswith("[DONE]"):
                return
            chunk = json.loads(text, object_hook=Fields)
            if isinstance(chunk, dict) and chunk.get("error"):
                error = chunk["error"]
                message = error.get("message") if isinstance(error, dict) else None
                raise openai.APIError(
                    message=message
                    if isinstance(message, str) and message
                    else "An error occurred during streaming",
                    request=self.response.http_request,
                    body=error,
                )
            yield chunk


def _misconfigured(model: LanguageModel, problem: str) -> RunStopped:
    logger.error("The endpoint of model %s is misconfigured: %s", model.slug, problem)
    registry.model_problem_record(model=model, problem=problem)
    return failed("model_misconfigured", MISCONFIGURED)


def stream_turn(stream, *, listener: Listener, budget: Budget, input_estimate: int) -> Turn:
    """Read one opened turn to its end, telling `listener` as it goes and charging `budget` for it."""
    turn = Turn()
    assembly = ToolCallAssembly()
    usage = None
    try:
        with stream:
            for chunk in stream:
                if chunk.usage is not None:
                    usage = chunk.usage
                for choice in chunk.choices or ():
                    _fold(choice, turn, assembly, listener)
                listener.on_chunk()
    except RunStopped:
        # Stopped mid-answer (a cancel, the wall clock): what streamed so far was used all the same.
        budget.add(**_estimated_usage(turn, assembly, input_estimate))
        raise
    except (openai.APIConnectionError, openai.APIError) as exc:
        raise StreamBroken() from exc
    except Exception as exc:
        if is_transport_error(exc):
            raise StreamBroken() from exc
        raise
    if turn.finish_reason is None:
        raise StreamBroken()
    listener.on_turn_end()
    turn.tool_calls = assembly.finished()
    if usage is not None:
        budget.add(input_tokens=usage.prompt_tokens, output_tokens=usage.completion_tokens)
    else:
        budget.add(**_estimated_usage(turn, assembly, input_estimate))
    return turn


def _estimated_usage(turn: Turn, assembly: ToolCallAssembly, input_estimate: int) -> dict:
    return {
        "input_tokens": input_estimate,
        "output_tokens": registry.tokens_for_text(turn.text + assembly.arguments_text()),
    }


def _fold(choice, turn: Turn, assembly: ToolCallAssembly, listener: Listener) -> None:
    """Fold one streamed choice delta into the turn: text, tool-call pieces, the finish reason."""
    delta = choice.delta
    if delta is not None and delta.content:
        turn.text += delta.content
        listener.on_text(delta.content)
    for piece in (delta.tool_calls or []) if delta is not None else []:
        announced = assembly.take(piece)
        if announced is not None:
            listener.on_tool_call(announced, announced["arguments"])
    if choice.finish_reason:
        turn.finish_reason = choice.finish_reason
