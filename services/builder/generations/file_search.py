"""Finding paths (globs, `**` across folders) and lines (regex or literal) in a run's files, bounded.

Python's `re` can take exponential time on some patterns (`(a+)+$`) and holds the GIL while it
does, which would stall every run of the worker process. So a regular expression is searched in a
child process that is killed after SEARCH_SECONDS; a literal, escaped, matches in linear time and
is searched in process. This module imports only the standard library: it is also the child's
program (`python -I -S -B file_search.py`, the request as JSON on stdin, the matches on stdout).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from fnmatch import fnmatchcase

SEARCH_SECONDS = 3.0
LINE_CHARS = 200


class SearchTooSlow(Exception):
    """The pattern did not finish within SEARCH_SECONDS."""


class SearchFailed(Exception):
    """The child process could not run or answered nonsense."""


@dataclass(frozen=True)
class Match:
    path: str
    line: int  # 1-based
    text: str  # the line, trimmed to about LINE_CHARS around the match


def text_lines(text: str) -> list[str]:
    """The lines of a text split on "\\n" only; a final newline ends the last line instead of adding one."""
    lines = text.split("\n")
    if text.endswith("\n") or not text:
        lines.pop()
    return lines


def path_matches(pattern: str, path: str) -> bool:
    """Whether `path` matches the glob: `*`, `?` and `[…]` within one folder, a `**` part across folders.

    Matched part by part, keeping the set of pattern positions reached (no backtracking), so the
    time grows with the pattern's parts times the path's.
    """
    parts = pattern.split("/")
    reached = _past_globstars(parts, {0})
    for segment in path.split("/"):
        reached = _past_globstars(
            parts,
            {
                index + (parts[index] != "**")
                for index in reached
                if index < len(parts) and (parts[index] == "**" or fnmatchcase(segment, parts[index]))
            },
        )
        if not reached:
            return False
    return len(parts) in reached


def _past_globstars(parts: list[str], reached: set[int]) -> set[int]:
    """The positions reached, and those after each `**` at one of them (a `**` may match no folder)."""
    pending = list(reached)
    while pending:
        index = pending.pop()
        if index < len(parts) and parts[index] == "**" and index + 1 not in reached:
            reached.add(index + 1)
            pending.append(index + 1)
    return reached


def lines_matching(files: list[tuple[str, str]], pattern: str, *, limit: int) -> list[Match]:
    """The first `limit` lines, file by file in the order given, in which the regex `pattern` matches."""
    compiled = re.compile(pattern)
    found: list[Match] = []
    for path, text in files:
        for number, line in enumerate(text_lines(text), start=1):
            match = compiled.search(line)
            if match is None:
                continue
            found.append(Match(path, number, _trimmed(line, match.start())))
            if len(found) >= limit:
                return found
    return found


def _trimmed(line: str, start: int) -> str:
    """The line without surrounding blanks, cut to LINE_CHARS from a little before the match."""
    stripped = line.strip()
    if len(stripped) <= LINE_CHARS:
        return stripped
    at = start - (len(line) - len(line.lstrip()))
    begin = max(0, min(at - LINE_CHARS // 4, len(stripped) - LINE_CHARS))
    end = begin + LINE_CHARS
    return ("…" if begin else "") + stripped[begin:end] + ("…" if end < len(stripped) else "")


def regex_search(files: list[tuple[str, str]], pattern: str, *, limit: int) -> list[Match]:
    """`lines_matching` in a child process that is killed after SEARCH_SECONDS."""
    request = json.dumps({"pattern": pattern, "limit": limit, "files": files}).encode()
    try:
        answer = subprocess.run(  # noqa: S603 -- our own program; the pattern travels on stdin
            [sys.executable, "-I", "-S", "-B", __file__],
            input=request,
            capture_output=True,
            timeout=SEARCH_SECONDS,
            check=True,
        )
        return [Match(*item) for item in json.loads(answer.stdout)]
    except subprocess.TimeoutExpired as exc:
        raise SearchTooSlow from exc
    except (OSError, subprocess.CalledProcessError, ValueError, TypeError) as exc:
        raise SearchFailed from exc


def _child_main() -> None:
    request = json.loads(sys.stdin.buffer.read())
    files = [(path, text) for path, text in request["files"]]
    found = lines_matching(files, request["pattern"], limit=request["limit"])
    sys.stdout.write(json.dumps([[match.path, match.line, match.text] for match in found]))


if __name__ == "__main__":
    _child_main()
