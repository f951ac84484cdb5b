"""The model may end a build with a question (ask_user): the run ends `needs_input`; the answer goes on."""

import json

from generations import tools
from generations.models import Event, Message, Status
from tests.test_runner import run, start


def test_a_vague_build_ends_with_the_models_question_charged_and_nothing_applied(demo, fakes, user_id):
    projects, payments = fakes
    project_id = projects.add(user_id)

    generation = run(start(user_id, project_id, prompt="make me a website")["id"])

    assert generation.status == Status.NEEDS_INPUT
    assert generation.summary.startswith("What is the site for?")
    assert generation.revision is None
    assert projects.applied == []
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0
    last = Event.objects.filter(generation=generation).order_by("-seq").first()
    assert (last.type, last.data["summary"]) == ("needs_input", generation.summary)
    answer = Message.objects.get(generation=generation, role="assistant")
    assert answer.content == generation.summary


def test_the_users_answer_continues_the_conversation_and_builds(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    asked = run(start(user_id, project_id, prompt="make me a website")["id"])

    built = run(start(user_id, project_id, prompt="A bakery called Crumb in Lisbon")["id"])

    assert built.status == Status.DONE
    assert built.conversation_id == asked.conversation_id
    assert built.revision == 1
    assert "Crumb" in projects.projects[project_id].files["index.html"]


def test_a_question_must_be_a_short_non_empty_string():
    copy = tools.WorkingCopy.from_snapshot({"revision": 0, "files": []})

    def ask(arguments):
        return tools.tool_run(copy, name="ask_user", raw_arguments=json.dumps(arguments), mode="build")

    assert ask({"question": "  What   colours? "}).question == "What colours?"
    assert ask({"question": ""}).result.startswith("error:")
    assert ask({"question": "x" * 501}).result.startswith("error:")
    assert ask({}).result.startswith("error:")
    assert tools.tool_run(copy, name="ask_user", raw_arguments="{}", mode="chat").result.startswith("error:")
