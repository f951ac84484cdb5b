"""The tools a model uses during a run, working on the run's own copy of the project.

Nothing here touches the project itself: at the end of a build the whole change lands
as one revision. Every failure is told to the model as a tool result starting with
"error:" — an edit that does not match exactly once is never applied fuzzily.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from dataclasses import dataclass, field

from oasis_common import paths

MAX_FILE_CHARS = 512 * 1024
MAX_FILES = 2000


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


def read_file(copy: WorkingCopy, arguments: dict) -> ToolOutcome:
    path = _path(arguments)
    file = copy.files.get(path)
    if file is None:
        raise ToolError(f"there is no file {path}; list_files shows what exists")
    if file.binary:
        raise ToolError(f"{path} is a binary file and cannot be read as text")
    if file.content is None:
        raise ToolError(f"{path} is too large to read in this run")
    return ToolOutcome(file.content)


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
    path = _path(arguments)
    search = _text(arguments, "search")
    replace = _text(arguments, "replace")
    current = read_file(copy, {"path": path}).result
    if not search:
        raise ToolError("`search` must not be empty")
    count = current.count(search)
    if count == 0:
        raise ToolError(
            f"the search text was not found in {path}; read the file and copy the exact text to replace"
        )
    if count > 1:
        raise ToolError(
            f"the search text occurs {count} times in {path}; include more text around it so it matches once"
        )
    _store(copy, path, current.replace(search, replace, 1))
    copy.renames.pop(path, None)
    return ToolOutcome(f"edited {path}", {"path": path, "action": "modified"})


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

TOOLS: dict[str, tuple[Callable[[WorkingCopy, dict], ToolOutcome], dict]] = {
    "list_files": (list_files, _schema("list_files", "List the project's files with their sizes.", {}, [])),
    "read_file": (read_file, _schema("read_file", "Read a text file.", {"path": _PATH}, ["path"])),
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
            "Replace one exact occurrence of `search` with `replace`. The search text must occur exactly "
            "once in the file; copy it from read_file.",
            {"path": _PATH, "search": {"type": "string"}, "replace": {"type": "string"}},
            ["path", "search", "replace"],
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
}
READ_TOOLS = ("list_files", "read_file")


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
