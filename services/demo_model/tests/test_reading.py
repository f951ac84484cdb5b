"""Files read back from tool results: whole, or page by page by line range, put back together exactly."""

import pytest

from oasis_demo_model.outcomes import Outcome
from oasis_demo_model.reading import PAGE_LINES, ReadProgress, parse_page, read_arguments, read_progress
from tests.workspace import Workspace


def pages_of(text: str, *, size: int = 2) -> list[Outcome]:
    """The reads the demo makes, answered as the builder answers them, `size` lines a page."""
    workspace = Workspace(files={"a.txt": text})
    outcomes, start = [], 1
    while True:
        arguments = {"path": "a.txt", "start_line": start, "end_line": start + size - 1}
        content = workspace.run("read_file", arguments)
        outcomes.append(Outcome("read_file", arguments, True, content))
        page = parse_page(content)
        if page is None or page.end == page.total:
            return outcomes
        start = page.end + 1


@pytest.mark.parametrize(
    "text",
    [
        "one\ntwo\nthree\n",
        "one\ntwo\nthree",
        "\n\n",
        "crlf\r\nlines\r\n",
        "tab\tinside\n    7\tlooks numbered\n",
        "(no newline at end of file)\n",
        "last line looks like the marker\n(no newline at end of file)",
        "x",
    ],
)
def test_pages_read_in_order_give_back_the_exact_text(text):
    progress = read_progress(pages_of(text))

    assert progress.text == text
    assert progress.next_start is None


def test_a_page_that_does_not_end_the_file_says_where_to_go_on():
    first = pages_of("1\n2\n3\n4\n5\n")[:2]

    assert read_progress(first) == ReadProgress(passes=1, next_start=5)


def test_a_whole_read_is_the_text_as_answered_and_json_content_is_unwrapped():
    outcomes = [
        Outcome("read_file", {"path": "a.txt"}, True, "plain"),
        Outcome("read_file", {"path": "a.txt"}, True, '{"content": "wrapped"}'),
    ]

    assert read_progress(outcomes[:1]).text == "plain"
    assert read_progress(outcomes).text == "wrapped"
    assert read_progress(outcomes).passes == 2


def test_a_failed_read_after_a_full_one_keeps_the_text_and_names_the_failure():
    good = pages_of("a\nb\n")
    failed = Outcome("read_file", {"path": "a.txt", "start_line": 1, "end_line": 200}, False, "error: gone")

    progress = read_progress([*good, failed])

    assert (progress.text, progress.failed, progress.passes) == ("a\nb\n", failed, 2)


@pytest.mark.parametrize(
    "content",
    [
        "a.txt: lines 1-2 of 2\n     1\tonly one line",
        "a.txt: lines 1-2 of 2\n     1\tone\n     3\tskipped",
        "a.txt: lines 2-1 of 2",
        "no heading at all",
        "a.txt: lines 1-1 of 3\n     1\tone\n(no newline at end of file)",
    ],
)
def test_content_that_is_not_a_whole_page_is_not_taken_for_one(content):
    assert parse_page(content) is None


def test_read_arguments_ask_for_a_page_or_the_whole_file():
    assert read_arguments("a.txt", 201, ranged=True) == {
        "path": "a.txt",
        "start_line": 201,
        "end_line": 200 + PAGE_LINES,
    }
    assert read_arguments("a.txt", 1, ranged=False) == {"path": "a.txt"}
