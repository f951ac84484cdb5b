"""The next step, decided from the messages alone: list, build, read-then-edit, recover, or answer."""

import json

import pytest

from oasis_demo_model.conversation import (
    Call,
    context_files,
    next_step,
    parse_file_list,
    read_turn,
    tool_failed,
)
from oasis_demo_model.sites import build_site
from tests.workspace import BUILD_TOOLS, CHAT_TOOLS, RICH_TOOLS, Workspace, system_message

PROMPT = "a bakery in Lisbon with a menu and opening hours"
SITE = {file.path: file.content for file in build_site(PROMPT).files}


class Conversation:
    """Drives next_step the way the builder would, without HTTP: apply each step's calls, answer them."""

    def __init__(self, prompt, *, files=None, tools=BUILD_TOOLS, list_in_prompt=False, parallel=None):
        self.workspace = Workspace(files=dict(files or {}))
        self.messages = [
            system_message(self.workspace.files if list_in_prompt else None),
            {"role": "user", "content": prompt},
        ]
        self.tools = tools
        self.parallel = parallel
        self.steps = []

    def step(self):
        step = next_step(read_turn(self.messages, self.tools, parallel_tool_calls=self.parallel))
        self.steps.append(step)
        return step

    def answer(self, step, results=None):
        """Sends the step's calls back with the workspace's results, or with the given ones."""
        number = len(self.messages)
        calls = [
            {
                "id": f"call_{number}_{i}",
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
            for i, call in enumerate(step.calls)
        ]
        self.messages.append({"role": "assistant", "content": None, "tool_calls": calls})
        for index, (call, planned) in enumerate(zip(calls, step.calls, strict=True)):
            result = results[index] if results else self.workspace.run(planned.name, planned.arguments)
            self.messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})

    def run(self, limit=10):
        for _ in range(limit):
            step = self.step()
            if not step.calls:
                return step.text
            self.answer(step)
        raise AssertionError("no final answer")

    def names(self):
        return [[call.name for call in step.calls] for step in self.steps]


def test_without_a_file_list_the_first_step_is_list_files():
    assert Conversation(PROMPT).step().calls == (Call("list_files", {}),)


@pytest.mark.parametrize(
    ("system", "files"),
    [
        ("Project files:\n- index.html (3 KB)\n- css/site.css\n\nMore text", ("index.html", "css/site.css")),
        ("## Project files (2):\n* index.html\n* style.css", ("index.html", "style.css")),
        ("Project files: (none)", ()),
        ("Project files:\n(none)", ()),
        ("Project files: index.html, style.css", ("index.html", "style.css")),
        ("Current project files:\n1. about.html", ("about.html",)),
        ("The project's files:\n- index.html (3181 bytes)\n\nContents:\n--- index.html ---", ("index.html",)),
        ("You work on the project's files.\n\nThe project is empty: there are no files yet.", ()),
        ("The project has no files yet.", ()),
        ("If the project is empty, build it.", None),
        ("No list here.", None),
    ],
)
def test_a_project_files_block_in_the_prompt_gives_the_file_list(system, files):
    assert context_files(system) == files


@pytest.mark.parametrize(
    ("result", "files"),
    [
        ("index.html\nstyle.css", ("index.html", "style.css")),
        ("- index.html (3181 bytes)\n- img/logo.svg\t400", ("index.html", "img/logo.svg")),
        ('["index.html", "style.css"]', ("index.html", "style.css")),
        ('[{"path": "index.html", "size": 3}]', ("index.html",)),
        ('{"files": [{"path": "a.html"}]}', ("a.html",)),
        ("(no files)", ()),
        ("No files yet.", ()),
        ("", ()),
    ],
)
def test_list_files_results_are_read_in_the_usual_shapes(result, files):
    assert parse_file_list(result) == files


@pytest.mark.parametrize(
    ("content", "failed"),
    [
        ("error: search text matched 0 places", True),
        ("Error: no such file", True),
        ('{"error": "path refused"}', True),
        ('{"ok": false, "detail": "x"}', True),
        ("wrote index.html", False),
        ('{"ok": true}', False),
        ("errors.css was written", False),
        ("<!DOCTYPE html>", False),
    ],
)
def test_tool_failures_are_results_starting_with_error(content, failed):
    assert tool_failed(content) is failed


def test_an_empty_project_is_built_with_three_writes_then_a_summary():
    conversation = Conversation(PROMPT)
    text = conversation.run()
    assert conversation.names() == [["list_files"], ["write_file"] * 3, []]
    assert conversation.workspace.files == SITE
    assert text.startswith("Oasis demo model (deterministic, not an AI): I built “Lisbon Bakery”")


def test_a_file_list_in_the_prompt_saves_the_list_files_call():
    conversation = Conversation(PROMPT, list_in_prompt=True)
    conversation.run()
    assert conversation.names()[0] == ["write_file"] * 3


def test_with_parallel_tool_calls_off_each_step_makes_one_call():
    conversation = Conversation(PROMPT, parallel=False)
    conversation.run()
    assert conversation.names() == [["list_files"], ["write_file"], ["write_file"], ["write_file"], []]


def test_a_project_without_a_page_is_built_too():
    conversation = Conversation(PROMPT, files={"notes.txt": "hello"})
    conversation.run()
    assert set(conversation.workspace.files) == {"notes.txt", *SITE}


def test_a_refused_write_is_named_in_the_summary():
    conversation = Conversation(PROMPT, list_in_prompt=True)
    conversation.answer(conversation.step(), results=["wrote", "error: disk full", "wrote"])
    text = conversation.step().text
    assert "index.html" in text
    assert "Not written: style.css (error: disk full)." in text


@pytest.mark.parametrize(
    ("prompt", "path", "expected"),
    [
        ("make the background dark", "style.css", "color-scheme: dark;"),
        ("change the title to Pão & Co", "index.html", "<title>Pão &amp; Co</title>"),
        ("add a contact section", "index.html", '<section id="contact"'),
        ("make it more fun", "index.html", "Update: make it more fun"),
    ],
)
def test_a_follow_up_reads_the_file_then_edits_it(prompt, path, expected):
    conversation = Conversation(prompt, files=SITE, list_in_prompt=True)
    text = conversation.run()
    names = conversation.names()
    assert names[0] == ["read_file"]
    assert set(names[1]) == {"edit_file"}
    assert names[-1] == []
    assert expected in conversation.workspace.files[path]
    assert text.startswith("Oasis demo model (deterministic, not an AI): I ")


def test_edit_searches_are_copied_from_the_file_as_read():
    conversation = Conversation("make it green", files=SITE, list_in_prompt=True)
    conversation.answer(conversation.step())
    [edit] = conversation.step().calls
    assert edit.name == "edit_file"
    assert SITE["style.css"].count(edit.arguments["search"]) == 1


def test_a_failed_edit_is_retried_once_after_reading_the_file_again():
    conversation = Conversation("make the background dark", files=SITE, list_in_prompt=True)
    conversation.workspace.sabotage_edits["style.css"] = 1
    text = conversation.run()
    assert conversation.names() == [["read_file"], ["edit_file"], ["read_file"], ["edit_file"], []]
    assert "color-scheme: dark;" in conversation.workspace.files["style.css"]
    assert text.endswith("with 1 exact edit after re-reading it.")


def test_a_second_failed_edit_falls_back_to_rewriting_the_whole_file():
    conversation = Conversation("make the background dark", files=SITE, list_in_prompt=True)
    conversation.workspace.sabotage_edits["style.css"] = 2
    text = conversation.run()
    assert conversation.names() == [
        ["read_file"],
        ["edit_file"],
        ["read_file"],
        ["edit_file"],
        ["write_file"],
        [],
    ]
    assert "color-scheme: dark;" in conversation.workspace.files["style.css"]
    assert "rewrote it in full" in text


def test_a_change_already_made_is_not_made_again():
    conversation = Conversation("make the background dark", files=SITE, list_in_prompt=True)
    conversation.run()
    again = Conversation("make the background dark", files=conversation.workspace.files, list_in_prompt=True)
    text = again.run()
    assert again.names() == [["read_file"], []]
    assert text.endswith(
        "you asked me to make the background dark, but style.css already has it; nothing changed."
    )


def test_a_rebuild_request_writes_the_site_again():
    conversation = Conversation("start over with a new site for a florist", files=SITE, list_in_prompt=True)
    conversation.run()
    assert conversation.names()[0] == ["write_file"] * 3
    assert "Flowers" in conversation.workspace.files["index.html"]


def test_chat_mode_reads_the_page_and_answers_without_writing():
    conversation = Conversation("what is on my site?", files=SITE, tools=CHAT_TOOLS)
    text = conversation.run()
    assert conversation.names() == [["list_files"], ["read_file"], []]
    assert conversation.workspace.files == SITE
    assert "nothing in the project was changed" in text
    assert "index.html is titled “Lisbon Bakery” and has these sections: About, Menu, Opening hours." in text


@pytest.mark.parametrize("options", [{"tools": None}, {"tool_choice": "none"}])
def test_without_usable_tools_the_answer_is_text(options):
    messages = [{"role": "user", "content": "hello"}]
    step = next_step(
        read_turn(messages, options.get("tools", BUILD_TOOLS), tool_choice=options.get("tool_choice"))
    )
    assert step.calls == ()
    assert step.text.startswith("Oasis demo model (deterministic, not an AI).")


def test_the_same_messages_always_give_the_same_step():
    conversation = Conversation(PROMPT, list_in_prompt=True)
    assert conversation.step() == conversation.step()


def test_only_the_messages_after_the_last_user_prompt_count_as_this_turn():
    conversation = Conversation(PROMPT)
    conversation.run()
    conversation.messages.append({"role": "user", "content": "make the background dark"})
    conversation.steps.clear()
    conversation.run()
    assert conversation.names() == [["list_files"], ["read_file"], ["edit_file"], []]


def rich(prompt, **options):
    return Conversation(
        prompt, files=options.pop("files", SITE), tools=RICH_TOOLS, list_in_prompt=True, **options
    )


@pytest.mark.parametrize(
    ("prompt", "locate", "path", "expected", "summary"),
    [
        ("make the background dark", "glob", "style.css", "color-scheme: dark;", "with 1 exact edit."),
        (
            "change the title to Pão & Co",
            "search_files",
            "index.html",
            "<h1>Pão &amp; Co</h1>",
            "with 3 exact edits.",
        ),
        (
            "add a contact section",
            "search_files",
            "index.html",
            '<section id="contact"',
            "with 2 exact edits.",
        ),
    ],
)
def test_with_the_rich_tools_a_follow_up_plans_locates_reads_a_range_and_edits_once(
    prompt, locate, path, expected, summary
):
    conversation = rich(prompt)

    text = conversation.run()

    assert conversation.names() == [["set_plan", locate], ["read_file"], ["edit_file"], []]
    [read] = conversation.steps[1].calls
    assert read.arguments == {"path": path, "start_line": 1, "end_line": 200}
    [edit] = conversation.steps[2].calls
    assert set(edit.arguments) == {"path", "edits"}
    assert expected in conversation.workspace.files[path]
    assert text.endswith(summary)


def test_the_plan_names_the_steps_the_demo_then_takes():
    conversation = rich("change the title to Pão & Co")

    conversation.run()

    assert conversation.workspace.plans == [
        [
            "Find the file to change with search_files",
            "Read it by line ranges",
            "Change the title to “Pão & Co” with exact edits in one edit_file call",
            "Summarise what changed",
        ]
    ]
    assert conversation.steps[0].calls[1] == Call(
        "search_files", {"pattern": "<title", "literal": True, "path_glob": "**/*.htm*"}
    )


def test_a_plan_step_from_a_long_prompt_is_cut_to_the_plan_bound():
    conversation = rich("add " + "very " * 100 + "long words")

    [plan, _] = conversation.step().calls

    assert all(len(step) <= 200 for step in plan.arguments["steps"])
    assert plan.arguments["steps"][2].endswith("…")


def test_with_parallel_tool_calls_off_the_plan_and_the_search_are_two_steps():
    conversation = rich("make the background dark", parallel=False)

    conversation.run()

    assert conversation.names() == [["set_plan"], ["glob"], ["read_file"], ["edit_file"], []]


def test_the_file_the_search_finds_is_the_one_changed():
    files = {
        **SITE,
        "index.html": SITE["index.html"].replace("<title>", "<!-- t -->").replace("</title>", ""),
        "about.html": "<title>About</title>\n",
    }
    conversation = rich("change the title to Pão & Co", files=files)

    conversation.run()

    assert conversation.workspace.files["about.html"] == "<title>Pão &amp; Co</title>\n"
    assert conversation.workspace.files["index.html"] == files["index.html"]


def test_a_file_longer_than_a_page_is_read_page_by_page_and_edited_exactly():
    long_page = SITE["index.html"].replace("<head>", "<head>\n" + "<!-- filler -->\n" * 450, 1).rstrip("\n")
    conversation = rich("change the title to Pão & Co", files={**SITE, "index.html": long_page})

    text = conversation.run()

    reads = [call.arguments for step in conversation.steps for call in step.calls if call.name == "read_file"]
    assert [(read["start_line"], read["end_line"]) for read in reads] == [(1, 200), (201, 400), (401, 600)]
    assert conversation.workspace.files["index.html"].count("Pão &amp; Co") == 3
    assert not conversation.workspace.files["index.html"].endswith("\n")
    assert text.endswith("with 3 exact edits.")


def test_with_the_rich_tools_a_failed_edit_is_reread_from_line_one_then_the_file_is_rewritten():
    conversation = rich("make the background dark")
    conversation.workspace.sabotage_edits["style.css"] = 2

    text = conversation.run()

    assert conversation.names() == [
        ["set_plan", "glob"],
        ["read_file"],
        ["edit_file"],
        ["read_file"],
        ["edit_file"],
        ["write_file"],
        [],
    ]
    assert conversation.steps[3].calls[0].arguments["start_line"] == 1
    assert "color-scheme: dark;" in conversation.workspace.files["style.css"]
    assert "rewrote it in full" in text


def test_a_client_that_ignores_the_range_still_gets_its_edit():
    conversation = rich("make the background dark")
    conversation.answer(conversation.step())
    conversation.answer(conversation.step(), results=[SITE["style.css"]])  # the whole file, no heading

    [edit] = conversation.step().calls

    assert SITE["style.css"].count(edit.arguments["edits"][0]["search"]) == 1


def test_a_failed_search_does_not_stop_the_follow_up():
    conversation = rich("make the background dark")
    conversation.answer(conversation.step(), results=["plan posted", "error: glob is broken"])

    [read] = conversation.step().calls

    assert read.arguments["path"] == "style.css"


def test_a_change_already_made_is_planned_located_and_read_but_not_made_again():
    done = rich("make the background dark")
    done.run()
    again = rich("make the background dark", files=done.workspace.files)

    text = again.run()

    assert again.names() == [["set_plan", "glob"], ["read_file"], []]
    assert text.endswith("but style.css already has it; nothing changed.")


def test_chat_mode_with_the_rich_read_tools_still_reads_the_whole_page():
    conversation = Conversation(
        "what is on my site?",
        files=SITE,
        tools=[
            t
            for t in RICH_TOOLS
            if t["function"]["name"] in ("list_files", "read_file", "search_files", "glob")
        ],
    )

    conversation.run()

    assert conversation.names() == [["list_files"], ["read_file"], []]
    assert conversation.steps[1].calls[0].arguments == {"path": "index.html"}


@pytest.mark.parametrize("prompt", ["make me a website", "A site, please!", "build a simple landing page"])
def test_a_build_that_names_nothing_to_build_asks_what_the_site_is_for(prompt):
    conversation = Conversation(prompt, tools=RICH_TOOLS, list_in_prompt=True)

    step = conversation.step()

    assert [call.name for call in step.calls] == ["ask_user"]
    assert step.calls[0].arguments["question"].startswith("What is the site for?")


def test_a_build_that_names_its_subject_never_asks():
    conversation = Conversation("a bakery in Lisbon", tools=RICH_TOOLS, list_in_prompt=True)

    assert "ask_user" not in conversation.step().calls[0].name


def test_without_ask_user_offered_a_vague_build_builds_anyway():
    conversation = Conversation("make me a website", list_in_prompt=True)

    assert {call.name for call in conversation.step().calls} == {"write_file"}


def test_once_asked_the_turn_goes_on_to_build():
    conversation = Conversation("make me a website", tools=RICH_TOOLS, list_in_prompt=True)
    conversation.answer(conversation.step())

    assert {call.name for call in conversation.step().calls} == {"write_file"}
    assert conversation.workspace.questions
