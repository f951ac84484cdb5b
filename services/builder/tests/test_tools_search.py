"""search_files and glob: what they find, how they refuse, and that they stay bounded in time and output."""

import time

import pytest

from generations import file_search
from generations.tools import MAX_GLOB_RESULTS, MAX_SEARCH_RESULTS
from tests.test_tools import copy_of, run

SITE = {
    "index.html": "<!doctype html>\n<title>Lisbon Bakery</title>\n<h1>Lisbon Bakery</h1>\n<p>Pastéis</p>\n",
    "about.html": "<title>About</title>\n<p>Since 1920 in Lisbon</p>",
    "css/site.css": "body { color: #111; }\n.hero { color: #222; }\n",
    "css/print/print.css": "body { color: black; }\n",
    "js/app.js": "console.log('lisbon');\n",
}


def test_a_regex_finds_each_matching_line_with_its_path_and_number():
    copy = copy_of(SITE)

    outcome = run(copy, "search_files", pattern=r"color: #\d+")

    assert outcome.result == (
        "css/site.css:1: body { color: #111; }\n"
        "css/site.css:2: .hero { color: #222; }\n"
        "(2 matches in 1 of the 5 text files searched)"
    )
    assert outcome.changed is None


def test_a_literal_search_takes_regex_characters_as_text():
    copy = copy_of({"a.js": "x = a.b(c);\nx = abbc;\n"})

    literal = run(copy, "search_files", pattern="a.b(c)", literal=True)
    regex = run(copy, "search_files", pattern="a.b(c)")

    assert literal.result.splitlines()[0] == "a.js:1: x = a.b(c);"
    assert "(1 matches in 1 of the 1 text files searched)" in literal.result
    assert regex.result.splitlines()[0] == "a.js:2: x = abbc;"


def test_path_glob_limits_the_files_searched_and_binaries_are_skipped():
    copy = copy_of({**SITE, "logo.png": ""}, binary=("logo.png",))

    outcome = run(copy, "search_files", pattern="Lisbon", path_glob="*.html")

    assert outcome.result.splitlines() == [
        "about.html:2: <p>Since 1920 in Lisbon</p>",
        "index.html:2: <title>Lisbon Bakery</title>",
        "index.html:3: <h1>Lisbon Bakery</h1>",
        "(3 matches in 2 of the 2 text files searched)",
    ]


def test_no_match_is_an_answer_not_an_error():
    outcome = run(copy_of(SITE), "search_files", pattern="Porto")

    assert outcome.result == "no line matches 'Porto' in the 5 text files searched"


def test_a_long_line_is_trimmed_around_the_match():
    line = "a" * 1000 + "NEEDLE" + "b" * 1000
    copy = copy_of({"min.css": f"   {line}   \n"})

    [found, _] = run(copy, "search_files", pattern="NEEDLE").result.splitlines()

    text = found.removeprefix("min.css:1: ")
    assert "NEEDLE" in text
    assert text.startswith("…")
    assert text.endswith("…")
    assert len(text) <= file_search.LINE_CHARS + 2


def test_line_numbers_count_newlines_only_and_no_line_follows_the_last_newline():
    copy = copy_of({"a.txt": "one\r\ntwo\x0cstill two\nthree\n"})

    outcome = run(copy, "search_files", pattern="^")

    assert [line.split(":")[1] for line in outcome.result.split("\n")[:-1]] == ["1", "2", "3"]


@pytest.mark.parametrize(
    ("arguments", "told"),
    [
        ({}, "`pattern` must be a string"),
        ({"pattern": ""}, "`pattern` must not be empty"),
        ({"pattern": "x" * 301}, "at most 300 characters"),
        ({"pattern": "(unclosed"}, "not a valid regular expression"),
        (
            {"pattern": "a{99999999999}"},
            "not a valid regular expression (the repetition number is too large)",
        ),
        ({"pattern": "a", "literal": "yes"}, "`literal` must be true or false"),
        ({"pattern": "a", "max_results": 0}, "whole number of 1 or more"),
        ({"pattern": "a", "max_results": 201}, "at most 200"),
        ({"pattern": "a", "max_results": True}, "whole number"),
        ({"pattern": "a", "path_glob": "/abs/*.html"}, "relative to the project root"),
        ({"pattern": "a", "path_glob": 3}, "`path_glob` must be a string"),
    ],
)
def test_bad_search_arguments_come_back_as_errors(arguments, told):
    outcome = run(copy_of(SITE), "search_files", **arguments)

    assert outcome.result.startswith("error:")
    assert told in outcome.result


def test_results_stop_at_max_results_and_say_there_are_more():
    copy = copy_of({"a.txt": "hit\n" * 30})

    lines = run(copy, "search_files", pattern="hit", max_results=10).result.splitlines()

    assert len(lines) == 11
    assert lines[9] == "a.txt:10: hit"
    assert lines[10].startswith("(the first 10 matches; there are more")


def test_a_search_of_a_two_thousand_file_project_is_bounded_in_time_and_output():
    copy = copy_of({f"pages/page-{number:04}.html": "<p>Menu</p>\n" * 40 for number in range(2000)})

    started = time.monotonic()
    regex = run(copy, "search_files", pattern="Men[u]", max_results=MAX_SEARCH_RESULTS)
    literal = run(copy, "search_files", pattern="nothing here", literal=True)
    elapsed = time.monotonic() - started

    assert elapsed < 5
    assert len(regex.result.splitlines()) == MAX_SEARCH_RESULTS + 1
    assert len(regex.result) < MAX_SEARCH_RESULTS * 100
    assert literal.result == "no line matches 'nothing here' in the 2000 text files searched"


def test_a_catastrophic_regex_is_stopped_and_reported(monkeypatch):
    monkeypatch.setattr(file_search, "SEARCH_SECONDS", 0.5)
    copy = copy_of({"a.txt": "a" * 40 + "!\n"})

    started = time.monotonic()
    outcome = run(copy, "search_files", pattern="(a+)+$")

    assert time.monotonic() - started < 3
    assert outcome.result.startswith("error: the search took longer than 0.5 s and was stopped")
    assert "literal: true" in outcome.result


def test_a_search_that_cannot_start_its_process_is_an_error_not_an_exception(monkeypatch):
    monkeypatch.setattr(file_search.sys, "executable", "/nonexistent/python")

    outcome = run(copy_of(SITE), "search_files", pattern="Lisbon")

    assert outcome.result == "error: the search could not run; try again, or pass literal: true"


@pytest.mark.parametrize(
    ("pattern", "paths"),
    [
        ("*.html", ["about.html", "index.html"]),
        ("**/*.css", ["css/print/print.css", "css/site.css"]),
        ("css/*.css", ["css/site.css"]),
        ("css/**", ["css/print/print.css", "css/site.css"]),
        ("**/print.css", ["css/print/print.css"]),
        ("**", ["about.html", "css/print/print.css", "css/site.css", "index.html", "js/app.js"]),
        ("[ai]*.html", ["about.html", "index.html"]),
        ("?s/app.js", ["js/app.js"]),
    ],
)
def test_glob_lists_the_matching_paths_sorted(pattern, paths):
    assert run(copy_of(SITE), "glob", pattern=pattern).result.splitlines() == paths


def test_a_glob_that_matches_nothing_says_so():
    assert run(copy_of(SITE), "glob", pattern="**/*.png").result == "no file matches **/*.png"


@pytest.mark.parametrize(
    ("arguments", "told"),
    [
        ({}, "`pattern` must be a string"),
        ({"pattern": ""}, "`pattern` must not be empty"),
        ({"pattern": "/index.html"}, "relative to the project root"),
        ({"pattern": "*" * 301}, "at most 300 characters"),
    ],
)
def test_bad_glob_arguments_come_back_as_errors(arguments, told):
    outcome = run(copy_of(SITE), "glob", **arguments)

    assert outcome.result.startswith("error:")
    assert told in outcome.result


def test_glob_shows_at_most_its_bound_and_says_how_many_matched():
    copy = copy_of({f"p/{number:04}.html": "" for number in range(MAX_GLOB_RESULTS + 50)})

    lines = run(copy, "glob", pattern="p/*.html").result.splitlines()

    assert len(lines) == MAX_GLOB_RESULTS + 1
    assert (
        lines[-1]
        == f"({MAX_GLOB_RESULTS} of {MAX_GLOB_RESULTS + 50} matching files shown; narrow the pattern)"
    )


def test_a_glob_full_of_stars_takes_no_time_on_a_long_path():
    path = "/".join(["a" * 60] * 30)
    copy = copy_of({path: ""})

    started = time.monotonic()
    outcome = run(copy, "glob", pattern="/".join(["*a*a*a*a*a*b"] * 8 + ["**"] * 10))

    assert time.monotonic() - started < 1
    assert outcome.result.startswith("no file matches")
