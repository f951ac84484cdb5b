"""The conversation a client renders: each answer carries its run's status, cost, tool calls and files."""

import pytest

from catalog.models import LanguageModel
from generations.models import Event, Generation, Message, Mode, Role, Status

BASE = "/api/v1/builder"


@pytest.fixture
def project_id(demo_catalog, fakes, user_id):
    projects, _ = fakes
    return projects.add(user_id)


def finished_run(*, user_id, project_id, events: list[tuple[str, dict]], **fields) -> Generation:
    """A run as the runner leaves it: its prompt, its events in order, and its answer."""
    run = Generation.objects.create(
        user_id=user_id,
        project_id=project_id,
        model=LanguageModel.objects.first(),
        mode=Mode.CHAT,
        prompt="make it so",
        **fields,
    )
    Message.objects.create(
        project_id=project_id, user_id=user_id, generation=run, role=Role.USER, content="make it so"
    )
    for seq, (type, data) in enumerate(events, start=1):
        Event.objects.create(generation=run, seq=seq, type=type, data=data)
    Message.objects.create(
        project_id=project_id, user_id=user_id, generation=run, role=Role.ASSISTANT, content="ok"
    )
    return run


BUILD_EVENTS = [
    ("status", {"status": "running"}),
    ("tool_call", {"id": "a", "name": "write_file", "arguments": {"path": "index.html"}}),
    ("file_changed", {"path": "index.html", "action": "created"}),
    ("tool_call", {"id": "b", "name": "write_file", "arguments": {"path": "css/site.css"}}),
    ("file_changed", {"path": "css/site.css", "action": "created"}),
    ("tool_call", {"id": "c", "name": "edit_file", "arguments": {"path": "index.html"}}),
    ("file_changed", {"path": "index.html", "action": "modified"}),
    ("done", {"status": "done", "cost": 42}),
]


def messages(api, project_id) -> list[dict]:
    response = api.get(f"{BASE}/projects/{project_id}/messages/")
    assert response.status_code == 200, response.content
    return response.json()["results"]


def test_an_answer_carries_its_runs_status_cost_tool_calls_and_files(api, project_id, user_id):
    run = finished_run(
        user_id=user_id,
        project_id=project_id,
        events=BUILD_EVENTS,
        status=Status.DONE,
        cost=42,
        ceiling=90,
        revision=3,
    )

    prompt, answer = messages(api, project_id)

    assert prompt["role"] == "user"
    assert prompt["run"] is None
    assert answer["generation_id"] == str(run.id)
    assert answer["run"] == {
        "status": "done",
        "cost": 42,
        "revision": 3,
        "tool_calls": 3,
        "files_touched": ["index.html", "css/site.css"],
    }


def test_a_run_that_touched_nothing_reports_zero_tools_and_no_files(api, project_id, user_id):
    finished_run(
        user_id=user_id,
        project_id=project_id,
        events=[("status", {"status": "running"}), ("cancelled", {})],
        status=Status.CANCELLED,
    )

    answer = messages(api, project_id)[-1]

    assert answer["run"] == {
        "status": "cancelled",
        "cost": 0,
        "revision": None,
        "tool_calls": 0,
        "files_touched": [],
    }


def test_each_answer_has_its_own_runs_numbers(api, project_id, user_id):
    first = finished_run(
        user_id=user_id, project_id=project_id, events=BUILD_EVENTS, status=Status.DONE, cost=5, ceiling=9
    )
    second = finished_run(
        user_id=user_id,
        project_id=project_id,
        events=BUILD_EVENTS[:3],
        status=Status.FAILED,
        cost=0,
        ceiling=9,
    )

    answers = {m["generation_id"]: m["run"] for m in messages(api, project_id) if m["role"] == "assistant"}

    assert answers[str(first.id)]["tool_calls"] == 3
    assert answers[str(second.id)] == {
        "status": "failed",
        "cost": 0,
        "revision": None,
        "tool_calls": 1,
        "files_touched": ["index.html"],
    }


@pytest.mark.parametrize("runs", [1, 4])
def test_a_page_takes_four_queries_however_many_runs_it_shows(
    api, project_id, user_id, runs, django_assert_num_queries
):
    for _ in range(runs):
        finished_run(
            user_id=user_id, project_id=project_id, events=BUILD_EVENTS, status=Status.DONE, cost=1, ceiling=9
        )

    # The count, the page, the runs with their tool calls, and the files they changed.
    with django_assert_num_queries(4):
        listed = messages(api, project_id)

    assert len(listed) == 2 * runs


def test_a_conversation_without_answers_takes_two_queries(
    api, project_id, user_id, django_assert_num_queries
):
    Message.objects.create(project_id=project_id, user_id=user_id, role=Role.USER, content="hello")

    with django_assert_num_queries(2):
        assert messages(api, project_id)[0]["run"] is None


def test_another_users_conversation_is_404(other_api, project_id, user_id):
    finished_run(
        user_id=user_id, project_id=project_id, events=BUILD_EVENTS, status=Status.DONE, cost=1, ceiling=9
    )

    response = other_api.get(f"{BASE}/projects/{project_id}/messages/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"
    assert "make it so" not in response.content.decode()


def test_a_bad_ordering_is_400_in_the_error_envelope(api, project_id):
    response = api.get(f"{BASE}/projects/{project_id}/messages/?ordering=cost")

    assert response.status_code == 400
    assert "ordering" in response.json()["error"]["details"]


def test_an_answer_never_shows_another_users_run(api, project_id, user_id, other_user_id):
    theirs = finished_run(
        user_id=other_user_id,
        project_id=project_id,
        events=BUILD_EVENTS,
        status=Status.DONE,
        cost=7,
        ceiling=9,
    )
    Message.objects.create(
        project_id=project_id, user_id=user_id, generation=theirs, role=Role.ASSISTANT, content="stray"
    )

    (answer,) = messages(api, project_id)

    assert answer["content"] == "stray"
    assert answer["run"] is None
