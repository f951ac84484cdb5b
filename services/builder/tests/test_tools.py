"""The tools a model uses: they work on the run's copy, and every mistake is told to the model."""

import json

import pytest

from generations.tools import WorkingCopy, tool_run, tool_schemas


def copy_of(files: dict[str, str], *, binary: tuple[str, ...] = ()) -> WorkingCopy:
    import hashlib

    entries = [
        {
            "path": path,
            "sha256": hashlib.sha256(content.encode()).hexdigest(),
            "size": len(content.encode()),
            "content": None if path in binary else content,
            "is_text": path not in binary,
        }
        for path, content in files.items()
    ]
    return WorkingCopy.from_snapshot({"revision": 3, "files": entries})


def run(copy, name, mode="build", **arguments):
    return tool_run(copy, name=name, raw_arguments=json.dumps(arguments), mode=mode)


def test_an_edit_that_matches_once_is_applied():
    copy = copy_of({"index.html": "<h1>Old</h1><p>Old news</p>"})

    outcome = run(copy, "edit_file", path="index.html", search="<h1>Old</h1>", replace="<h1>New</h1>")

    assert outcome.result == "edited index.html"
    assert copy.files["index.html"].content == "<h1>New</h1><p>Old news</p>"
    assert copy.changes()["writes"] == [{"path": "index.html", "text": "<h1>New</h1><p>Old news</p>"}]


@pytest.mark.parametrize(
    ("content", "search", "told"),
    [
        ("<p>a</p>", "<p>b</p>", "was not found"),
        ("<p>a</p><p>a</p>", "<p>a</p>", "occurs 2 times"),
        ("<p>a</p>", "", "must not be empty"),
        ("<p>a</p>", "<P>A</P>", "was not found"),  # never fuzzy, not even case
    ],
)
def test_an_edit_that_does_not_match_exactly_once_is_refused_and_reported(content, search, told):
    copy = copy_of({"index.html": content})

    outcome = run(copy, "edit_file", path="index.html", search=search, replace="x")

    assert outcome.result.startswith("error:")
    assert told in outcome.result
    assert copy.files["index.html"].content == content
    assert not copy.has_changes()


@pytest.mark.parametrize(
    "path",
    [
        "../outside.html",
        "/etc/passwd",
        "a\\b.html",
        "a//b.html",
        "a/./b.html",
        "nul\x00.html",
        "x" * 5000,
        "\uff0e\uff0e/x",  # fullwidth full stops that fold to ".."
    ],
)
def test_a_path_outside_the_rules_is_refused(path):
    copy = copy_of({})

    outcome = run(copy, "write_file", path=path, content="x")

    assert outcome.result.startswith("error:")
    assert "not an allowed path" in outcome.result
    assert not copy.files


def test_write_creates_and_replaces_files():
    copy = copy_of({"index.html": "old"})

    created = run(copy, "write_file", path="css/site.css", content="body{}")
    replaced = run(copy, "write_file", path="index.html", content="new")

    assert created.changed == {"path": "css/site.css", "action": "created"}
    assert replaced.changed == {"path": "index.html", "action": "modified"}
    assert copy.changes() == {
        "writes": [{"path": "css/site.css", "text": "body{}"}, {"path": "index.html", "text": "new"}],
        "deletes": [],
        "renames": [],
    }


def test_writing_back_the_original_content_is_no_change():
    copy = copy_of({"index.html": "same"})

    run(copy, "write_file", path="index.html", content="same")

    assert not copy.has_changes()


def test_delete_and_rename_become_a_change_set():
    copy = copy_of({"a.html": "a", "logo.png": "", "old.css": "c"}, binary=("logo.png",))

    run(copy, "delete_file", path="a.html")
    run(copy, "rename_file", from_path="logo.png", to_path="img/logo.png")
    run(copy, "rename_file", from_path="old.css", to_path="new.css")
    run(copy, "edit_file", path="new.css", search="c", replace="d")

    assert copy.changes() == {
        "writes": [{"path": "new.css", "text": "d"}],
        "deletes": ["a.html", "old.css"],
        "renames": [{"from": "logo.png", "to": "img/logo.png"}],
    }


@pytest.mark.parametrize(
    ("name", "arguments", "told"),
    [
        ("read_file", {"path": "missing.html"}, "there is no file"),
        ("read_file", {"path": "logo.png"}, "binary"),
        ("delete_file", {"path": "missing.html"}, "there is no file"),
        ("rename_file", {"from_path": "index.html", "to_path": "logo.png"}, "already exists"),
        ("write_file", {"path": "logo.png", "content": "x"}, "binary"),
        ("write_file", {"path": "index.html"}, "`content` must be a string"),
        ("edit_file", {"path": 5, "search": "a", "replace": "b"}, "`path` must be a string"),
    ],
)
def test_mistakes_come_back_as_errors(name, arguments, told):
    copy = copy_of({"index.html": "<h1>x</h1>", "logo.png": ""}, binary=("logo.png",))

    outcome = run(copy, name, **arguments)

    assert outcome.result.startswith("error:")
    assert told in outcome.result


def test_arguments_that_are_not_json_are_reported():
    outcome = tool_run(copy_of({}), name="write_file", raw_arguments='{"path": "a', mode="build")

    assert outcome.result == "error: the arguments are not valid JSON"


def test_chat_mode_offers_and_allows_only_the_read_tools():
    copy = copy_of({"index.html": "<h1>x</h1>"})

    names = [schema["function"]["name"] for schema in tool_schemas(mode="chat")]
    outcome = run(copy, "write_file", mode="chat", path="index.html", content="changed")

    assert names == ["list_files", "read_file"]
    assert outcome.result.startswith("error: there is no tool named 'write_file'")
    assert copy.files["index.html"].content == "<h1>x</h1>"


def test_build_mode_offers_every_tool():
    names = [schema["function"]["name"] for schema in tool_schemas(mode="build")]

    assert names == ["list_files", "read_file", "write_file", "edit_file", "delete_file", "rename_file"]


def test_list_files_shows_sizes_and_binaries():
    copy = copy_of({"index.html": "abc", "logo.png": ""}, binary=("logo.png",))

    assert run(copy, "list_files").result == "index.html (3 bytes)\nlogo.png (0 bytes, binary)"
    assert run(copy_of({}), "list_files").result == "The project has no files yet."
