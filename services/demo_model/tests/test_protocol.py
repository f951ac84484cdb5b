"""OpenAI's wire shapes: chunks, tool-call deltas, usage, errors, and the token counting rule."""

import json

import pytest

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
    count_tokens,
    request_digest,
    sse_event,
    stream_chunks,
    tool_call_id,
    truncate,
    usage_for,
)

ENVELOPE = Envelope(id="chatcmpl-demo1", created=1, model="oasis-demo")
TEXT = Reply(content="Hello from the demo model, which is not an AI.")
CALLS = Reply(
    tool_calls=(
        ToolCall(
            "call_a", "write_file", json.dumps({"path": "index.html", "content": "<!DOCTYPE html>" * 5})
        ),
        ToolCall("call_b", "list_files", "{}"),
    ),
    finish_reason="tool_calls",
)
USAGE = Usage(prompt_tokens=10, completion_tokens=5)


@pytest.mark.parametrize(("text", "tokens"), [("", 0), ("a", 1), ("abcd", 1), ("abcde", 2), ("é" * 8, 2)])
def test_a_token_is_four_characters_rounded_up(text, tokens):
    assert count_tokens(text) == tokens


def test_prompt_tokens_count_message_text_and_tool_calls_but_not_roles_or_tools():
    messages = [
        {"role": "system", "content": "abcd"},
        {"role": "user", "content": [{"type": "text", "text": "ef"}, {"type": "image_url", "image_url": {}}]},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [
                {
                    "id": "x",
                    "type": "function",
                    "function": {"name": "read_file", "arguments": '{"path":"a"}'},
                }
            ],
        },
        {"role": "tool", "tool_call_id": "x", "content": "123"},
    ]
    usage = usage_for(messages, CALLS)
    assert usage.prompt_tokens == -(-(4 + 2 + len("read_file") + len('{"path":"a"}') + 3) // 4)
    expected_output = sum(len(call.name) + len(call.arguments) for call in CALLS.tool_calls)
    assert usage.completion_tokens == -(-expected_output // 4)
    assert usage.as_dict()["total_tokens"] == usage.prompt_tokens + usage.completion_tokens


def test_a_text_stream_opens_with_the_role_then_content_pieces_then_stop():
    chunks = list(stream_chunks(ENVELOPE, TEXT, USAGE, piece_chars=8))
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": "", "refusal": None}
    assert "".join(chunk["choices"][0]["delta"].get("content") or "" for chunk in chunks) == TEXT.content
    assert chunks[-1]["choices"][0] == {"index": 0, "delta": {}, "logprobs": None, "finish_reason": "stop"}
    assert {chunk["object"] for chunk in chunks} == {"chat.completion.chunk"}
    assert all("usage" not in chunk for chunk in chunks)


def test_tool_calls_stream_in_openais_delta_format():
    chunks = list(stream_chunks(ENVELOPE, CALLS, USAGE, piece_chars=16))
    deltas = [chunk["choices"][0]["delta"] for chunk in chunks[:-1]]
    assert deltas[0]["role"] == "assistant"
    calls = [call for delta in deltas for call in delta.get("tool_calls", ())]
    for index, expected in enumerate(CALLS.tool_calls):
        mine = [call for call in calls if call["index"] == index]
        assert mine[0] == {
            "index": index,
            "id": expected.id,
            "type": "function",
            "function": {"name": expected.name, "arguments": ""},
        }
        assert all(
            set(call) == {"index", "function"} and set(call["function"]) == {"arguments"} for call in mine[1:]
        )
        assert "".join(call["function"]["arguments"] for call in mine) == expected.arguments
    assert len([call for call in calls if call["index"] == 0]) > 3
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"


def test_asking_for_usage_adds_a_final_chunk_with_no_choices():
    chunks = list(
        stream_chunks(Envelope("c", 1, "oasis-demo", include_usage=True), TEXT, USAGE, piece_chars=8)
    )
    assert chunks[-1]["choices"] == []
    assert chunks[-1]["usage"] == {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}
    assert all(chunk["usage"] is None for chunk in chunks[:-1])


def test_a_completion_carries_the_message_its_tool_calls_and_usage():
    body = completion_body(ENVELOPE, CALLS, USAGE)
    assert body["object"] == "chat.completion"
    message = body["choices"][0]["message"]
    assert message["role"] == "assistant"
    assert message["content"] is None
    assert message["tool_calls"][1] == {
        "id": "call_b",
        "type": "function",
        "function": {"name": "list_files", "arguments": "{}"},
    }
    assert body["choices"][0]["finish_reason"] == "tool_calls"
    assert body["usage"]["total_tokens"] == 15


def test_a_chunk_is_paced_by_the_tokens_it_carries():
    chunks = list(stream_chunks(ENVELOPE, TEXT, USAGE, piece_chars=8))
    assert [chunk_tokens(chunk) for chunk in chunks[:3]] == [0, 2, 2]


def test_server_sent_events_are_data_lines_ending_in_a_blank_line():
    assert sse_event({"a": "é"}) == 'data: {"a":"é"}\n\n'.encode()
    assert SSE_DONE == b"data: [DONE]\n\n"


def test_max_tokens_cuts_the_output_and_says_length():
    cut = truncate(CALLS, 10)
    assert cut.finish_reason == "length"
    assert sum(len(call.name) + len(call.arguments) for call in cut.tool_calls) == 40
    assert truncate(TEXT, 3) == Reply(content=TEXT.content[:12], finish_reason="length")
    assert truncate(TEXT, 1000) is TEXT


def test_ids_repeat_for_the_same_conversation_and_differ_across_turns():
    first = request_digest([{"role": "user", "content": "a"}])
    assert first == request_digest([{"role": "user", "content": "a"}])
    assert first != request_digest([{"role": "user", "content": "b"}])
    assert completion_id(first).startswith("chatcmpl-")
    assert tool_call_id(first, 0) != tool_call_id(first, 1)


VALID = {"model": "oasis-demo", "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize(
    ("change", "param"),
    [
        ({"model": ""}, "model"),
        ({"messages": []}, "messages"),
        ({"messages": [{"content": "no role"}]}, "messages"),
        ({"tools": {}}, "tools"),
        ({"stream": "yes"}, "stream"),
        ({"stream_options": {"include_usage": True}}, "stream_options"),
        ({"max_tokens": 0}, "max_tokens"),
    ],
)
def test_requests_openai_would_refuse_are_invalid(change, param):
    with pytest.raises(InvalidRequest) as caught:
        ChatRequest.from_body({**VALID, **change})
    assert caught.value.param == param


def test_a_valid_request_keeps_the_options_the_demo_uses():
    chat = ChatRequest.from_body(
        {
            **VALID,
            "stream": True,
            "stream_options": {"include_usage": True},
            "max_completion_tokens": 9,
            "parallel_tool_calls": False,
        }
    )
    assert (chat.stream, chat.include_usage, chat.max_tokens, chat.parallel_tool_calls) == (
        True,
        True,
        9,
        False,
    )
