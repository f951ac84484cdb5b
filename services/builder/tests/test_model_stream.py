"""One streamed turn: tool calls put back together from their pieces, announced once, usage counted."""

import json
from types import SimpleNamespace

import httpx2
import openai
import pytest

from catalog.models import LanguageModel
from generations.budget import Budget
from generations.finishing import RunStopped, failed
from generations.model_stream import (
    ANNOUNCE_SCAN_CHARS,
    ChunkStream,
    StreamBroken,
    ToolCallAssembly,
    open_stream,
    stream_turn,
    streamed_arguments,
    visible_arguments,
)


def piece(index, *, id=None, name=None, arguments=None):
    function = None if name is None and arguments is None else SimpleNamespace(name=name, arguments=arguments)
    return SimpleNamespace(index=index, id=id, function=function)


def chunk(*, content=None, pieces=None, finish_reason=None, usage=None):
    delta = SimpleNamespace(content=content, tool_calls=pieces)
    return SimpleNamespace(choices=[SimpleNamespace(delta=delta, finish_reason=finish_reason)], usage=usage)


class Stream:
    """What the SDK's stream looks like to a turn: a context manager yielding chunks, maybe breaking."""

    def __init__(self, chunks, *, breaks_with=None):
        self.chunks = chunks
        self.breaks_with = breaks_with

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False

    def __iter__(self):
        yield from self.chunks
        if self.breaks_with is not None:
            raise self.breaks_with


class Listener:
    def __init__(self, *, stop_after_chunks=None):
        self.seen = []
        self.stop_after_chunks = stop_after_chunks

    def on_text(self, delta):
        self.seen.append(("text", delta))

    def on_tool_call(self, call, visible):
        self.seen.append(("tool_call", call["id"], call["name"], visible))

    def on_chunk(self):
        chunks = sum(1 for kind, *_ in self.seen if kind == "chunk") + 1
        self.seen.append(("chunk",))
        if self.stop_after_chunks == chunks:
            raise failed("timeout", "too long")

    def on_turn_end(self):
        self.seen.append(("end",))


@pytest.fixture
def budget():
    return Budget(model=LanguageModel(input_price=1, output_price=1, max_output_tokens=1000), ceiling=100)


@pytest.mark.parametrize(
    ("pieces", "calls"),
    [
        # One call in one piece.
        (
            [piece(0, id="a", name="write_file", arguments='{"path": "a.html", "content": "x"}')],
            [{"id": "a", "name": "write_file", "arguments": '{"path": "a.html", "content": "x"}'}],
        ),
        # Name and arguments split across pieces, the id only on the first.
        (
            [
                piece(0, id="a", name="write_", arguments=""),
                piece(0, name="file", arguments='{"pa'),
                piece(0, arguments='th": "b.css"}'),
            ],
            [{"id": "a", "name": "write_file", "arguments": '{"path": "b.css"}'}],
        ),
        # Two calls interleaved, numbered out of order; a missing id is made from the index.
        (
            [
                piece(1, name="read_file", arguments='{"path":'),
                piece(0, id="first", name="list_files", arguments="{}"),
                piece(1, arguments=' "x.js"}'),
            ],
            [
                {"id": "first", "name": "list_files", "arguments": "{}"},
                {"id": "call_1", "name": "read_file", "arguments": '{"path": "x.js"}'},
            ],
        ),
    ],
)
def test_streamed_pieces_are_assembled_into_whole_calls_in_index_order(pieces, calls):
    assembly = ToolCallAssembly()
    for each in pieces:
        assembly.take(each)

    finished = [{key: call[key] for key in ("id", "name", "arguments")} for call in assembly.finished()]

    assert finished == calls


def test_a_call_is_announced_once_as_soon_as_its_path_has_arrived():
    assembly = ToolCallAssembly()

    assert assembly.take(piece(0, id="a", name="write_file", arguments='{"pa')) is None
    announced = assembly.take(piece(0, arguments='th": "index.html", "content": "<h'))
    again = assembly.take(piece(0, arguments='1>"}'))

    assert announced == {"id": "a", "name": "write_file", "arguments": {"path": "index.html"}}
    assert again is None
    assert assembly.finished()[0]["announced"] is True


def test_a_rename_is_announced_when_both_of_its_paths_are_known():
    assembly = ToolCallAssembly()

    assert assembly.take(piece(0, id="r", name="rename_file", arguments='{"from_path": "a.html", ')) is None
    announced = assembly.take(piece(0, arguments='"to_path": "b.html"}'))

    assert announced["arguments"] == {"from_path": "a.html", "to_path": "b.html"}


@pytest.mark.parametrize(
    ("name", "partial", "visible"),
    [
        ("write_file", '{"path": "a\\"b.html"', {"path": 'a"b.html'}),  # escapes decoded
        ("write_file", '{"content": "x", "path": "late.html"', {"path": "late.html"}),
        ("list_files", "{}", {}),  # a tool without paths: announced at once
        ("no_such_tool", '{"path": "a"}', None),  # the tool run will refuse it: announced at the end
        ("write_f", '{"path": "a"}', None),  # a name still streaming
        ("write_file", '{"content": "' + "x" * ANNOUNCE_SCAN_CHARS + '", "path": "a"', None),
    ],
)
def test_visible_arguments_of_a_call_still_streaming(name, partial, visible):
    assert streamed_arguments(name, partial) == visible


@pytest.mark.parametrize(
    ("raw", "visible"),
    [
        ('{"path": "a.html", "content": "x"}', {"path": "a.html"}),
        ("", {}),
        ("not json", {}),
        ('["a list"]', {}),
    ],
)
def test_visible_arguments_of_a_finished_call(raw, visible):
    assert visible_arguments(raw) == visible


def test_a_turn_tells_its_listener_as_it_goes_and_counts_the_reported_usage(budget):
    stream = Stream(
        [
            chunk(content="Hello "),
            chunk(
                content="there", pieces=[piece(0, id="c", name="write_file", arguments='{"path": "a.html"}')]
            ),
            chunk(finish_reason="tool_calls"),
            SimpleNamespace(choices=[], usage=SimpleNamespace(prompt_tokens=30, completion_tokens=7)),
        ]
    )
    listener = Listener()

    turn = stream_turn(stream, listener=listener, budget=budget, input_estimate=999)

    assert (turn.text, turn.finish_reason, [call["id"] for call in turn.tool_calls]) == (
        "Hello there",
        "tool_calls",
        ["c"],
    )
    assert [event for event in listener.seen if event[0] != "chunk"] == [
        ("text", "Hello "),
        ("text", "there"),
        ("tool_call", "c", "write_file", {"path": "a.html"}),
        ("end",),
    ]
    assert (budget.input_tokens, budget.output_tokens) == (30, 7)


def test_without_reported_usage_the_turn_is_estimated_once(budget):
    text, arguments = "x" * 40, '{"path": "a.html"}'  # 40 + 18 characters: 15 tokens at four a token
    stream = Stream(
        [
            chunk(content=text, pieces=[piece(0, id="c", name="write_file", arguments=arguments)]),
            chunk(finish_reason="stop"),
        ]
    )

    stream_turn(stream, listener=Listener(), budget=budget, input_estimate=120)

    assert (budget.input_tokens, budget.output_tokens) == (120, 15)


def test_a_run_stopped_mid_answer_pays_for_what_streamed(budget):
    stream = Stream([chunk(content="x" * 8), chunk(content="y" * 8), chunk(finish_reason="stop")])

    with pytest.raises(RunStopped):
        stream_turn(stream, listener=Listener(stop_after_chunks=2), budget=budget, input_estimate=50)

    assert (budget.input_tokens, budget.output_tokens) == (50, 4)


@pytest.mark.parametrize(
    "breaks_with",
    [
        None,  # the stream ended without a finish reason
        openai.APIConnectionError(request=None),
        ConnectionResetError(),
    ],
)
def test_an_answer_that_breaks_off_is_a_broken_stream_and_costs_nothing_yet(budget, breaks_with):
    stream = Stream([chunk(content="partial")], breaks_with=breaks_with)

    with pytest.raises(StreamBroken):
        stream_turn(stream, listener=Listener(), budget=budget, input_estimate=50)

    assert (budget.input_tokens, budget.output_tokens) == (0, 0)


def test_a_search_shows_its_pattern_and_nothing_else():
    arguments = '{"pattern": "<title", "literal": true, "max_results": 5}'

    assert visible_arguments(arguments) == {"pattern": "<title"}
    assert streamed_arguments("search_files", arguments[:22]) == {"pattern": "<title"}
    assert streamed_arguments("glob", '{"pat') is None


# ---- the chunks as an endpoint sends them, decoded by ChunkStream and by the SDK's own stream ----


def sse(*events: str) -> bytes:
    return "".join(f"{event}\n\n" for event in events).encode()


def data(**fields) -> str:
    return "data: " + json.dumps({"id": "c1", "object": "chat.completion.chunk", "model": "m", **fields})


def choice(delta=None, finish_reason=None) -> dict:
    return {"index": 0, "delta": delta or {}, "finish_reason": finish_reason}


A_TURN = sse(
    ": a comment line, which an event stream may carry",
    data(choices=[choice({"role": "assistant", "content": "Hello "})]),
    # One event's data over two lines, and a field with no space after its colon.
    'data:{"id": "c1", "object": "chat.completion.chunk", "model": "m",\n'
    'data: "choices": [{"index": 0, "delta": {"content": "there"}, "finish_reason": null}]}',
    "event: message\n"
    + data(
        choices=[
            choice(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": "c",
                            "type": "function",
                            "function": {"name": "write_", "arguments": ""},
                        }
                    ]
                }
            )
        ]
    ),
    data(
        choices=[
            choice(
                {"tool_calls": [{"index": 0, "function": {"name": "file", "arguments": '{"path": "a.html"'}}]}
            )
        ]
    ),
    data(choices=[choice({"tool_calls": [{"index": 0, "function": {"arguments": ', "content": "x"}'}}]})]),
    data(choices=[choice(finish_reason="tool_calls")]),
    data(choices=[], usage={"prompt_tokens": 30, "completion_tokens": 7, "total_tokens": 37}),
    "data: [DONE]",
    data(choices=[choice({"content": "after the end"})]),
)


def client_answering(body: bytes, *, content_type: str = "text/event-stream") -> openai.OpenAI:
    def answer(request):
        return httpx2.Response(200, headers={"content-type": content_type}, content=body)

    return openai.OpenAI(
        api_key="test",
        base_url="http://model.test/v1",
        max_retries=0,
        http_client=httpx2.Client(transport=httpx2.MockTransport(answer)),
    )


def opened(client, model):
    return open_stream(
        client,
        model=model,
        messages=[{"role": "user", "content": "hi"}],
        schemas=[],
        max_tokens=100,
        run_id="r",
    )


@pytest.fixture
def model(demo_catalog):
    return LanguageModel.objects.first()


def turn_of(stream) -> tuple:
    listener = Listener()
    spent = Budget(model=LanguageModel(input_price=1, output_price=1, max_output_tokens=1000), ceiling=100)
    turn = stream_turn(stream, listener=listener, budget=spent, input_estimate=999)
    return turn, listener.seen, (spent.input_tokens, spent.output_tokens)


def test_chunks_decode_to_the_turn_the_sdks_own_stream_gives(model):
    client = client_answering(A_TURN)
    sdk_stream = client.chat.completions.create(
        model="m", messages=[{"role": "user", "content": "hi"}], stream=True
    )

    ours, theirs = turn_of(opened(client, model)), turn_of(sdk_stream)

    assert ours == theirs
    turn, seen, usage = ours
    assert (turn.text, turn.finish_reason, usage) == ("Hello there", "tool_calls", (30, 7))
    assert [(call["id"], call["name"], call["arguments"]) for call in turn.tool_calls] == [
        ("c", "write_file", '{"path": "a.html", "content": "x"}')
    ]
    assert ("tool_call", "c", "write_file", {"path": "a.html"}) in seen


def test_a_field_a_chunk_leaves_out_reads_as_none():
    stream = ChunkStream(SimpleNamespace(iter_lines=lambda: iter(['data: {"choices": [{"delta": {}}]}', ""])))

    (chunk,) = list(stream)

    assert chunk.usage is None
    assert chunk.choices[0].delta.content is None
    assert chunk.choices[0].finish_reason is None


def test_an_error_event_mid_answer_is_a_broken_stream(model):
    body = sse(
        data(choices=[choice({"content": "partial"})]),
        'data: {"error": {"message": "The server had an error", "type": "server_error"}}',
    )

    with pytest.raises(StreamBroken):
        turn_of(opened(client_answering(body), model))


def test_an_answer_cut_before_its_finish_is_a_broken_stream(model):
    body = sse(data(choices=[choice({"content": "partial"})]))[:-1]  # and not even the blank line

    with pytest.raises(StreamBroken):
        turn_of(opened(client_answering(body), model))


def test_a_stream_closes_its_response(model):
    stream = opened(client_answering(A_TURN), model)

    turn_of(stream)

    assert stream.response.http_response.is_closed
