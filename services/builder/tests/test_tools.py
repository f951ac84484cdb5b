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


def test_chat_mode_offers_and_allows_only_the_tools_that_read():
    copy = copy_of({"index.html": "<h1>x</h1>"})

    names = [schema["function"]["name"] for schema in tool_schemas(mode="chat")]
    outcome = run(copy, "write_file", mode="chat", path="index.html", content="changed")

    assert names == ["list_files", "read_file", "search_files", "glob"]
    assert outcome.result.startswith("error: there is no tool named 'write_file'")
    assert copy.files["index.html"].content == "<h1>x</h1>"


def test_build_mode_offers_every_tool():
    names = [schema["function"]["name"] for schema in tool_schemas(mode="build")]

    assert names == [
        "list_files",
        "read_file",
        "search_files",
        "glob",
        "write_file",
        "edit_file",
        "delete_file",
        "rename_file",
        "set_plan",
        "ask_user",
    ]


def test_list_files_shows_sizes_and_binaries():
    copy = copy_of({"index.html": "abc", "logo.png": ""}, binary=("logo.png",))

    assert run(copy, "list_files").result == "index.html (3 bytes)\nlogo.png (0 bytes, binary)"
    assert run(copy_of({}), "list_files").result == "The project has no files yet."


PAGE = "<h1>Old</h1>\n<p>Old news</p>\n<footer>Old footer</footer>\n"


@pytest.mark.parametrize(
    ("start", "end", "shown"),
    [
        (2, 2, ["index.html: lines 2-2 of 3", "     2\t<p>Old news</p>"]),
        (
            2,
            None,
            ["index.html: lines 2-3 of 3", "     2\t<p>Old news</p>", "     3\t<footer>Old footer</footer>"],
        ),
        (None, 1, ["index.html: lines 1-1 of 3", "     1\t<h1>Old</h1>"]),
        (3, 99, ["index.html: lines 3-3 of 3", "     3\t<footer>Old footer</footer>"]),  # to the end
    ],
)
def test_a_line_range_reads_those_lines_numbered_with_the_total(start, end, shown):
    arguments = {key: value for key, value in (("start_line", start), ("end_line", end)) if value is not None}

    outcome = run(copy_of({"index.html": PAGE}), "read_file", path="index.html", **arguments)

    assert outcome.result.split("\n") == shown


def test_without_a_range_read_file_answers_the_exact_text():
    assert run(copy_of({"index.html": PAGE}), "read_file", path="index.html").result == PAGE


def test_a_range_that_reaches_a_last_line_without_newline_says_so():
    copy = copy_of({"a.txt": "one\ntwo"})

    assert run(copy, "read_file", path="a.txt", start_line=1).result.split("\n") == [
        "a.txt: lines 1-2 of 2",
        "     1\tone",
        "     2\ttwo",
        "(no newline at end of file)",
    ]


@pytest.mark.parametrize(
    ("content", "arguments", "told"),
    [
        (PAGE, {"start_line": 4}, "`start_line` 4 is past the end of index.html, which has 3 lines"),
        (PAGE, {"start_line": 3, "end_line": 2}, "`end_line` 2 is before `start_line` 3"),
        (PAGE, {"start_line": 0}, "`start_line` must be a whole number of 1 or more"),
        (PAGE, {"end_line": -1}, "`end_line` must be a whole number of 1 or more"),
        (PAGE, {"start_line": "2"}, "`start_line` must be a whole number"),
        (PAGE, {"start_line": 1.5}, "`start_line` must be a whole number"),
        ("", {"start_line": 1}, "index.html is empty: it has no lines to read"),
    ],
)
def test_a_line_range_out_of_bounds_is_refused_clearly(content, arguments, told):
    outcome = run(copy_of({"index.html": content}), "read_file", path="index.html", **arguments)

    assert outcome.result.startswith(f"error: {told}")


def test_several_edits_apply_in_order_as_one_change():
    copy = copy_of({"index.html": PAGE})

    outcome = run(
        copy,
        "edit_file",
        path="index.html",
        edits=[
            {"search": "<h1>Old</h1>", "replace": "<h1>New</h1>"},
            {"search": "<h1>New</h1>\n<p>Old", "replace": "<h1>New</h1>\n<p>Fresh"},  # sees edit 1's result
            {"search": "Old footer", "replace": "New footer"},
        ],
    )

    assert outcome.result == "edited index.html (3 edits)"
    assert outcome.changed == {"path": "index.html", "action": "modified"}
    assert (
        copy.files["index.html"].content == "<h1>New</h1>\n<p>Fresh news</p>\n<footer>New footer</footer>\n"
    )


@pytest.mark.parametrize(
    ("edits", "told"),
    [
        (
            [{"search": "<h1>Old</h1>", "replace": "x"}, {"search": "missing", "replace": "y"}],
            "edit 2 of 2: the search text was not found in index.html",
        ),
        (
            [{"search": "Old footer", "replace": "z"}, {"search": "Old", "replace": "y"}],
            "edit 2 of 2: the search text occurs 2 times in index.html",
        ),
        ([{"search": "", "replace": "y"}], "edit 1 of 1: `search` must not be empty"),
        (
            [{"search": "<h1>Old</h1>", "replace": "<h2>"}, {"search": "<h1>Old</h1>", "replace": "y"}],
            "(as the edits before it left the file)",
        ),
    ],
)
def test_when_one_of_several_edits_fails_none_is_applied_and_it_is_named(edits, told):
    copy = copy_of({"index.html": PAGE})

    outcome = run(copy, "edit_file", path="index.html", edits=edits)

    assert outcome.result.startswith("error: ")
    assert told in outcome.result
    assert outcome.result.endswith("no edit was applied, index.html is unchanged")
    assert copy.files["index.html"].content == PAGE
    assert not copy.has_changes()


@pytest.mark.parametrize(
    ("arguments", "told"),
    [
        ({"edits": []}, "`edits` must be a non-empty list"),
        ({"edits": "swap"}, "`edits` must be a non-empty list"),
        ({"edits": ["x"]}, "edit 1 must be an object with `search` and `replace`"),
        ({"edits": [{"search": "a"}]}, "edit 1: `replace` must be a string"),
        ({"edits": [{"search": "Old", "replace": 2}]}, "edit 1: `replace` must be a string"),
        ({"edits": [{"search": "a", "replace": "b"}] * 51}, "at most 50 edits at once; this call has 51"),
        (
            {"edits": [{"search": "a", "replace": "b"}], "search": "a", "replace": "b"},
            "give either `edits` or one `search` and `replace`, not both",
        ),
    ],
)
def test_malformed_edits_are_refused(arguments, told):
    copy = copy_of({"index.html": PAGE})

    outcome = run(copy, "edit_file", path="index.html", **arguments)

    assert outcome.result.startswith(f"error: {told}")
    assert not copy.has_changes()


def test_several_edits_that_grow_the_file_past_its_limit_change_nothing():
    copy = copy_of({"index.html": PAGE})
    huge = "x" * (512 * 1024)

    outcome = run(copy, "edit_file", path="index.html", edits=[{"search": "Old news", "replace": huge}])

    assert "too large" in outcome.result
    assert not copy.has_changes()


def test_a_plan_is_posted_for_the_runner_and_changes_no_file():
    copy = copy_of({"index.html": PAGE})

    outcome = run(copy, "set_plan", steps=["Find the title", "  Change   it  "])

    assert outcome.result == "plan posted (2 steps); the user sees it"
    assert outcome.plan == ["Find the title", "Change it"]
    assert outcome.changed is None
    assert not copy.has_changes()


@pytest.mark.parametrize(
    ("steps", "told"),
    [
        (None, "`steps` must be a list of 1 to 12 short strings"),
        ([], "`steps` must be a list of 1 to 12 short strings"),
        ("do it", "`steps` must be a list of 1 to 12 short strings"),
        (["a"] * 13, "a plan has at most 12 steps; this one has 13"),
        (["ok", "  "], "step 2 must be a non-empty string"),
        (["ok", 5], "step 2 must be a non-empty string"),
        (["x" * 201], "step 1 is 201 characters long; at most 200"),
    ],
)
def test_a_plan_out_of_bounds_is_refused(steps, told):
    outcome = run(copy_of({}), "set_plan", steps=steps)

    assert outcome.result == f"error: {told}"
    assert outcome.plan is None


def test_a_plan_is_not_a_chat_tool():
    outcome = run(copy_of({}), "set_plan", mode="chat", steps=["a"])

    assert outcome.result.startswith("error: there is no tool named 'set_plan' in this mode")
