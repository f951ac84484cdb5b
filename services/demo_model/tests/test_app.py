"""The real server over HTTP, driven by the real OpenAI SDK: builds, follow-ups, chat, streams and usage."""

import asyncio
import http.client
import json
import math
import time

import openai
import pytest

from oasis_demo_model.settings import Settings
from tests.conftest import running
from tests.html_check import html_problems
from tests.workspace import BUILD_TOOLS, CHAT_TOOLS, RICH_TOOLS, Workspace, run_agent

PROMPT = "a bakery in Lisbon with a menu and opening hours"


def built_workspace(client, *, stream: bool = True) -> Workspace:
    workspace = Workspace()
    run_agent(client, workspace, PROMPT, stream=stream)
    return workspace


def test_the_model_list_has_oasis_demo_labelled_not_an_ai(client):
    [model] = client.models.list().data
    assert model.id == "oasis-demo"
    assert "not an AI" in model.model_extra["name"]
    assert client.models.retrieve("oasis-demo").id == "oasis-demo"


@pytest.mark.parametrize(
    ("method", "path"), [("GET", "/healthz"), ("GET", "/v1/models"), ("GET", "/nowhere")]
)
def test_every_response_says_it_comes_from_a_demo_model_not_an_ai(demo, method, path):
    _, headers, _ = demo.request(method, path)
    assert headers["x-oasis-demo"] == "deterministic demo model, not an AI"


def test_health_answers_without_doing_anything(demo):
    status, _, body = demo.request("GET", "/healthz")
    assert status == 200
    assert body == {"status": "ok", "model": "oasis-demo", "note": "deterministic demo model, not an AI"}


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "non-streaming"])
def test_a_build_from_an_empty_project_writes_three_files_and_summarises(client, stream):
    workspace = Workspace()
    run = run_agent(client, workspace, PROMPT, stream=stream)
    assert workspace.tool_names() == ["list_files", "write_file", "write_file", "write_file"]
    assert sorted(workspace.files) == ["index.html", "script.js", "style.css"]
    assert html_problems(workspace.files["index.html"]) == []
    assert "<title>Lisbon Bakery</title>" in workspace.files["index.html"]
    assert run.finish_reasons == ["tool_calls", "tool_calls", "stop"]
    assert run.text.startswith("Oasis demo model (deterministic, not an AI): I built “Lisbon Bakery”")


def test_streamed_and_non_streamed_builds_write_the_same_files(client):
    assert built_workspace(client).files == built_workspace(client, stream=False).files


@pytest.mark.parametrize(
    ("prompt", "path", "expected"),
    [
        ("make the background dark", "style.css", "color-scheme: dark;"),
        ("change the title to Pão & Co", "index.html", "<h1>Pão &amp; Co</h1>"),
        ("add a contact section", "index.html", '<li><a href="#contact">Contact</a></li>'),
        ("make it more fun", "index.html", "<h2>Update: make it more fun</h2>"),
    ],
)
def test_a_follow_up_reads_the_file_then_changes_it_with_edit_file(client, prompt, path, expected):
    workspace = built_workspace(client)
    before = dict(workspace.files)
    workspace.calls.clear()
    run = run_agent(client, workspace, prompt, list_in_prompt=True)
    assert workspace.tool_names()[0] == "read_file"
    assert set(workspace.tool_names()[1:]) == {"edit_file"}
    assert expected in workspace.files[path]
    assert {name: text for name, text in workspace.files.items() if name != path} == {
        name: text for name, text in before.items() if name != path
    }
    assert run.text.startswith("Oasis demo model (deterministic, not an AI): I ")


@pytest.mark.parametrize("stream", [True, False], ids=["streaming", "non-streaming"])
def test_a_follow_up_with_the_rich_tools_plans_searches_reads_a_range_and_edits_once(client, stream):
    workspace = built_workspace(client)
    workspace.calls.clear()

    run = run_agent(client, workspace, "change the title to Pão & Co", tools=RICH_TOOLS, stream=stream)

    assert workspace.tool_names() == ["list_files", "set_plan", "search_files", "read_file", "edit_file"]
    assert workspace.calls[3][1] == {"path": "index.html", "start_line": 1, "end_line": 200}
    assert len(workspace.calls[4][1]["edits"]) == 3
    assert workspace.plans[0][0] == "Find the file to change with search_files"
    assert "<title>Pão &amp; Co</title>" in workspace.files["index.html"]
    assert run.text.endswith("with 3 exact edits.")


def test_a_follow_up_recovers_from_an_edit_that_no_longer_matches(client):
    workspace = built_workspace(client)
    workspace.sabotage_edits["style.css"] = 2
    workspace.calls.clear()
    run = run_agent(client, workspace, "make the background dark", stream=False)
    assert workspace.tool_names() == [
        "list_files",
        "read_file",
        "edit_file",
        "read_file",
        "edit_file",
        "write_file",
    ]
    assert "color-scheme: dark;" in workspace.files["style.css"]
    assert "rewrote it in full" in run.text


def test_chat_mode_answers_in_text_and_changes_nothing(client):
    workspace = built_workspace(client)
    before = dict(workspace.files)
    workspace.calls.clear()
    run = run_agent(client, workspace, "what sections does my site have?", tools=CHAT_TOOLS)
    assert workspace.files == before
    assert set(workspace.tool_names()) <= {"list_files", "read_file"}
    assert "About, Menu, Opening hours" in run.text


def expected_usage(messages, content, tool_calls):
    prompt = sum(len(m.get("content") or "") for m in messages) + sum(
        len(c["function"]["name"]) + len(c["function"]["arguments"])
        for m in messages
        for c in m.get("tool_calls", ())
    )
    completion = len(content or "") + sum(
        len(c.function.name) + len(c.function.arguments) for c in tool_calls
    )
    return math.ceil(prompt / 4), math.ceil(completion / 4)


def test_include_usage_ends_the_stream_with_a_usage_chunk_following_the_documented_rule(client):
    messages = [{"role": "system", "content": "Project files: (none)"}, {"role": "user", "content": PROMPT}]
    chunks = list(
        client.chat.completions.create(
            model="oasis-demo",
            messages=messages,
            tools=BUILD_TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    assert chunks[-1].choices == []
    assert all(chunk.usage is None for chunk in chunks[:-1])
    response = client.chat.completions.create(model="oasis-demo", messages=messages, tools=BUILD_TOOLS)
    prompt_tokens, completion_tokens = expected_usage(messages, None, response.choices[0].message.tool_calls)
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (
        prompt_tokens,
        completion_tokens,
    )
    assert response.usage.prompt_tokens == prompt_tokens
    assert response.usage.completion_tokens == completion_tokens
    assert response.usage.total_tokens == prompt_tokens + completion_tokens


def test_without_include_usage_the_stream_has_no_usage(client):
    chunks = list(
        client.chat.completions.create(
            model="oasis-demo", messages=[{"role": "user", "content": "hi"}], stream=True
        )
    )
    assert all(chunk.usage is None and chunk.choices for chunk in chunks)


def test_tool_call_arguments_arrive_in_several_pieces(client):
    stream = client.chat.completions.create(
        model="oasis-demo",
        messages=[
            {"role": "system", "content": "Project files: (none)"},
            {"role": "user", "content": PROMPT},
        ],
        tools=BUILD_TOOLS,
        stream=True,
    )
    pieces = [
        call for chunk in stream for call in (chunk.choices[0].delta.tool_calls or ()) if call.index == 0
    ]
    assert pieces[0].id
    assert (pieces[0].type, pieces[0].function.name) == ("function", "write_file")
    assert len(pieces) > 10
    assert all(piece.id is None and piece.function.name is None for piece in pieces[1:])


def test_the_stream_is_server_sent_events_ending_in_done(demo):
    connection = http.client.HTTPConnection("127.0.0.1", demo.port, timeout=10)
    body = {"model": "oasis-demo", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    connection.request("POST", "/v1/chat/completions", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    raw = response.read().decode()
    connection.close()
    assert response.getheader("content-type").startswith("text/event-stream")
    events = raw.split("\n\n")
    assert events[-1] == ""
    assert events[-2] == "data: [DONE]"
    assert all(event.startswith("data: {") for event in events[:-2])
    assert {json.loads(event[6:])["object"] for event in events[:-2]} == {"chat.completion.chunk"}


def test_max_tokens_cuts_the_reply_with_finish_reason_length(client):
    response = client.chat.completions.create(
        model="oasis-demo", messages=[{"role": "user", "content": "hello"}], max_tokens=5
    )
    assert response.choices[0].finish_reason == "length"
    assert len(response.choices[0].message.content) == 20
    assert response.usage.completion_tokens == 5


def test_an_unknown_model_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as caught:
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "hi"}])
    assert caught.value.code == "model_not_found"


def test_a_malformed_request_is_a_400(client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="oasis-demo", messages=[])


def test_two_hundred_concurrent_streams_all_complete():
    async def one(client, number):
        stream = await client.chat.completions.create(
            model="oasis-demo",
            messages=[
                {"role": "system", "content": "Project files: (none)"},
                {"role": "user", "content": f"a bakery number {number}"},
            ],
            tools=BUILD_TOOLS,
            stream=True,
            stream_options={"include_usage": True},
        )
        chunks = [chunk async for chunk in stream]
        return chunks[-1].usage is not None and chunks[-2].choices[0].finish_reason == "tool_calls"

    async def all_of_them(server):
        client = server.async_client()
        try:
            return await asyncio.gather(*(one(client, number) for number in range(200)))
        finally:
            await client.close()

    # Big chunks keep the SDK's per-chunk parsing (in this same process) from dominating the test.
    with running(Settings(port=0, chunk_chars=512, access_log=False)) as server:
        assert all(asyncio.run(all_of_them(server)))
        _, _, stats = server.request("GET", "/_control/stats")
    assert stats["by_outcome"] == {"ok": 200}
    assert stats["in_flight"] == 0


def test_calls_that_name_themselves_are_timed_by_the_wall_clock():
    with running(Settings(port=0, latency_ms=100, access_log=False)) as server:
        client = server.client()
        before = time.time()
        for request_id in ("run-1", None):
            extra = {"X-Client-Request-Id": request_id} if request_id else {}
            list(
                client.chat.completions.create(
                    model="oasis-demo",
                    messages=[{"role": "user", "content": "hi"}],
                    stream=True,
                    extra_headers=extra,
                )
            )
        after = time.time()
        _, _, listed = server.request("GET", "/_control/calls")
        _, _, stats = server.request("GET", "/_control/stats")
    # Only the call that sent an id is listed; both count in the summary.
    assert [call["id"] for call in listed["calls"]] == ["run-1"]
    call = listed["calls"][0]
    assert before <= call["received_at"] < call["first_byte_at"] <= after
    assert call["first_byte_at"] - call["received_at"] >= 0.1
    assert stats["first_byte_ms"]["count"] == 2


def test_latency_and_the_token_rate_pace_the_stream():
    with running(Settings(port=0, latency_ms=200, tokens_per_second=400, access_log=False)) as server:
        client = server.client()
        started = time.monotonic()
        stream = client.chat.completions.create(
            model="oasis-demo",
            messages=[{"role": "user", "content": "hi"}],
            stream=True,
            stream_options={"include_usage": True},
        )
        first = None
        for chunk in stream:
            first = first or time.monotonic()
            usage = chunk.usage
        finished = time.monotonic()
    assert first - started >= 0.2
    assert finished - started >= 0.2 + usage.completion_tokens / 400 * 0.9
