"""What real endpoints send that the demo does not by default: cut answers, filters, plain-text builds,
refused keys and models, and bodies that are not the protocol (each reproduced with the demo's faults)."""

import pytest

from catalog.models import LanguageModel
from generations.models import Event, Message, Role, Status
from tests.test_runner import run, start

PAGE = {"index.html": "<!doctype html><html lang='en'><body><h1>Hi</h1></body></html>"}


def terminal(generation) -> Event:
    return Event.objects.filter(generation=generation).order_by("-seq").first()


def answer(generation) -> str:
    return Message.objects.get(generation=generation, role=Role.ASSISTANT).content


@pytest.mark.parametrize(
    ("faults", "code"),
    [
        # Every turn limited to 20 tokens: the tool calls fit, the answer is cut.
        ([{"kind": "length", "after_tokens": 20}] * 6, "output_limit"),
        (["content_filter"], "content_filtered"),
    ],
)
def test_a_cut_chat_answer_is_incomplete_never_a_finished_answer(demo, fakes, user_id, faults, code):
    projects, payments = fakes
    project_id = projects.add(user_id, PAGE)
    demo.faults(*faults)

    generation = run(start(user_id, project_id, prompt="what colours does my site use?", mode="chat")["id"])

    assert (generation.status, generation.error_code) == (Status.INCOMPLETE, code)
    event = terminal(generation)
    assert event.type == "incomplete"
    partial = event.data["error"]["details"]["partial_text"]
    if code == "output_limit":
        # The half answer is kept for the record, and never shown as the answer.
        assert partial
        assert partial not in answer(generation)
    assert generation.summary == ""
    assert "Nothing was applied" in answer(generation)
    # Paid for like a reached limit: the tokens were used.
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0


def test_a_build_cut_among_its_tool_calls_recovers_and_lands(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    demo.faults("length")  # the first write_file's arguments stop mid-string

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert len(projects.applied) == 1
    results = Event.objects.filter(generation=generation, type="tool_result").order_by("seq")
    assert results.first().data["ok"] is False


def test_a_build_answered_in_plain_text_is_nudged_once_and_then_builds(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    demo.faults("ignore_tools")

    generation = run(start(user_id, project_id)["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert generation.revision is not None
    assert len(projects.applied) == 1


def test_a_build_that_changes_nothing_says_no_changes_with_the_models_words(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id, PAGE)
    demo.faults("ignore_tools", "ignore_tools")

    generation = run(start(user_id, project_id, prompt="make the heading say Pastelaria")["id"])

    assert generation.status == Status.NO_CHANGES
    assert generation.revision is None
    assert projects.applied == []
    event = terminal(generation)
    assert event.type == "no_changes"
    assert event.data["summary"] == generation.summary == answer(generation)
    assert generation.summary
    assert "error" not in event.data
    assert demo.stats()["requests"] == 2  # the answer, then one nudge: never more
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0


@pytest.mark.parametrize("fault", ["401", "404", "not_openai"])
def test_a_misconfigured_endpoint_fails_the_run_free_and_the_catalog_says_why(demo, fakes, user_id, fault):
    projects, payments = fakes
    project_id = projects.add(user_id)
    demo.faults(fault)

    generation = run(start(user_id, project_id)["id"])

    assert (generation.status, generation.error_code, generation.cost) == (
        Status.FAILED,
        "model_misconfigured",
        0,
    )
    assert payments.hold_for(generation.id)["status"] == "released"
    assert projects.applied == []
    assert demo.stats()["requests"] == 1  # nothing retried: a retry cannot mend it
    model = LanguageModel.objects.get(slug="oasis-demo")
    assert model.problem
    assert model.problem_at is not None

    healed = run(start(user_id, project_id)["id"])

    assert healed.status == Status.DONE
    assert LanguageModel.objects.get(slug="oasis-demo").problem == ""
