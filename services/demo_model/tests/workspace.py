"""The builder's side of the conversation, for tests: project files in a dict, the six tools, the loop.

It follows the conventions the builder must follow (see the README): list_files answers one path
a line, read_file answers the file's exact text, edit_file replaces a search that occurs exactly
once, and every failure is reported as tool content starting with "error:".
"""

from __future__ import annotations

import json
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


def tool_schemas(names: tuple[str, ...]) -> list[dict[str, Any]]:
    """The function tools as the builder offers them (JSON schema)."""
    return [
        {
            "type": "function",
            "function": {
                "name": name,
                "description": f"{name.replace('_', ' ')} in the project",
                "parameters": {
                    "type": "object",
                    "properties": {arg: {"type": kind} for arg, kind in PARAMETERS[name].items()},
                    "required": list(PARAMETERS[name]),
                    "additionalProperties": False,
                },
            },
        }
        for name in names
    ]


BUILD_TOOLS = tool_schemas(READ_TOOLS + WRITE_TOOLS)
CHAT_TOOLS = tool_schemas(READ_TOOLS)


@dataclass
class Workspace:
    files: dict[str, str] = field(default_factory=dict)
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    # Paths whose next edit_file fails as if the file had changed underneath (for recovery tests).
    sabotage_edits: dict[str, int] = field(default_factory=dict)

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

    def _read_file(self, path: str) -> str:
        if path not in self.files:
            return f"error: {path} does not exist"
        return self.files[path]

    def _write_file(self, path: str, content: str) -> str:
        self.files[path] = content
        return f"wrote {path} ({len(content)} characters)"

    def _edit_file(self, path: str, search: str, replace: str) -> str:
        if path not in self.files:
            return f"error: {path} does not exist"
        if self.sabotage_edits.get(path, 0) > 0:
            self.sabotage_edits[path] -= 1
            return "error: the search text matched 0 places; nothing was changed"
        found = self.files[path].count(search)
        if found != 1:
            return f"error: the search text matched {found} places; nothing was changed"
        self.files[path] = self.files[path].replace(search, replace, 1)
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
