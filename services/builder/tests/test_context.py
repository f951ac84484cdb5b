"""What the model is told: the files that fit, and a conversation compacted when long."""

from generations.context import compact_history, file_overview, initial_messages, messages_tokens
from tests.test_tools import copy_of


def test_the_overview_lists_every_file_and_the_contents_that_fit():
    copy = copy_of({"small.css": "a" * 40, "big.html": "b" * 4000})

    overview = file_overview(copy, budget_tokens=200)

    assert "- big.html (4000 bytes)" in overview
    assert "- small.css (40 bytes)" in overview
    assert "--- small.css ---" in overview
    assert "--- big.html ---" not in overview


def test_an_empty_project_says_so():
    assert "no files yet" in file_overview(copy_of({}), budget_tokens=100)


def test_a_short_history_is_kept_verbatim():
    history = [("user", "make a bakery site"), ("assistant", "Built it.")]

    assert compact_history(history, budget_tokens=1000) == [
        {"role": "user", "content": "make a bakery site"},
        {"role": "assistant", "content": "Built it."},
    ]


def test_a_long_history_keeps_recent_turns_shortens_older_and_drops_the_oldest():
    history = [("user", f"request {n} " + "x" * 800) for n in range(30)]

    compacted = compact_history(history, budget_tokens=600)

    assert compacted[-1]["content"].startswith("request 29 ")
    assert len(compacted[-1]["content"]) > 800
    assert any(message["content"].startswith("(earlier, shortened) request") for message in compacted)
    assert not any("request 0 " in message["content"] for message in compacted)
    assert messages_tokens(compacted) <= 600 + 4 * len(compacted)


def test_the_conversation_starts_with_the_user():
    compacted = compact_history([("assistant", "orphan answer"), ("user", "hello")], budget_tokens=1000)

    assert compacted[0]["role"] == "user"


def test_initial_messages_are_system_history_then_prompt():
    messages = initial_messages(
        mode="build",
        prompt="add a contact form",
        copy=copy_of({"index.html": "<h1>x</h1>"}),
        history=[("user", "build a site"), ("assistant", "Done.")],
        budget_tokens=1000,
        history_tokens=500,
    )

    assert [m["role"] for m in messages] == ["system", "user", "assistant", "user"]
    assert "edit_file" in messages[0]["content"]
    assert "--- index.html ---" in messages[0]["content"]
    assert messages[-1] == {"role": "user", "content": "add a contact form"}


def test_chat_mode_is_told_it_cannot_change_files():
    messages = initial_messages(
        mode="chat", prompt="what fonts?", copy=copy_of({}), history=[], budget_tokens=100, history_tokens=100
    )

    assert "cannot change them" in messages[0]["content"]
