"""Sampling options: taken and checked as OpenAI checks them, recorded for tests, never changing answers."""

import openai
import pytest

from oasis_demo_model.protocol import ChatRequest, InvalidRequest

HELLO = [{"role": "user", "content": "hello"}]


def body(**extra) -> dict:
    return {"model": "oasis-demo", "messages": HELLO, **extra}


def test_options_are_read_from_the_request():
    chat = ChatRequest.from_body(body(temperature=0.2, reasoning_effort="low"))

    assert (chat.temperature, chat.reasoning_effort) == (0.2, "low")


@pytest.mark.parametrize(
    ("extra", "param"),
    [
        ({"temperature": 2.5}, "temperature"),
        ({"temperature": -1}, "temperature"),
        ({"temperature": "hot"}, "temperature"),
        ({"temperature": True}, "temperature"),
        ({"reasoning_effort": "extreme"}, "reasoning_effort"),
    ],
)
def test_options_openai_would_refuse_are_a_400_naming_them(extra, param):
    with pytest.raises(InvalidRequest) as refused:
        ChatRequest.from_body(body(**extra))

    assert refused.value.param == param


def test_the_answer_is_the_same_whatever_the_options_and_the_stats_say_what_was_sent(demo, client):
    demo.request("DELETE", "/_control/stats")
    plain = client.chat.completions.create(model="oasis-demo", messages=HELLO)
    tuned = client.chat.completions.create(
        model="oasis-demo", messages=HELLO, temperature=0.3, reasoning_effort="high"
    )

    assert tuned.choices[0].message.content == plain.choices[0].message.content
    assert demo.request("GET", "/_control/stats")[2]["options"] == [
        {},
        {"temperature": 0.3, "reasoning_effort": "high"},
    ]
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="oasis-demo", messages=HELLO, temperature=3)
