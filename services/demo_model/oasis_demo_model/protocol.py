"""OpenAI's chat-completion wire shapes: responses, stream chunks, errors, usage and token counts.

Token counts are estimates with one documented rule, so anyone can recompute them:
a text of N characters (Python code points) counts ceil(N / 4) tokens.
  prompt_tokens     = ceil(P / 4), P = the characters of every message's content (text parts
                      joined) plus, in assistant messages, each tool call's name and arguments
  completion_tokens = ceil(C / 4), C = the characters of the reply's content plus each of its
                      tool calls' name and arguments
  total_tokens      = prompt_tokens + completion_tokens
Roles, tool schemas and message framing are not counted.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

SYSTEM_FINGERPRINT = "oasis-demo-deterministic"


@dataclass(frozen=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True)
class Reply:
    """What the model says in one response: text, or tool calls (with optional text before them)."""

    content: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str = "stop"


@dataclass(frozen=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def as_dict(self) -> dict[str, int]:
        return {
            "prompt_tokens": self.prompt_tokens,
            "completion_tokens": self.completion_tokens,
            "total_tokens": self.total_tokens,
        }


@dataclass(frozen=True)
class Envelope:
    """What every chunk and response of one completion shares."""

    id: str
    created: int
    model: str
    include_usage: bool = False


def count_tokens(text: str) -> int:
    return math.ceil(len(text) / 4)


def message_text(content: Any) -> str:
    """A message's content as text: a string, or the text parts of a content-part list."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(
            part.get("text", "") for part in content if isinstance(part, dict) and part.get("type") == "text"
        )
    return str(content)


def prompt_characters(messages: list[dict[str, Any]]) -> int:
    total = 0
    for message in messages:
        total += len(message_text(message.get("content")))
        for call in message.get("tool_calls") or ():
            function = call.get("function") or {}
            total += len(function.get("name") or "") + len(function.get("arguments") or "")
    return total


def reply_characters(reply: Reply) -> int:
    return len(reply.content or "") + sum(len(call.name) + len(call.arguments) for call in reply.tool_calls)


def usage_for(messages: list[dict[str, Any]], reply: Reply) -> Usage:
    return Usage(
        prompt_tokens=math.ceil(prompt_characters(messages) / 4),
        completion_tokens=math.ceil(reply_characters(reply) / 4),
    )


def truncate(reply: Reply, max_tokens: int | None) -> Reply:
    """The reply cut to max_tokens, as a real model stops mid-output with finish_reason "length"."""
    if max_tokens is None or math.ceil(reply_characters(reply) / 4) <= max_tokens:
        return reply
    budget = max_tokens * 4
    content = reply.content
    if content is not None:
        content, budget = content[:budget], max(0, budget - len(content))
    calls = []
    for call in reply.tool_calls:
        if budget <= len(call.name):
            break
        budget -= len(call.name)
        arguments = call.arguments[:budget]
        budget -= len(arguments)
        calls.append(ToolCall(id=call.id, name=call.name, arguments=arguments))
    return Reply(content=content, tool_calls=tuple(calls), finish_reason="length")


def request_digest(messages: list[dict[str, Any]]) -> str:
    """A stable fingerprint of the conversation: ids repeat for the same request and differ across turns."""
    canonical = json.dumps(messages, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def completion_id(digest: str) -> str:
    return f"chatcmpl-demo{digest[:24]}"


def tool_call_id(digest: str, index: int) -> str:
    return f"call_demo{digest[:20]}{index:02d}"


def completion_body(envelope: Envelope, reply: Reply, usage: Usage) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": reply.content, "refusal": None}
    if reply.tool_calls:
        message["tool_calls"] = [
            {"id": call.id, "type": "function", "function": {"name": call.name, "arguments": call.arguments}}
            for call in reply.tool_calls
        ]
    return {
        "id": envelope.id,
        "object": "chat.completion",
        "created": envelope.created,
        "model": envelope.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": reply.finish_reason}],
        "usage": usage.as_dict(),
    }


def chunk(envelope: Envelope, delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": envelope.id,
        "object": "chat.completion.chunk",
        "created": envelope.created,
        "model": envelope.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}],
    }
    if envelope.include_usage:
        # OpenAI sends "usage": null on every chunk but the last when usage is asked for.
        body["usage"] = None
    return body


def usage_chunk(envelope: Envelope, usage: Usage) -> dict[str, Any]:
    return {
        "id": envelope.id,
        "object": "chat.completion.chunk",
        "created": envelope.created,
        "model": envelope.model,
        "system_fingerprint": SYSTEM_FINGERPRINT,
        "choices": [],
        "usage": usage.as_dict(),
    }


def pieces(text: str, size: int) -> list[str]:
    return [text[start : start + size] for start in range(0, len(text), size)]


def stream_chunks(
    envelope: Envelope, reply: Reply, usage: Usage, piece_chars: int
) -> Iterator[dict[str, Any]]:
    """The reply as OpenAI streams it: a role delta, content pieces, tool-call deltas, the finish, usage."""
    if reply.tool_calls and not reply.content:
        first_call = reply.tool_calls[0]
        yield chunk(
            envelope, {"role": "assistant", "content": None, "tool_calls": [_call_opening(0, first_call)]}
        )
        yield from _argument_chunks(envelope, 0, first_call, piece_chars)
        remaining = enumerate(reply.tool_calls[1:], start=1)
    else:
        yield chunk(envelope, {"role": "assistant", "content": "", "refusal": None})
        for piece in pieces(reply.content or "", piece_chars):
            yield chunk(envelope, {"content": piece})
        remaining = enumerate(reply.tool_calls)
    for index, call in remaining:
        yield chunk(envelope, {"tool_calls": [_call_opening(index, call)]})
        yield from _argument_chunks(envelope, index, call, piece_chars)
    yield chunk(envelope, {}, finish_reason=reply.finish_reason)
    if envelope.include_usage:
        yield usage_chunk(envelope, usage)


def _call_opening(index: int, call: ToolCall) -> dict[str, Any]:
    return {
        "index": index,
        "id": call.id,
        "type": "function",
        "function": {"name": call.name, "arguments": ""},
    }


def _argument_chunks(
    envelope: Envelope, index: int, call: ToolCall, piece_chars: int
) -> Iterator[dict[str, Any]]:
    for piece in pieces(call.arguments, piece_chars):
        yield chunk(envelope, {"tool_calls": [{"index": index, "function": {"arguments": piece}}]})


def chunk_tokens(body: dict[str, Any]) -> int:
    """How many output tokens a chunk carries, for pacing a stream at a tokens-per-second rate."""
    characters = 0
    for choice in body.get("choices") or ():
        delta = choice.get("delta") or {}
        characters += len(delta.get("content") or "")
        for call in delta.get("tool_calls") or ():
            function = call.get("function") or {}
            characters += len(function.get("name") or "") + len(function.get("arguments") or "")
    return math.ceil(characters / 4)


def sse_event(body: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(body, separators=(",", ":"), ensure_ascii=False).encode() + b"\n\n"


SSE_DONE = b"data: [DONE]\n\n"


def error_body(
    message: str, *, type: str, code: str | None = None, param: str | None = None
) -> dict[str, Any]:
    """OpenAI's error shape, which its SDK turns into the matching exception class."""
    return {"error": {"message": message, "type": type, "param": param, "code": code}}


ROLES = frozenset({"system", "developer", "user", "assistant", "tool", "function"})


REASONING_EFFORTS = ("minimal", "low", "medium", "high")


class InvalidRequest(ValueError):
    """A chat completion request OpenAI would refuse with a 400."""

    def __init__(self, message: str, param: str | None = None):
        super().__init__(message)
        self.param = param


@dataclass(frozen=True)
class ChatRequest:
    model: str
    messages: list[dict[str, Any]]
    tools: list[dict[str, Any]]
    tool_choice: Any = None
    parallel_tool_calls: bool | None = None
    stream: bool = False
    include_usage: bool = False
    max_tokens: int | None = None
    # Taken and checked as OpenAI checks them; they change nothing in a deterministic answer.
    temperature: float | None = None
    reasoning_effort: str | None = None

    @classmethod
    def from_body(cls, body: Any) -> ChatRequest:
        if not isinstance(body, dict):
            raise InvalidRequest("The request body must be a JSON object.")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise InvalidRequest("You must provide a model parameter.", "model")
        messages = body.get("messages")
        if not isinstance(messages, list) or not messages:
            raise InvalidRequest("'messages' must be a non-empty array.", "messages")
        for index, message in enumerate(messages):
            if not isinstance(message, dict) or message.get("role") not in ROLES:
                raise InvalidRequest(
                    f"messages[{index}] needs a role of {', '.join(sorted(ROLES))}.", "messages"
                )
        tools = body.get("tools")
        tools = [] if tools is None else tools
        if not isinstance(tools, list):
            raise InvalidRequest("'tools' must be an array.", "tools")
        stream = body.get("stream") or False
        if not isinstance(stream, bool):
            raise InvalidRequest("'stream' must be a boolean.", "stream")
        options = body.get("stream_options")
        options = {} if options is None else options
        if not isinstance(options, dict):
            raise InvalidRequest("'stream_options' must be an object.", "stream_options")
        if options and not stream:
            raise InvalidRequest("'stream_options' is only allowed when 'stream' is true.", "stream_options")
        max_tokens = body.get("max_completion_tokens", body.get("max_tokens"))
        if max_tokens is not None and (
            isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens < 1
        ):
            raise InvalidRequest("'max_tokens' must be a whole number of at least 1.", "max_tokens")
        parallel = body.get("parallel_tool_calls")
        temperature = body.get("temperature")
        if temperature is not None and (
            isinstance(temperature, bool)
            or not isinstance(temperature, int | float)
            or not 0 <= temperature <= 2
        ):
            raise InvalidRequest("'temperature' must be a number from 0 to 2.", "temperature")
        effort = body.get("reasoning_effort")
        if effort is not None and effort not in REASONING_EFFORTS:
            raise InvalidRequest(
                f"'reasoning_effort' must be one of {', '.join(REASONING_EFFORTS)}.", "reasoning_effort"
            )
        return cls(
            model=model,
            messages=messages,
            tools=tools,
            tool_choice=body.get("tool_choice"),
            parallel_tool_calls=parallel if isinstance(parallel, bool) else None,
            stream=stream,
            include_usage=bool(options.get("include_usage")),
            max_tokens=max_tokens,
            temperature=temperature,
            reasoning_effort=effort,
        )
