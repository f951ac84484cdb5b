"""What the demo knows of a file from this turn's tool results: whole reads, or pages read by line range.

A client whose read_file takes `start_line`/`end_line` answers a page as a heading
`path: lines A-B of N`, then each line as `number<TAB>text`, then `(no newline at end of file)`
when the page ends a file that has none. The demo reads page after page from line 1 until it
has line N, and puts the file back together exactly. A page it cannot parse is taken as the
whole file, so a client that ignores the range still works.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from oasis_demo_model.outcomes import Outcome

PAGE_LINES = 200
PAGE_HEADING = re.compile(r"^.+: lines (?P<start>\d+)-(?P<end>\d+) of (?P<total>\d+)$")
NUMBERED_LINE = re.compile(r"^\s*(?P<number>\d+)\t")
NO_FINAL_NEWLINE = "(no newline at end of file)"


@dataclass(frozen=True)
class Page:
    start: int
    end: int
    total: int
    lines: tuple[str, ...]
    final_newline: bool


@dataclass(frozen=True)
class ReadProgress:
    """The file as last read in full, and where a read that is still under way goes on."""

    text: str | None = None  # the last complete read, None when there is none
    complete_at: int | None = None  # the index in the history of the read that completed it
    next_start: int | None = None  # the next line to read, while the latest read has more pages
    failed: Outcome | None = None  # the latest failed read, when no complete read followed it
    passes: int = 0  # reads of the file from its first line


def file_text(content: str) -> str:
    """A read_file result as the file's text: the raw text, or the "content" of a JSON object."""
    if content.lstrip().startswith("{"):
        try:
            parsed = json.loads(content)
        except ValueError:
            return content
        if isinstance(parsed, dict) and isinstance(parsed.get("content"), str):
            return parsed["content"]
    return content


def read_arguments(path: str, start: int, *, ranged: bool) -> dict[str, object]:
    """read_file's arguments: the page from `start`, or the whole file when ranges are not offered."""
    if not ranged:
        return {"path": path}
    return {"path": path, "start_line": start, "end_line": start + PAGE_LINES - 1}


def parse_page(content: str) -> Page | None:
    """A numbered page as read_file answers it with a line range; None when the content is not one."""
    heading, *body = content.split("\n")
    match = PAGE_HEADING.match(heading)
    if match is None:
        return None
    start, end, total = (int(match.group(name)) for name in ("start", "end", "total"))
    count = end - start + 1
    final_newline = True
    if len(body) == count + 1 and body[-1] == NO_FINAL_NEWLINE and end == total:
        body, final_newline = body[:-1], False
    if count < 1 or len(body) != count:
        return None
    lines = []
    for number, line in enumerate(body, start=start):
        numbered = NUMBERED_LINE.match(line)
        if numbered is None or int(numbered.group("number")) != number:
            return None
        lines.append(line[numbered.end() :])
    return Page(start, end, total, tuple(lines), final_newline)


def _starts_a_pass(outcome: Outcome) -> bool:
    return outcome.arguments.get("start_line") in (None, 1)


def read_progress(history: Sequence[Outcome]) -> ReadProgress:
    """Follow the reads of one file in order: whole reads, and passes of pages from line 1."""
    progress = ReadProgress()
    pages: list[str] = []
    for index, outcome in enumerate(history):
        if outcome.name != "read_file":
            continue
        progress = replace(progress, passes=progress.passes + _starts_a_pass(outcome), next_start=None)
        if not outcome.ok:
            progress = replace(progress, failed=outcome)
            continue
        page = parse_page(outcome.content) if "start_line" in outcome.arguments else None
        if page is None:
            progress = replace(progress, text=file_text(outcome.content), complete_at=index, failed=None)
            continue
        pages = list(page.lines) if page.start == 1 else [*pages, *page.lines]
        if page.end < page.total:
            progress = replace(progress, next_start=page.end + 1)
            continue
        text = "\n".join(pages) + ("\n" if page.final_newline else "")
        progress = replace(progress, text=text, complete_at=index, failed=None)
    return progress
