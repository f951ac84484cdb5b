"""The builder's side of the conversation, for tests: project files in a dict, its tools, the loop.

It follows the conventions the builder must follow (see the README): list_files answers one path
a line, read_file answers the file's exact text, edit_file replaces a search that occurs exactly
once, and every failure is reported as tool content starting with "error:". The richer tools
(RICH_TOOLS) answer in the builder's formats: read_file with a line range a numbered page under
`path: lines A-B of N`, search_files `path:line: text` lines, glob one path a line, edit_file with
`edits` all of them in order or none, set_plan a short acknowledgement.
"""

from __future__ import annotations

import fnmatch
import json
import re
from dataclasses import dataclass, field
from typing import Any

READ_TOOLS = ("list_files", "read_file")
WRITE_TOOLS = ("write_file", "edit_file", "delete_file", "rename_file")
PARAMETERS = {
    "list_files": {},
    "read_file": {"path": "string"},
    "write_file": {"path": "string", "content": "string"},
    "edit_file": {"path": "string", "search": "string", "replace": "string"},
    "delete_file": {"path": "string"},
    "rename_file": {"from_path": "string", "to_path": "string"},
}
# The builder's tools today: line ranges, several edits at once, search, glob and a plan.
RICH_PARAMETERS = {
    **PARAMETERS,
    "read_file": {"path": "string", "start_line": "integer", "end_line": "integer"},
    "edit_file": {"path": "string", "search": "string", "replace": "string", "edits": "array"},
    "search_files": {
        "pattern": "string",
        "literal": "boolean",
        "path_glob": "string",
        "max_results": "integer",
    },
    "glob": {"pattern": "string"},
    "set_plan": {"steps": "array"},
    "ask_user": {"question": "string"},
}
REQUIRED = {"read_file": ["path"], "edit_file": ["path"], "search_files": ["pattern"]}


def tool_schemas(
    names: tuple[str, ...], parameters: dict[str, dict[str, str]] = PARAMETERS
) -> list[dict[str, Any]]:
    """The function tools as the builder offers them (JSON schema)."""
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": f"{name.replace('_', ' ')} in the project",
                "parameters": {
                    "type": "object",
                    "properties": {arg: {"type": kind} for arg, kind in parameters[name].items()},
                    "required": REQUIRED.get(name, list(parameters[name])),
                    "additionalProperties": False,
                },
            },
        }
        for name in names
    ]


BUILD_TOOLS = tool_schemas(READ_TOOLS + WRITE_TOOLS)
CHAT_TOOLS = tool_schemas(READ_TOOLS)
RICH_TOOLS = tool_schemas(
    ("list_files", "read_file", "search_files", "glob", *WRITE_TOOLS, "set_plan", "ask_user"), RICH_PARAMETERS
)


@dataclass
class Workspace:
    files: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Paths whose next edit_file fails as if the file had changed underneath (for recovery tests).
    sabotage_edits: dict[str, int] = field(default_factory=dict)
    plans: list[list[str]] = field(default_factory=list)
    questions: list[str] = field(default_factory=list)

    def run(self, name: str, arguments: dict[str, Any]) -> str:
        self.calls.append((name, arguments))
        handler = getattr(self, f"_{name}", None)
        if handler is None:
            return f"error: unknown tool {name}"
        try:
            return handler(**arguments)
        except TypeError as error:
            return f"error: bad arguments for {name}: {error}"

    def _list_files(self) -> str:
        return "\n".join(sorted(self.files))

    def _ask_user(self, question: str) -> str:
        self.questions.append(question)
        return "question asked; the run ends here"

    def _read_file(self, path: str, start_line: int | None = None, end_line: int | None = None) -> str:
        if path not in self.files:
            return f"error: {path} does not exist"
        text = self.files[path]
        if start_line is None and end_line is None:
            return text
        lines = text.split("\n")[:-1] if text.endswith("\n") else text.split("\n")
        start, end = start_line or 1, min(end_line or len(lines), len(lines))
        if start > len(lines):
            return f"error: `start_line` {start} is past the end of {path}, which has {len(lines)} lines"
        page = [f"{path}: lines {start}-{end} of {len(lines)}"]
        page += [f"{number:>6}\t{lines[number - 1]}" for number in range(start, end + 1)]
        if end == len(lines) and not text.endswith("\n"):
            page.append("(no newline at end of file)")
        return "\n".join(page)

    def _search_files(
        self, pattern: str, literal: bool = False, path_glob: str | None = None, max_results=50
    ):
        compiled = re.compile(re.escape(pattern) if literal else pattern)
        hits = [
            f"{path}:{number}: {line.strip()}"
            for path, text in sorted(self.files.items())
            if path_glob is None or _glob_matches(path_glob, path)
            for number, line in enumerate(text.split("\n"), start=1)
            if compiled.search(line)
        ][:max_results]
        return "\n".join([*hits, f"({len(hits)} matches)"]) if hits else f"no line matches {pattern!r}"

    def _glob(self, pattern: str) -> str:
        matched = [path for path in sorted(self.files) if _glob_matches(pattern, path)]
        return "\n".join(matched) if matched else f"no file matches {pattern}"

    def _set_plan(self, steps: list[str]) -> str:
        self.plans.append(steps)
        return f"plan posted ({len(steps)} steps); the user sees it"

    def _write_file(self, path: str, content: str) -> str:
        self.files[path] = content
        return f"wrote {path} ({len(content)} characters)"

    def _edit_file(self, path: str, search: str = "", replace: str = "", edits: list | None = None) -> str:
        if path not in self.files:
            return f"error: {path} does not exist"
        if self.sabotage_edits.get(path, 0) > 0:
            self.sabotage_edits[path] -= 1
            return "error: the search text matched 0 places; nothing was changed"
        pairs = (
            [(edit["search"], edit["replace"]) for edit in edits]
            if edits is not None
            else [(search, replace)]
        )
        text = self.files[path]
        for number, (old, new) in enumerate(pairs, start=1):
            found = text.count(old)
            if found != 1:
                return f"error: edit {number}: the search text matched {found} places; nothing was changed"
            text = text.replace(old, new, 1)
        self.files[path] = text
        return f"edited {path}"

    def _delete_file(self, path: str) -> str:
        if self.files.pop(path, None) is None:
            return f"error: {path} does not exist"
        return f"deleted {path}"

    def _rename_file(self, from_path: str, to_path: str) -> str:
        if from_path not in self.files:
            return f"error: {from_path} does not exist"
        self.files[to_path] = self.files.pop(from_path)
        return f"renamed {from_path} to {to_path}"

    def tool_names(self) -> list[str]:
        return [name for name, _ in self.calls]


def _glob_matches(pattern: str, path: str) -> bool:
    """`**/` matches any folders (or none); the rest as fnmatch, which is enough for the tests' globs."""
    return fnmatch.fnmatchcase(path, pattern) or (
        pattern.startswith("**/") and fnmatch.fnmatchcase(path, pattern[3:])
    )


def system_message(files: dict[str, str] | None) -> dict[str, str]:
    """The builder's system prompt; with files given, it carries the "Project files:" block."""
    text = "You build websites by calling the file tools."
    if files is not None:
        listing = "\n".join(f"- {path} ({len(content)} bytes)" for path, content in sorted(files.items()))
        text += "\n\nProject files:\n" + (listing or "(none)")
    return {"role": "system", "content": text}


@dataclass
class Run:
    """One agent run: every response's finish reason, the final text, the messages and the usage seen."""

    messages: list[dict[str, Any]]
    finish_reasons: list[str] = field(default_factory=list)
    text: str = ""
    usage: list[Any] = field(default_factory=list)


def run_agent(
    client,
    workspace: Workspace,
    prompt: str,
    *,
    tools=BUILD_TOOLS,
    stream: bool = True,
    list_in_prompt: bool = False,
    max_turns: int = 12,
) -> Run:
    """The builder's loop: ask, apply the tool calls to the workspace, send the results back, until "stop"."""
    messages: list[dict[str, Any]] = [
        system_message(workspace.files if list_in_prompt else None),
        {"role": "user", "content": prompt},
    ]
    run = Run(messages=messages)
    for _ in range(max_turns):
        content, calls, finish_reason = (_ask_streaming if stream else _ask)(client, messages, tools, run)
        run.finish_reasons.append(finish_reason)
        assistant: dict[str, Any] = {"role": "assistant", "content": content}
        if calls:
            assistant["tool_calls"] = calls
        messages.append(assistant)
        if finish_reason != "tool_calls":
            run.text = content or ""
            return run
        for call in calls:
            result = workspace.run(call["function"]["name"], json.loads(call["function"]["arguments"]))
            messages.append({"role": "tool", "tool_call_id": call["id"], "content": result})
    raise AssertionError(f"the demo model did not finish within {max_turns} turns")


def _ask(client, messages, tools, run):
    response = client.chat.completions.create(model="oasis-demo", messages=messages, tools=tools)
    run.usage.append(response.usage)
    choice = response.choices[0]
    calls = [
        {
            "id": call.id,
            "type": "function",
            "function": {"name": call.function.name, "arguments": call.function.arguments},
        }
        for call in choice.message.tool_calls or ()
    ]
    return choice.message.content, calls, choice.finish_reason


def _ask_streaming(client, messages, tools, run):
    stream = client.chat.completions.create(
        model="oasis-demo",
        messages=messages,
        tools=tools,
        stream=True,
        stream_options={"include_usage": True},
    )
    content, calls, finish_reason = "", {}, None
    for chunk in stream:
        if chunk.usage is not None:
            run.usage.append(chunk.usage)
        for choice in chunk.choices:
            content += choice.delta.content or ""
            for delta in choice.delta.tool_calls or ():
                call = calls.setdefault(
                    delta.index, {"id": None, "type": "function", "function": {"name": "", "arguments": ""}}
                )
                call["id"] = delta.id or call["id"]
                if delta.function and delta.function.name:
                    call["function"]["name"] = delta.function.name
                if delta.function and delta.function.arguments:
                    call["function"]["arguments"] += delta.function.arguments
            finish_reason = choice.finish_reason or finish_reason
    return content or None, [calls[index] for index in sorted(calls)], finish_reason
