"""The tools in a real run: the demo model plans, searches, reads a range and edits once, all as events."""

import json

from generations import tools
from generations.models import Event, Status
from tests.test_runner import run, start


def events_of(generation) -> list[Event]:
    return list(Event.objects.filter(generation=generation).order_by("seq"))


def test_a_follow_up_build_posts_a_plan_then_searches_reads_a_range_and_edits_once(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    run(start(user_id, project_id)["id"])
    before = dict(projects.projects[project_id].files)

    generation = run(start(user_id, project_id, prompt="change the title to Pastelaria")["id"])

    assert generation.status == Status.DONE, generation.error_message
    events = events_of(generation)
    calls = [event.data for event in events if event.type == "tool_call"]
    assert [call["name"] for call in calls] == ["set_plan", "search_files", "read_file", "edit_file"]
    assert all(event.data["ok"] for event in events if event.type == "tool_result")
    [plan] = [event.data for event in events if event.type == "plan"]
    assert plan == {
        "steps": [
            "Find the file to change with search_files",
            "Read it by line ranges",
            "Change the title to “Pastelaria” with exact edits in one edit_file call",
            "Summarise what changed",
        ]
    }
    types = [event.type for event in events]
    assert types.index("plan") < types.index("file_changed")
    assert [event.data for event in events if event.type == "file_changed"] == [
        {"path": "index.html", "action": "modified"}
    ]
    after = projects.projects[project_id].files
    assert after["index.html"].count("Pastelaria") == 3
    assert {path for path in after if after[path] != before[path]} == {"index.html"}
    assert generation.summary.endswith("in index.html with 3 exact edits.")


def test_the_model_reads_a_line_range_and_sends_its_edits_in_one_call(demo, fakes, user_id, monkeypatch):
    projects, _ = fakes
    project_id = projects.add(user_id)
    run(start(user_id, project_id)["id"])
    ran = []
    tool_run = tools.tool_run

    def recorded(copy, *, name, raw_arguments, mode):
        outcome = tool_run(copy, name=name, raw_arguments=raw_arguments, mode=mode)
        ran.append((name, json.loads(raw_arguments), outcome.result))
        return outcome

    monkeypatch.setattr(tools, "tool_run", recorded)

    generation = run(start(user_id, project_id, prompt="make the background dark")["id"])

    assert generation.status == Status.DONE, generation.error_message
    assert [name for name, _, _ in ran] == ["set_plan", "glob", "read_file", "edit_file"]
    (_, located, found), (_, read, page), (_, edit, edited) = ran[1:]
    assert (located, found) == ({"pattern": "**/*.css"}, "style.css")
    assert read == {"path": "style.css", "start_line": 1, "end_line": 200}
    assert page.startswith("style.css: lines 1-")
    assert set(edit) == {"path", "edits"}
    assert edited == "edited style.css (1 edit)"
    assert "color-scheme: dark;" in projects.projects[project_id].files["style.css"]
