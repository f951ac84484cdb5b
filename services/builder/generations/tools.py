"""The tools a model uses during a run, working on the run's own copy of the project.

Nothing here touches the project itself: at the end of a build the whole change lands
as one revision. Every failure is told to the model as a tool result starting with
"error:" — an edit that does not match exactly once is never applied fuzzily, and an
edit of several replacements lands whole or not at all. Every tool is bounded: searches
and globs in results (and a regex in time, see `file_search`), plans in steps and length.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from generations import file_search
from oasis_common import paths

MAX_FILE_CHARS = 512 * 1024
MAX_FILES = 2000
MAX_PATTERN_CHARS = 300
DEFAULT_SEARCH_RESULTS = 50
MAX_SEARCH_RESULTS = 200
MAX_GLOB_RESULTS = 200
MAX_EDITS = 50
MAX_PLAN_STEPS = 12
MAX_PLAN_STEP_CHARS = 200
MAX_QUESTION_CHARS = 500


@dataclass
class WorkingFile:
    path: str
    content: str | None  # None: binary, or text the snapshot left out
    sha256: str
    size: int
    binary: bool = False

    @property
    def readable(self) -> bool:
        return self.content is not None


@dataclass
class WorkingCopy:
    """The files of one revision, changed in memory; `changes()` is the change set to apply."""

    base_revision: int
    files: dict[str, WorkingFile]
    original: dict[str, str] = field(default_factory=dict)  # path -> sha256 at the base revision
    original_text: dict[str, str] = field(default_factory=dict)  # path -> text at the base revision
    renames: dict[str, str] = field(default_factory=dict)  # new path -> original path, content unchanged

    @classmethod
    def from_snapshot(cls, snapshot: dict) -> WorkingCopy:
        files = {}
        for entry in snapshot["files"]:
            files[entry["path"]] = WorkingFile(
                path=entry["path"],
                content=entry.get("content"),
                sha256=entry["sha256"],
                size=entry["size"],
                binary=not entry.get("is_text", True),
            )
        return cls(
            base_revision=snapshot["revision"],
            files=files,
            original={path: file.sha256 for path, file in files.items()},
            original_text={path: file.content for path, file in files.items() if file.content is not None},
        )

    def changes(self) -> dict:
        """Writes, deletes and renames turning the base revision into this copy, as projects takes them."""
        writes, deletes, renames = [], [], []
        renamed_from = set()
        for new_path, old_path in self.renames.items():
            file = self.files.get(new_path)
            if file is not None and file.sha256 == self.original.get(old_path) and old_path not in self.files:
                renames.append({"from": old_path, "to": new_path})
                renamed_from.add(old_path)
        renamed_to = {item["to"] for item in renames}
        for path, file in sorted(self.files.items()):
            if path in renamed_to:
                continue
            if self.original.get(path) != file.sha256:
                writes.append({"path": path, "text": file.content})
        for path in sorted(self.original):
            if path not in self.files and path not in renamed_from:
                deletes.append(path)
        return {"writes": writes, "deletes": deletes, "renames": renames}

    def has_changes(self) -> bool:
        changes = self.changes()
        return bool(changes["writes"] or changes["deletes"] or changes["renames"])


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


class ToolError(Exception):
    """A mistake of the model's, reported back to it as the tool's result."""


@dataclass
class ToolOutcome:
    result: str  # what the model is told
    changed: dict | None = None  # {"path", "action"} when a file changed
    plan: list[str] | None = None  # the steps of a plan the model posted
    question: str | None = None  # what the model asked the user: the run ends waiting for the answer


def _path(arguments: dict, name: str = "path") -> str:
    raw = arguments.get(name)
    if not isinstance(raw, str):
        raise ToolError(f"`{name}` must be a string")
    try:
        return paths.path_clean(raw)
    except paths.InvalidPath as exc:
        raise ToolError(f"{raw[:200]!r} is not an allowed path: {exc.message}") from exc


def _text(arguments: dict, name: str) -> str:
    value = arguments.get(name)
    if not isinstance(value, str):
        raise ToolError(f"`{name}` must be a string")
    return value


def list_files(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    if not copy.files:
        return ToolOutcome("The project has no files yet.")
    lines = [
        f"{path} ({file.size} bytes{', binary' if file.binary else ''})"
        for path, file in sorted(copy.files.items())
    ]
    return ToolOutcome("\n".join(lines))


def _whole_number(arguments: dict, name: str, *, default: int | None, most: int | None = None) -> int | None:
    value = arguments.get(name)
    if value is None:
        return default
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ToolError(f"`{name}` must be a whole number of 1 or more")
    if most is not None and value > most:
        raise ToolError(f"`{name}` may be at most {most}")
    return value


def _text_of(copy: WorkingCopy, path: str) -> str:
    file = copy.files.get(path)
    if file is None:
        raise ToolError(f"there is no file {path}; list_files shows what exists")
    if file.binary:
        raise ToolError(f"{path} is a binary file and cannot be read as text")
    if file.content is None:
        raise ToolError(f"{path} is too large to read in this run")
    return file.content


def read_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """The whole text; or, given `start_line` and/or `end_line`, those lines numbered, with the total."""
    path = _path(arguments)
    content = _text_of(copy, path)
    start = _whole_number(arguments, "start_line", default=None)
    end = _whole_number(arguments, "end_line", default=None)
    if start is None and end is None:
        return ToolOutcome(content)
    return ToolOutcome(_numbered_lines(path, content, start or 1, end))


def _numbered_lines(path: str, content: str, start: int, end: int | None) -> str:
    lines = file_search.text_lines(content)
    total = len(lines)
    if not total:
        raise ToolError(f"{path} is empty: it has no lines to read")
    if start > total:
        raise ToolError(f"`start_line` {start} is past the end of {path}, which has {total} lines")
    if end is not None and end < start:
        raise ToolError(f"`end_line` {end} is before `start_line` {start}")
    # An end past the last line reads to the end; the heading says which lines these are.
    end = min(end or total, total)
    numbered = [f"{number:>6}\t{lines[number - 1]}" for number in range(start, end + 1)]
    footer = ["(no newline at end of file)"] if end == total and not content.endswith("\n") else []
    return "\n".join([f"{path}: lines {start}-{end} of {total}", *numbered, *footer])


def _store(copy: WorkingCopy, path: str, content: str) -> None:
    if len(content) > MAX_FILE_CHARS:
        raise ToolError(f"the content is too large ({len(content)} characters; at most {MAX_FILE_CHARS})")
    if path not in copy.files and len(copy.files) >= MAX_FILES:
        raise ToolError(f"the project may hold at most {MAX_FILES} files")
    copy.files[path] = WorkingFile(
        path=path, content=content, sha256=_sha(content), size=len(content.encode())
    )


def write_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    path = _path(arguments)
    content = _text(arguments, "content")
    action = "modified" if path in copy.files else "created"
    if path in copy.files and copy.files[path].binary:
        raise ToolError(f"{path} is a binary file; it cannot be overwritten with text")
    _store(copy, path, content)
    copy.renames.pop(path, None)
    return ToolOutcome(f"wrote {path} ({len(content)} characters)", {"path": path, "action": action})


def edit_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """One exact replacement, or several (`edits`) applied in order: all of them or none."""
    path = _path(arguments)
    if arguments.get("edits") is None:
        pairs = [(_text(arguments, "search"), _text(arguments, "replace"))]
        edited = _replaced_once(_text_of(copy, path), *pairs[0], path=path)
        result = f"edited {path}"
    else:
        pairs = _edit_pairs(arguments)
        edited = _replaced_in_order(_text_of(copy, path), pairs, path=path)
        result = f"edited {path} ({len(pairs)} edit{'s' if len(pairs) != 1 else ''})"
    _store(copy, path, edited)
    copy.renames.pop(path, None)
    return ToolOutcome(result, {"path": path, "action": "modified"})


def _edit_pairs(arguments: dict) -> list[tuple[str, str]]:
    if arguments.get("search") is not None or arguments.get("replace") is not None:
        raise ToolError("give either `edits` or one `search` and `replace`, not both")
    edits = arguments["edits"]
    if not isinstance(edits, list) or not edits:
        raise ToolError('`edits` must be a non-empty list of {"search": ..., "replace": ...} objects')
    if len(edits) > MAX_EDITS:
        raise ToolError(f"at most {MAX_EDITS} edits at once; this call has {len(edits)}")
    pairs = []
    for number, edit in enumerate(edits, start=1):
        if not isinstance(edit, dict):
            raise ToolError(f"edit {number} must be an object with `search` and `replace`")
        try:
            pairs.append((_text(edit, "search"), _text(edit, "replace")))
        except ToolError as exc:
            raise ToolError(f"edit {number}: {exc}") from None
    return pairs


def _replaced_in_order(content: str, pairs: list[tuple[str, str]], *, path: str) -> str:
    for number, (search, replace) in enumerate(pairs, start=1):
        try:
            content = _replaced_once(content, search, replace, path=path)
        except ToolError as exc:
            after = " (as the edits before it left the file)" if number > 1 else ""
            raise ToolError(
                f"edit {number} of {len(pairs)}: {exc}{after}; no edit was applied, {path} is unchanged"
            ) from None
    return content


def _replaced_once(content: str, search: str, replace: str, *, path: str) -> str:
    if not search:
        raise ToolError("`search` must not be empty")
    count = content.count(search)
    if count == 0:
        raise ToolError(
            f"the search text was not found in {path}; read the file and copy the exact text to replace"
        )
    if count > 1:
        raise ToolError(
            f"the search text occurs {count} times in {path}; include more text around it so it matches once"
        )
    return content.replace(search, replace, 1)


def delete_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    path = _path(arguments)
    if path not in copy.files:
        raise ToolError(f"there is no file {path}")
    del copy.files[path]
    copy.renames.pop(path, None)
    return ToolOutcome(f"deleted {path}", {"path": path, "action": "deleted"})


def rename_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    source = _path(arguments, "from_path")
    target = _path(arguments, "to_path")
    if source not in copy.files:
        raise ToolError(f"there is no file {source}")
    if target in copy.files:
        raise ToolError(f"{target} already exists")
    file = copy.files.pop(source)
    file.path = target
    copy.files[target] = file
    copy.renames[target] = copy.renames.pop(source, source)
    return ToolOutcome(
        f"renamed {source} to {target}", {"path": target, "action": "renamed", "from_path": source}
    )


def _glob_pattern(arguments: dict, name: str) -> str:
    pattern = _text(arguments, name)
    if not pattern:
        raise ToolError(f"`{name}` must not be empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(f"`{name}` may be at most {MAX_PATTERN_CHARS} characters")
    if pattern.startswith("/"):
        raise ToolError(f"`{name}` is relative to the project root: drop the leading /")
    return pattern


def glob(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """The paths matching a glob, sorted, at most MAX_GLOB_RESULTS of them."""
    pattern = _glob_pattern(arguments, "pattern")
    matched = [path for path in sorted(copy.files) if file_search.path_matches(pattern, path)]
    if not matched:
        return ToolOutcome(f"no file matches {pattern}")
    shown = matched[:MAX_GLOB_RESULTS]
    if len(matched) > len(shown):
        shown.append(f"({len(shown)} of {len(matched)} matching files shown; narrow the pattern)")
    return ToolOutcome("\n".join(shown))


def search_files(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """Lines of the text files matching a regex (or a literal), as `path:line: text`, bounded."""
    pattern = _text(arguments, "pattern")
    if not pattern:
        raise ToolError("`pattern` must not be empty")
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ToolError(f"`pattern` may be at most {MAX_PATTERN_CHARS} characters")
    literal = arguments.get("literal", False)
    if not isinstance(literal, bool):
        raise ToolError("`literal` must be true or false")
    only = _glob_pattern(arguments, "path_glob") if arguments.get("path_glob") is not None else None
    limit = _whole_number(arguments, "max_results", default=DEFAULT_SEARCH_RESULTS, most=MAX_SEARCH_RESULTS)
    files = [
        (path, file.content)
        for path, file in sorted(copy.files.items())
        if file.readable and (only is None or file_search.path_matches(only, path))
    ]
    found = _matches(files, pattern, literal=literal, limit=limit + 1)
    return ToolOutcome(_search_report(found, limit=limit, pattern=pattern, searched=len(files)))


def _matches(files: list[tuple[str, str]], pattern: str, *, literal: bool, limit: int) -> list:
    if literal:
        return file_search.lines_matching(files, re.escape(pattern), limit=limit)
    try:
        re.compile(pattern)
    except (re.error, OverflowError, RecursionError) as exc:
        raise ToolError(
            f"`pattern` is not a valid regular expression ({exc}); or pass literal: true"
        ) from None
    try:
        return file_search.regex_search(files, pattern, limit=limit)
    except file_search.SearchTooSlow:
        raise ToolError(
            f"the search took longer than {file_search.SEARCH_SECONDS:g} s and was stopped; simplify the "
            "pattern (nested repeats such as (a+)+ are slow) or pass literal: true"
        ) from None
    except file_search.SearchFailed:
        raise ToolError("the search could not run; try again, or pass literal: true") from None


def _search_report(found: list, *, limit: int, pattern: str, searched: int) -> str:
    if not found:
        return f"no line matches {pattern!r} in the {searched} text files searched"
    shown = found[:limit]
    lines = [f"{match.path}:{match.line}: {match.text}" for match in shown]
    if len(found) > limit:
        lines.append(
            f"(the first {limit} matches; there are more: narrow the pattern or path_glob, "
            f"or raise max_results up to {MAX_SEARCH_RESULTS})"
        )
    else:
        files = len({match.path for match in shown})
        lines.append(f"({len(shown)} matches in {files} of the {searched} text files searched)")
    return "\n".join(lines)


def set_plan(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """The model's plan, shown to the user as a `plan` event; it changes no file."""
    steps = arguments.get("steps")
    if not isinstance(steps, list) or not steps:
        raise ToolError(f"`steps` must be a list of 1 to {MAX_PLAN_STEPS} short strings")
    if len(steps) > MAX_PLAN_STEPS:
        raise ToolError(f"a plan has at most {MAX_PLAN_STEPS} steps; this one has {len(steps)}")
    plan = []
    for number, step in enumerate(steps, start=1):
        if not isinstance(step, str) or not step.strip():
            raise ToolError(f"step {number} must be a non-empty string")
        text = " ".join(step.split())
        if len(text) > MAX_PLAN_STEP_CHARS:
            raise ToolError(f"step {number} is {len(text)} characters long; at most {MAX_PLAN_STEP_CHARS}")
        plan.append(text)
    return ToolOutcome(
        f"plan posted ({len(plan)} step{'s' if len(plan) != 1 else ''}); the user sees it", plan=plan
    )


def ask_user(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    """End the run with a question for the user; their answer is the next prompt of the conversation."""
    question = arguments.get("question")
    if not isinstance(question, str) or not question.strip():
        raise ToolError("`question` must be a non-empty string")
    text = " ".join(question.split())
    if len(text) > MAX_QUESTION_CHARS:
        raise ToolError(f"a question is at most {MAX_QUESTION_CHARS} characters; this one is {len(text)}")
    return ToolOutcome(
        "question asked; the run ends here and the user's answer comes as the next prompt", question=text
    )


def _schema(name: str, description: str, properties: dict, required: list[str]) -> dict:
    return {
        "type": "function",
        "function": {
            "name": name,
            "description": description,
            "parameters": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": False,
            },
        },
    }


_PATH = {"type": "string", "description": "A relative path such as index.html or css/site.css."}
_LINE = {"type": "integer", "minimum": 1}
_GLOB = "`*`, `?` and `[abc]` match within one folder, `**` any number of folders"
_REPLACEMENT = {
    "type": "object",
    "properties": {"search": {"type": "string"}, "replace": {"type": "string"}},
    "required": ["search", "replace"],
    "additionalProperties": False,
}

TOOLS: dict[str, tuple[Callable[[WorkingCopy, dict], ToolOutcome], dict]] = {
    "list_files": (list_files, _schema("list_files", "List the project's files with their sizes.", {}, [])),
    "read_file": (
        read_file,
        _schema(
            "read_file",
            "Read a text file: all of it, or with start_line and/or end_line (1-based, inclusive) only "
            "those lines, numbered, under a heading that gives the file's number of lines.",
            {"path": _PATH, "start_line": _LINE, "end_line": _LINE},
            ["path"],
        ),
    ),
    "search_files": (
        search_files,
        _schema(
            "search_files",
            "Find lines in the project's text files: a regular expression (Python syntax, matched line "
            "by line) or, with literal: true, exact text. Answers `path:line: text`, at most max_results "
            f"lines (default {DEFAULT_SEARCH_RESULTS}, at most {MAX_SEARCH_RESULTS}).",
            {
                "pattern": {"type": "string", "maxLength": MAX_PATTERN_CHARS},
                "literal": {"type": "boolean"},
                "path_glob": {"type": "string", "description": f"Only files matching this glob: {_GLOB}."},
                "max_results": {"type": "integer", "minimum": 1, "maximum": MAX_SEARCH_RESULTS},
            },
            ["pattern"],
        ),
    ),
    "glob": (
        glob,
        _schema(
            "glob",
            f"List the paths matching a glob ({_GLOB}), sorted, at most {MAX_GLOB_RESULTS}.",
            {"pattern": {"type": "string", "maxLength": MAX_PATTERN_CHARS}},
            ["pattern"],
        ),
    ),
    "write_file": (
        write_file,
        _schema(
            "write_file",
            "Create a file or replace its whole content.",
            {"path": _PATH, "content": {"type": "string"}},
            ["path", "content"],
        ),
    ),
    "edit_file": (
        edit_file,
        _schema(
            "edit_file",
            "Replace exact text: one `search` with `replace`, or several pairs in `edits`, applied in "
            "order (each search in the file as the edits before it leave it), all or none. Each search "
            "text must occur exactly once; copy it from read_file.",
            {
                "path": _PATH,
                "search": {"type": "string"},
                "replace": {"type": "string"},
                "edits": {"type": "array", "items": _REPLACEMENT, "minItems": 1, "maxItems": MAX_EDITS},
            },
            ["path"],
        ),
    ),
    "delete_file": (delete_file, _schema("delete_file", "Delete a file.", {"path": _PATH}, ["path"])),
    "rename_file": (
        rename_file,
        _schema(
            "rename_file",
            "Move a file to a new path.",
            {"from_path": _PATH, "to_path": _PATH},
            ["from_path", "to_path"],
        ),
    ),
    "set_plan": (
        set_plan,
        _schema(
            "set_plan",
            "Show the user your plan for this request as a few short steps, before you start; call it "
            "again to replace it. It changes no file.",
            {
                "steps": {
                    "type": "array",
                    "items": {"type": "string", "maxLength": MAX_PLAN_STEP_CHARS},
                    "minItems": 1,
                    "maxItems": MAX_PLAN_STEPS,
                }
            },
            ["steps"],
        ),
    ),
    "ask_user": (
        ask_user,
        _schema(
            "ask_user",
            "Ask the user one question when the request is too unclear to build well, and stop: the run "
            "ends (keeping any changes made so far) and their answer comes as the next prompt.",
            {"question": {"type": "string", "maxLength": MAX_QUESTION_CHARS}},
            ["question"],
        ),
    ),
}
READ_TOOLS = ("list_files", "read_file", "search_files", "glob")


def tool_schemas(*, mode: str) -> list[dict]:
    names = READ_TOOLS if mode == "chat" else tuple(TOOLS)
    return [TOOLS[name][1] for name in names]


def tool_run(copy: WorkingCopy, *, name: str, raw_arguments: str, mode: str) -> ToolOutcome:
    """Run one tool call; any mistake comes back as an "error: …" result for the model."""
    allowed = READ_TOOLS if mode == "chat" else tuple(TOOLS)
    if name not in allowed:
        return ToolOutcome(
            f"error: there is no tool named {name!r} in this mode; use one of {', '.join(allowed)}"
        )
    try:
        arguments = json.loads(raw_arguments or "{}")
    except json.JSONDecodeError:
        return ToolOutcome("error: the arguments are not valid JSON")
    if not isinstance(arguments, dict):
        return ToolOutcome("error: the arguments must be a JSON object")
    try:
        return TOOLS[name][0](copy, arguments)
    except ToolError as exc:
        return ToolOutcome(f"error: {exc}")
