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
from tests.workspace import BUILD_TOOLS, CHAT_TOOLS, Workspace, system_message

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
