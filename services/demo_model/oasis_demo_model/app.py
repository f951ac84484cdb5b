"""The demo model's HTTP server (ASGI): OpenAI's /v1 endpoints, health, and the /_control/ API for tests.

Error bodies use OpenAI's shape ({"error": {"message", "type", "param", "code"}}) rather than the
platform's envelope, because the clients of this server are OpenAI SDKs.
"""

from __future__ import annotations

import itertools
import json
import logging
import time
import uuid
from dataclasses import dataclass
from typing import Any

import anyio
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from oasis_demo_model import DISPLAY_NAME, LABEL_HEADER, MODEL_ID
from oasis_demo_model.conversation import next_step, read_turn
from oasis_demo_model.faults import (
    CUT_AFTER_TOKENS,
    Fault,
    FaultError,
    FaultInjector,
    Stats,
    parse_fault,
    split_model,
)
from oasis_demo_model.protocol import (
    SSE_DONE,
    ChatRequest,
    Envelope,
    InvalidRequest,
    Reply,
    ToolCall,
    Usage,
    chunk_tokens,
    completion_body,
    completion_id,
    error_body,
    request_digest,
    sse_event,
    stream_chunks,
    tool_call_id,
    truncate,
    usage_for,
)
from oasis_demo_model.settings import Settings

logger = logging.getLogger("oasis_demo_model")

# A fixed date, so the model list is the same on every run.
MODEL_CREATED = 1735689600
# Unpaced streams go out this many events per write, yielding to other streams in between.
EVENTS_PER_WRITE = 16


@dataclass
class DemoState:
    settings: Settings
    faults: FaultInjector
    stats: Stats


def model_entry() -> dict[str, Any]:
    return {
        "id": MODEL_ID,
        "object": "model",
        "created": MODEL_CREATED,
        "owned_by": "imagi-oasis",
        "name": DISPLAY_NAME,
        "description": "A deterministic stand-in for offline development and tests. Not an AI.",
    }


def error_response(
    status: int, message: str, *, type: str, code: str | None = None, param: str | None = None
) -> JSONResponse:
    return JSONResponse(error_body(message, type=type, code=code, param=param), status_code=status)


def compose_reply(chat: ChatRequest, digest: str, fault: Fault | None = None) -> tuple[Reply, Usage]:
    """The demo's reply to a chat request, with OpenAI-style ids, cut to max_tokens, and its usage.

    A reply fault shapes it: `ignore_tools` answers as if no tools were offered; `length` and
    `content_filter` cut it short with that finish reason.
    """
    kind = fault.kind if fault is not None else None
    tool_choice = "none" if kind == "ignore_tools" else chat.tool_choice
    turn = read_turn(
        chat.messages, chat.tools, tool_choice=tool_choice, parallel_tool_calls=chat.parallel_tool_calls
    )
    step = next_step(turn)
    calls = tuple(
        ToolCall(tool_call_id(digest, index), call.name, json.dumps(call.arguments, ensure_ascii=False))
        for index, call in enumerate(step.calls)
    )
    reply = Reply(content=step.text, tool_calls=calls, finish_reason="tool_calls" if calls else "stop")
    reply = truncate(reply, chat.max_tokens)
    if kind in ("length", "content_filter"):
        cut = truncate(reply, CUT_AFTER_TOKENS if fault.after_tokens is None else fault.after_tokens)
        # A content filter may stop any answer; the output limit stops only one longer than it.
        if kind == "content_filter" or cut is not reply:
            reply = Reply(content=cut.content, tool_calls=cut.tool_calls, finish_reason=kind)
    return reply, usage_for(chat.messages, reply)


# /v1


async def models(request: Request) -> JSONResponse:
    return JSONResponse({"object": "list", "data": [model_entry()]})


async def model_detail(request: Request) -> JSONResponse:
    model, _ = split_model(request.path_params["model"])
    if model != MODEL_ID:
        return _unknown_model(request.path_params["model"])
    return JSONResponse({**model_entry(), "id": request.path_params["model"]})


def _unknown_model(model: str) -> JSONResponse:
    return error_response(
        404,
        f"The model '{model}' does not exist. This server only has '{MODEL_ID}'.",
        type="invalid_request_error",
        code="model_not_found",
        param="model",
    )


async def chat_completions(request: Request):
    state: DemoState = request.app.state.demo
    received = time.monotonic()
    state.stats.requests += 1
    try:
        chat = ChatRequest.from_body(await request.json())
        state.stats.options.append(
            {
                name: value
                for name, value in (
                    ("temperature", chat.temperature),
                    ("reasoning_effort", chat.reasoning_effort),
                )
                if value is not None
            }
        )
    except ValueError as error:
        state.stats.outcomes["bad_request"] += 1
        message = str(error) if isinstance(error, InvalidRequest) else "The request body is not valid JSON."
        return error_response(400, message, type="invalid_request_error", param=getattr(error, "param", None))
    model, trigger = split_model(chat.model)
    if model != MODEL_ID:
        state.stats.outcomes["bad_request"] += 1
        return _unknown_model(chat.model)
    fault = state.faults.next(trigger)
    if fault is not None:
        logger.info("Injecting fault %s into a chat completion.", fault.as_dict())
    digest = request_digest(chat.messages)
    reply, usage = compose_reply(chat, digest, fault)
    envelope = Envelope(
        id=completion_id(digest),
        created=int(time.time()),
        model=chat.model,
        include_usage=chat.include_usage,
    )
    return CompletionResponse(
        state, chat, envelope, reply, usage, fault, received, request.headers.get("x-client-request-id")
    )


REFUSALS = {
    "401": (
        401,
        error_body(
            "Incorrect API key provided (injected by the demo model).",
            type="invalid_request_error",
            code="invalid_api_key",
        ),
    ),
    "404": (
        404,
        error_body(
            "The model does not exist or you do not have access to it (injected by the demo model).",
            type="invalid_request_error",
            code="model_not_found",
        ),
    ),
}
NOT_OPENAI_PAGE = "<!doctype html><html><body><h1>Welcome to nginx!</h1></body></html>\n"


class CompletionResponse:
    """Sends one completion (or its injected failure), stopping early if the client goes away."""

    def __init__(
        self,
        state: DemoState,
        chat: ChatRequest,
        envelope: Envelope,
        reply: Reply,
        usage: Usage,
        fault: Fault | None,
        received: float,
        client_request_id: str | None = None,
    ):
        self.settings = state.settings
        self.stats = state.stats
        self.chat = chat
        self.envelope = envelope
        self.reply = reply
        self.usage = usage
        self.fault = fault
        self.received = received
        # The wall clock when the request arrived, for the per-call timings.
        self.received_at = time.time() - (time.monotonic() - received)
        self.client_request_id = client_request_id[:200] if client_request_id else None
        self.first_byte_sent = False
        self.request_id = f"req_demo_{uuid.uuid4().hex[:24]}"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.stats.in_flight += 1
        # Stays "disconnected" if the client leaves before the response is complete.
        outcome = self.fault.kind if self.fault else "disconnected"
        try:
            async with anyio.create_task_group() as group:
                group.start_soon(self._cancel_on_disconnect, receive, group.cancel_scope)
                outcome = await self._respond(send)
                group.cancel_scope.cancel()
        finally:
            self.stats.in_flight -= 1
            self.stats.outcomes[outcome] += 1

    @staticmethod
    async def _cancel_on_disconnect(receive: Receive, cancel_scope: anyio.CancelScope) -> None:
        while (await receive())["type"] != "http.disconnect":
            pass
        cancel_scope.cancel()

    async def _respond(self, send: Send) -> str:
        settings, fault = self.settings, self.fault
        if settings.latency_ms:
            await anyio.sleep(settings.latency_ms / 1000)
        if fault is not None and fault.kind == "429":
            retry_after_ms = settings.retry_after_ms if fault.retry_after_ms is None else fault.retry_after_ms
            headers = {"retry-after": str(-(-retry_after_ms // 1000)), "retry-after-ms": str(retry_after_ms)}
            body = error_body(
                "Rate limit reached (injected by the demo model).",
                type="requests",
                code="rate_limit_exceeded",
            )
            await self._send_json(send, 429, body, headers)
            return "429"
        if fault is not None and fault.kind == "500":
            body = error_body("The server had an error (injected by the demo model).", type="server_error")
            await self._send_json(send, 500, body)
            return "500"
        if fault is not None and fault.kind == "timeout":
            # Holds the request until the client gives up (which cancels this), or the hang is over.
            await anyio.sleep(settings.hang_seconds if fault.hang_seconds is None else fault.hang_seconds)
            body = error_body("The demo model timed out (injected).", type="timeout", code="timeout")
            await self._send_json(send, 504, body)
            return "timeout"
        if fault is not None and fault.kind in REFUSALS:
            status, body = REFUSALS[fault.kind]
            await self._send_json(send, status, body)
            return fault.kind
        if fault is not None and fault.kind == "not_openai":
            # What a proxy in front of the wrong service answers: 200, and not the protocol at all.
            payload = NOT_OPENAI_PAGE.encode()
            headers = self._headers("text/html; charset=utf-8", {"content-length": str(len(payload))})
            await send({"type": "http.response.start", "status": 200, "headers": headers})
            await self._send_body(send, payload, more=False)
            return "not_openai"
        broken = fault is not None and fault.kind == "broken_stream"
        if self.chat.stream:
            await self._stream(send, broken)
        else:
            await self._complete(send, broken)
        return "broken_stream" if broken else "ok"

    def _headers(self, content_type: str, extra: dict[str, str] | None = None) -> list[tuple[bytes, bytes]]:
        headers = {"content-type": content_type, "x-request-id": self.request_id, **(extra or {})}
        return [(name.encode(), value.encode()) for name, value in headers.items()]

    async def _send_json(
        self, send: Send, status: int, body: dict, headers: dict[str, str] | None = None
    ) -> None:
        payload = json.dumps(body).encode()
        extra = {"content-length": str(len(payload)), **(headers or {})}
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": self._headers("application/json", extra),
            }
        )
        await self._send_body(send, payload, more=False)

    async def _send_body(self, send: Send, data: bytes, *, more: bool) -> None:
        if not self.first_byte_sent and data:
            self.first_byte_sent = True
            self.stats.call_answered(
                client_request_id=self.client_request_id,
                received=self.received_at,
                latency=time.monotonic() - self.received,
            )
        await send({"type": "http.response.body", "body": data, "more_body": more})

    async def _complete(self, send: Send, broken: bool) -> None:
        payload = json.dumps(
            completion_body(self.envelope, self.reply, self.usage), ensure_ascii=False
        ).encode()
        if self.settings.tokens_per_second:
            await anyio.sleep(self.usage.completion_tokens / self.settings.tokens_per_second)
        headers = self._headers("application/json", {"content-length": str(len(payload))})
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        if broken:
            # Half the promised body, then the connection closes when this returns incomplete.
            await self._send_body(send, payload[: len(payload) // 2], more=True)
            return
        await self._send_body(send, payload, more=False)

    async def _stream(self, send: Send, broken: bool) -> None:
        # Chunks are made as they are sent, so an open stream holds its reply and little else.
        chunks = stream_chunks(self.envelope, self.reply, self.usage, self.settings.chunk_chars)
        if broken:
            after = (
                self.settings.break_after_chunks
                if self.fault.after_chunks is None
                else self.fault.after_chunks
            )
            total = sum(
                1 for _ in stream_chunks(self.envelope, self.reply, self.usage, self.settings.chunk_chars)
            )
            chunks = itertools.islice(chunks, min(after, total - 1))
        headers = self._headers("text/event-stream; charset=utf-8", {"cache-control": "no-cache"})
        await send({"type": "http.response.start", "status": 200, "headers": headers})

        rate = self.settings.tokens_per_second
        started, tokens = time.monotonic(), 0
        pending: list[bytes] = []
        for body in chunks:
            if rate:
                # Each chunk leaves when its tokens would have been generated at the set rate.
                tokens += chunk_tokens(body)
                delay = started + tokens / rate - time.monotonic()
                if delay > 0:
                    await anyio.sleep(delay)
                await self._send_body(send, sse_event(body), more=True)
                continue
            pending.append(sse_event(body))
            if len(pending) >= EVENTS_PER_WRITE:
                await self._send_body(send, b"".join(pending), more=True)
                pending.clear()
                await anyio.sleep(0)
        if pending:
            await self._send_body(send, b"".join(pending), more=True)
        if broken:
            # Returning without the final body message makes the server drop the connection mid-stream.
            return
        await self._send_body(send, SSE_DONE, more=False)


# Health


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok", "model": MODEL_ID, "note": "deterministic demo model, not an AI"})


# /_control/


async def faults_queue(request: Request) -> JSONResponse:
    state: DemoState = request.app.state.demo
    if request.method == "POST":
        try:
            body = await request.json()
            raw = body.get("faults") if isinstance(body, dict) else None
            if not isinstance(raw, list):
                raise FaultError('Send {"faults": [...]}, each a kind or an object with a "kind".')
            state.faults.push([parse_fault(item) for item in raw])
        except ValueError as error:
            message = str(error) if isinstance(error, FaultError) else "The request body is not valid JSON."
            return error_response(400, message, type="invalid_request_error", code="invalid_fault")
    elif request.method == "DELETE":
        state.faults.clear()
    return JSONResponse({"queued": state.faults.queued()})


async def stats(request: Request) -> JSONResponse:
    state: DemoState = request.app.state.demo
    if request.method == "DELETE":
        state.stats.reset()
    return JSONResponse(state.stats.snapshot())


async def calls(request: Request) -> JSONResponse:
    """The latest requests that sent X-Client-Request-Id: when each arrived and got its first byte."""
    return JSONResponse({"calls": list(request.app.state.demo.stats.calls)})


async def http_error(request: Request, exc: Exception) -> JSONResponse:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    code = {404: "not_found", 405: "method_not_allowed"}.get(status, "error")
    return error_response(
        status,
        f"{request.method} {request.url.path}: {code.replace('_', ' ')}.",
        type="invalid_request_error",
        code=code,
    )


class LabelHeaders:
    """Adds the "not an AI" header to every response, streams included (pure ASGI, so nothing is buffered)."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def labelled(message):
            if message["type"] == "http.response.start":
                label = (LABEL_HEADER[0].encode(), LABEL_HEADER[1].encode())
                message = {**message, "headers": [*message.get("headers", []), label]}
            await send(message)

        await self.app(scope, receive, labelled)


def create_app(settings: Settings | None = None) -> Starlette:
    settings = settings or Settings.from_env()
    routes = [
        Route("/healthz", healthz),
        Route("/readyz", healthz),
        Route("/v1/models", models),
        Route("/v1/models/{model:path}", model_detail),
        Route("/v1/chat/completions", chat_completions, methods=["POST"]),
    ]
    if settings.control:
        routes += [
            Route("/_control/faults", faults_queue, methods=["GET", "POST", "DELETE"]),
            Route("/_control/stats", stats, methods=["GET", "DELETE"]),
            Route("/_control/calls", calls),
        ]
    app = Starlette(routes=routes, exception_handlers={HTTPException: http_error})
    app.state.demo = DemoState(settings=settings, faults=FaultInjector(settings), stats=Stats())
    app.add_middleware(LabelHeaders)
    return app
