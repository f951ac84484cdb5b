"""Injected failures as the OpenAI SDK sees them, and the /_control/ API that queues them."""

import json
import time

import openai
import pytest

from oasis_demo_model.settings import Settings
from tests.conftest import running
from tests.workspace import BUILD_TOOLS as TOOLS

HELLO = [{"role": "user", "content": "hello"}]
BUILD = [
    {"role": "system", "content": "Project files: (none)"},
    {"role": "user", "content": "a bakery in Lisbon"},
]


def queue(demo, *faults):
    status, _, body = demo.request("POST", "/_control/faults", {"faults": list(faults)})
    assert status == 200, body
    return body


def outcomes(demo):
    return demo.request("GET", "/_control/stats")[2]["by_outcome"]


def delta(before, after):
    return {
        kind: after.get(kind, 0) - before.get(kind, 0)
        for kind in after
        if after.get(kind, 0) != before.get(kind, 0)
    }


def test_a_429_reaches_the_sdk_as_a_rate_limit_error_with_retry_after(demo, client):
    queue(demo, {"kind": "429", "retry_after_ms": 1500})
    with pytest.raises(openai.RateLimitError) as caught:
        client.chat.completions.create(model="oasis-demo", messages=HELLO)
    assert caught.value.status_code == 429
    assert caught.value.response.headers["retry-after"] == "2"
    assert caught.value.response.headers["retry-after-ms"] == "1500"
    assert caught.value.code == "rate_limit_exceeded"


def test_a_429_then_success_is_retried_by_the_sdk_after_the_announced_delay(demo):
    before = outcomes(demo)
    queue(demo, "429")
    started = time.monotonic()
    response = demo.client(max_retries=2).chat.completions.create(model="oasis-demo", messages=HELLO)
    assert response.choices[0].finish_reason == "stop"
    assert time.monotonic() - started >= 0.05
    assert delta(before, outcomes(demo)) == {"429": 1, "ok": 1}


def test_five_hundreds_queued_four_times_fail_four_requests_then_pass(demo, client):
    queue(demo, *["500"] * 4)
    for _ in range(4):
        with pytest.raises(openai.InternalServerError):
            client.chat.completions.create(model="oasis-demo", messages=HELLO, stream=True)
    assert client.chat.completions.create(model="oasis-demo", messages=HELLO).choices[0].message.content


def test_a_timeout_is_an_api_timeout_error_and_the_server_lets_go(demo):
    before = outcomes(demo)
    queue(demo, "timeout")
    started = time.monotonic()
    with pytest.raises(openai.APITimeoutError):
        demo.client(timeout=0.5).chat.completions.create(model="oasis-demo", messages=HELLO, stream=True)
    assert time.monotonic() - started < 3
    deadline = time.monotonic() + 3
    while demo.request("GET", "/_control/stats")[2]["in_flight"] and time.monotonic() < deadline:
        time.sleep(0.02)
    assert delta(before, outcomes(demo)) == {"timeout": 1}


def test_a_timeout_the_client_outlasts_ends_in_a_504(demo):
    queue(demo, {"kind": "timeout", "hang_seconds": 0.1})
    with pytest.raises(openai.APIStatusError) as caught:
        demo.client(timeout=5).chat.completions.create(model="oasis-demo", messages=HELLO)
    assert caught.value.status_code == 504


def test_a_broken_stream_raises_mid_iteration_after_some_chunks(demo, client):
    queue(demo, {"kind": "broken_stream", "after_chunks": 5})
    received = []
    stream = client.chat.completions.create(model="oasis-demo", messages=BUILD, stream=True)
    with pytest.raises(openai.APIConnectionError):
        received.extend(stream)
    assert len(received) == 5
    assert all(chunk.choices[0].finish_reason is None for chunk in received)


def test_a_broken_stream_uses_the_default_cut_when_none_is_given(demo, client):
    queue(demo, "broken_stream")
    stream = client.chat.completions.create(model="oasis-demo", messages=BUILD, stream=True)
    received = []
    with pytest.raises(openai.APIConnectionError):
        received.extend(stream)
    assert len(received) == 3


def test_a_broken_non_streaming_response_is_a_connection_error(demo, client):
    queue(demo, "broken_stream")
    with pytest.raises(openai.APIConnectionError):
        client.chat.completions.create(model="oasis-demo", messages=BUILD)


@pytest.mark.parametrize(
    ("model", "error"),
    [("oasis-demo:fail-429", openai.RateLimitError), ("oasis-demo:fail-500", openai.InternalServerError)],
)
def test_a_model_name_can_make_every_request_fail(client, model, error):
    for _ in range(2):
        with pytest.raises(error):
            client.chat.completions.create(model=model, messages=HELLO)


def test_queued_faults_can_be_listed_and_cleared(demo):
    assert queue(demo, "429", {"kind": "timeout", "hang_seconds": 1}) == {
        "queued": [{"kind": "429"}, {"kind": "timeout", "hang_seconds": 1.0}]
    }
    assert demo.request("GET", "/_control/faults")[2] == {
        "queued": [{"kind": "429"}, {"kind": "timeout", "hang_seconds": 1.0}]
    }
    assert demo.request("DELETE", "/_control/faults")[2] == {"queued": []}


@pytest.mark.parametrize("body", [{"faults": ["418"]}, {"faults": "429"}, {"nothing": []}, [1]])
def test_a_fault_the_demo_does_not_know_is_refused_and_nothing_is_queued(demo, body):
    status, _, answer = demo.request("POST", "/_control/faults", body)
    assert status == 400
    assert answer["error"]["code"] == "invalid_fault"
    assert demo.request("GET", "/_control/faults")[2] == {"queued": []}


def test_stats_count_requests_by_outcome_and_can_be_reset(demo, client):
    demo.request("DELETE", "/_control/stats")
    queue(demo, "500")
    with pytest.raises(openai.InternalServerError):
        client.chat.completions.create(model="oasis-demo", messages=HELLO)
    client.chat.completions.create(model="oasis-demo", messages=HELLO)
    with pytest.raises(openai.NotFoundError):
        client.chat.completions.create(model="nope", messages=HELLO)
    stats = demo.request("GET", "/_control/stats")[2]
    assert stats["requests"] == 3
    assert stats["by_outcome"] == {"500": 1, "bad_request": 1, "ok": 1}
    assert stats["first_byte_ms"]["count"] == 2


def test_the_control_api_can_be_switched_off():
    with running(Settings(port=0, control=False, access_log=False)) as server:
        assert server.request("POST", "/_control/faults", {"faults": ["500"]})[0] == 404
        assert server.request("GET", "/_control/stats")[0] == 404
        assert server.client().chat.completions.create(model="oasis-demo", messages=HELLO).choices


def test_random_failures_come_from_the_environment_settings():
    with running(Settings(port=0, fail_rate=1.0, fail_kinds=("500",), access_log=False)) as server:
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                server.client().chat.completions.create(model="oasis-demo", messages=HELLO)


@pytest.mark.parametrize("finish_reason", ["length", "content_filter"])
def test_a_cut_answer_streams_what_it_had_and_ends_with_that_finish_reason(demo, client, finish_reason):
    queue(demo, {"kind": finish_reason, "after_tokens": 3})

    chunks = list(client.chat.completions.create(model="oasis-demo", messages=HELLO, stream=True))

    text = "".join(choice.delta.content or "" for chunk in chunks for choice in chunk.choices)
    reasons = [choice.finish_reason for chunk in chunks for choice in chunk.choices if choice.finish_reason]
    assert len(text) == 12  # three tokens of four characters
    assert reasons == [finish_reason]


def test_a_build_cut_by_length_leaves_a_tool_call_whose_arguments_do_not_parse(demo, client):
    queue(demo, "length")

    response = client.chat.completions.create(model="oasis-demo", messages=BUILD, tools=TOOLS)

    choice = response.choices[0]
    assert choice.finish_reason == "length"
    with pytest.raises(json.JSONDecodeError):
        json.loads(choice.message.tool_calls[0].function.arguments)


def test_a_model_ignoring_tools_answers_a_build_in_plain_text(demo, client):
    queue(demo, "ignore_tools")

    ignored = client.chat.completions.create(model="oasis-demo", messages=BUILD, tools=TOOLS)
    followed = client.chat.completions.create(model="oasis-demo", messages=BUILD, tools=TOOLS)

    assert ignored.choices[0].finish_reason == "stop"
    assert ignored.choices[0].message.tool_calls is None
    assert ignored.choices[0].message.content
    assert followed.choices[0].finish_reason == "tool_calls"


@pytest.mark.parametrize(
    ("kind", "error", "code"),
    [
        ("401", openai.AuthenticationError, "invalid_api_key"),
        ("404", openai.NotFoundError, "model_not_found"),
    ],
)
def test_a_refused_key_or_model_is_the_sdks_own_error(demo, client, kind, error, code):
    queue(demo, kind)

    with pytest.raises(error) as caught:
        client.chat.completions.create(model="oasis-demo", messages=HELLO, stream=True)

    assert caught.value.code == code


def test_an_answer_that_is_not_the_protocol_is_an_html_page_with_200(demo, client):
    queue(demo, "not_openai")

    stream = client.chat.completions.create(model="oasis-demo", messages=HELLO, stream=True)

    assert stream.response.status_code == 200
    assert stream.response.headers["content-type"].startswith("text/html")
    assert list(stream) == []
