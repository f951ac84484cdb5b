"""The demo's next step, decided from the request alone: the messages so far and the tools offered.

The server keeps no state between requests. Everything after the last user message is this
turn's history: the tool calls the demo already made and the results the client sent back.
From that it picks one step: call tools, or answer with a final text.

- No file list yet: call list_files (unless the system or user message has a "Project files:" block).
- Write tools offered and no HTML file in the project: build a site with write_file calls.
- Write tools offered and the project has a page: a follow-up. read_file the target, edit_file
  with searches copied from what it read; if an edit fails, re-read and retry once, then rewrite
  the file with write_file.
- Only read tools offered (chat mode): maybe read the page, then answer in text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from html import unescape
from typing import Any

from oasis_demo_model import LABEL
from oasis_demo_model.edits import (
    Intent,
    apply_edits,
    intent_for,
    is_html,
    occurrences,
    plan_edits,
    revised,
    target_path,
)
from oasis_demo_model.protocol import message_text
from oasis_demo_model.sites import Site, build_site

WRITE_TOOLS = frozenset({"write_file", "edit_file", "delete_file", "rename_file"})

FILES_HEADING = re.compile(
    r"^[ \t#*>-]*(?:the |current |existing )?project(?:'s|\u2019s)? files\b[^:\n]*:[ \t]*(?P<rest>.*)$",
    flags=re.IGNORECASE | re.MULTILINE,
)
# A line that says the project has no files, instead of an empty list under a heading.
EMPTY_PROJECT = re.compile(
    r"^[ \t#*>-]*(?:the )?project (?:is empty|has no files)\b.*$", flags=re.IGNORECASE | re.MULTILINE
)
NONE_MARKER = re.compile(r"^\(?\s*(?:none|empty|no files?(?: yet)?|nothing)\s*\)?\.?$", flags=re.IGNORECASE)


@dataclass(frozen=True)
class Call:
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One response's worth of behaviour: tool calls to make, or a final text."""

    text: str | None = None
    calls: tuple[Call, ...] = ()


@dataclass(frozen=True)
class Outcome:
    """A tool call made earlier in this turn, with the result the client reported."""

    name: str
    arguments: dict[str, Any]
    ok: bool
    content: str

    @property
    def path(self) -> str | None:
        path = self.arguments.get("path")
        return path if isinstance(path, str) else None


@dataclass(frozen=True)
class Turn:
    prompt: str
    offered: frozenset[str]
    files: tuple[str, ...] | None  # the project's files before this turn, when known
    outcomes: tuple[Outcome, ...]
    parallel: bool = True

    def can_write(self) -> bool:
        return bool(self.offered & {"write_file", "edit_file"})


# Reading the request


def tool_failed(content: str) -> bool:
    """Whether a tool result reports a failure: text starting "error", or JSON with an error or ok=false."""
    stripped = content.lstrip()
    if re.match(r"error\b", stripped, flags=re.IGNORECASE):
        return True
    if stripped.startswith("{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            return False
        return isinstance(parsed, dict) and (bool(parsed.get("error")) or parsed.get("ok") is False)
    return False


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


def _path_in_line(line: str) -> str | None:
    line = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", "", line).strip().strip("`")
    if not line:
        return None
    words = line.split()
    token = words[0].strip("`,")
    if token.startswith("(") or token.endswith(":"):
        return None
    if len(words) > 1 and "." not in token and "/" not in token:
        return None
    return token


def parse_file_list(content: str) -> tuple[str, ...]:
    """A list_files result: a JSON list (of paths or {"path": ...}), {"files": [...]}, or one path a line."""
    stripped = content.strip()
    if stripped[:1] in ("[", "{"):
        try:
            parsed = json.loads(stripped)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            parsed = parsed.get("files")
        if isinstance(parsed, list):
            paths = [item.get("path") if isinstance(item, dict) else item for item in parsed]
            return tuple(path for path in paths if isinstance(path, str) and path)
    return tuple(path for line in stripped.splitlines() if (path := _path_in_line(line)))


def context_files(text: str) -> tuple[str, ...] | None:
    """The last "Project files:" block in a message: the paths after it, one "- path" a line, or (none)."""
    headings = list(FILES_HEADING.finditer(text))
    empty = list(EMPTY_PROJECT.finditer(text))
    if empty and (not headings or empty[-1].start() > headings[-1].start()):
        return ()
    if not headings:
        return None
    heading = headings[-1]
    rest = heading.group("rest").strip()
    if rest:
        if NONE_MARKER.match(rest):
            return ()
        return tuple(path for part in rest.split(",") if (path := _path_in_line(part)))
    paths = []
    for line in text[heading.end() :].split("\n")[1:]:
        if not re.match(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", line):
            if NONE_MARKER.match(line.strip()) and not paths:
                return ()
            break
        path = _path_in_line(line)
        if path:
            paths.append(path)
    return tuple(paths)


def _without_file_block(text: str) -> str:
    match = FILES_HEADING.search(text)
    if not match:
        return text
    lines = text[match.end() :].split("\n")[1:]
    kept = list(lines)
    while kept and re.match(r"^\s*(?:[-*\u2022]|\d+[.)])\s+", kept[0]):
        kept.pop(0)
    return (text[: match.start()] + "\n".join(kept)).strip()


def _arguments(raw: Any) -> dict[str, Any]:
    if isinstance(raw, dict):
        return raw
    try:
        parsed = json.loads(raw or "{}")
    except (TypeError, ValueError):
        return {}
    return parsed if isinstance(parsed, dict) else {}


def read_turn(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    *,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
) -> Turn:
    offered = frozenset(
        tool["function"]["name"]
        for tool in tools or ()
        if isinstance(tool, dict) and isinstance(tool.get("function"), dict) and tool["function"].get("name")
    )
    if tool_choice == "none":
        offered = frozenset()
    last_user = max((i for i, message in enumerate(messages) if message.get("role") == "user"), default=-1)
    prompt = _without_file_block(message_text(messages[last_user].get("content"))) if last_user >= 0 else ""

    listed = None
    for message in messages[: last_user + 1]:
        if message.get("role") in ("system", "developer", "user"):
            found = context_files(message_text(message.get("content")))
            listed = found if found is not None else listed

    calls: dict[str, tuple[str, dict[str, Any]]] = {}
    outcomes = []
    for message in messages[last_user + 1 :]:
        if message.get("role") == "assistant":
            for call in message.get("tool_calls") or ():
                function = call.get("function") or {}
                calls[call.get("id")] = (function.get("name") or "", _arguments(function.get("arguments")))
        elif message.get("role") == "tool" and message.get("tool_call_id") in calls:
            name, arguments = calls[message["tool_call_id"]]
            content = message_text(message.get("content"))
            outcomes.append(Outcome(name, arguments, not tool_failed(content), content))

    listing = next((outcome for outcome in outcomes if outcome.name == "list_files"), None)
    if listing is not None:
        listed = parse_file_list(listing.content) if listing.ok else ()
    return Turn(
        prompt=" ".join(prompt.split()),
        offered=offered,
        files=listed,
        outcomes=tuple(outcomes),
        parallel=parallel_tool_calls is not False,
    )


# Deciding


def next_step(turn: Turn) -> Step:
    if not turn.offered:
        return Step(text=chat_answer(turn, turn.files or (), None, None))
    if turn.files is None and "list_files" in turn.offered:
        return Step(calls=(Call("list_files", {}),))
    files = turn.files or ()
    if turn.can_write():
        intent = intent_for(turn.prompt)
        if intent.action == "rebuild" or not any(is_html(path) for path in files):
            return build_step(turn)
        return follow_up_step(turn, files, intent)
    return chat_step(turn, files)


def _batch(turn: Turn, calls: list[Call]) -> Step:
    """All the calls at once, or the first only when the client turned parallel tool calls off."""
    return Step(calls=tuple(calls if turn.parallel else calls[:1]))


def build_step(turn: Turn) -> Step:
    site = build_site(turn.prompt)
    attempted = {outcome.path for outcome in turn.outcomes if outcome.name == "write_file"}
    remaining = [file for file in site.files if file.path not in attempted]
    if remaining and "write_file" in turn.offered:
        return _batch(
            turn, [Call("write_file", {"path": file.path, "content": file.content}) for file in remaining]
        )
    return Step(text=build_summary(site, turn))


def build_summary(site: Site, turn: Turn) -> str:
    results = {outcome.path: outcome for outcome in turn.outcomes if outcome.name == "write_file"}
    written = [file for file in site.files if file.path in results and results[file.path].ok]
    failed = [file for file in site.files if file.path in results and not results[file.path].ok]
    if not written:
        reasons = "; ".join(f"{file.path}: {_first_line(results[file.path].content)}" for file in failed)
        return f"{LABEL}: I could not write the site for “{site.spec.name}”. {reasons or 'No write tool.'}"
    parts = [f"{file.path} ({file.description})" for file in written]
    listing = ", ".join(parts[:-1]) + f" and {parts[-1]}" if len(parts) > 1 else parts[0]
    text = f"{LABEL}: I built “{site.spec.name}” from your description: {listing}."
    if failed:
        reasons = "; ".join(f"{file.path} ({_first_line(results[file.path].content)})" for file in failed)
        text += f" Not written: {reasons}."
    return text


def follow_up_step(turn: Turn, files: tuple[str, ...], intent: Intent) -> Step:
    path = target_path(intent, files)
    history = [
        outcome
        for outcome in turn.outcomes
        if outcome.path == path and outcome.name in ("read_file", "edit_file", "write_file")
    ]
    reads = [i for i, outcome in enumerate(history) if outcome.name == "read_file"]
    good_reads = [i for i in reads if history[i].ok]
    if not good_reads:
        if reads:
            return Step(
                text=f"{LABEL}: I could not read {path} ({_first_line(history[reads[-1]].content)}), "
                "so nothing was changed."
            )
        if "read_file" not in turn.offered:
            return Step(text=f"{LABEL}: I need the read_file tool to change {path}, so nothing was changed.")
        return Step(calls=(Call("read_file", {"path": path}),))

    # What the demo knows of the file: the last read, with its own successful changes since applied.
    known = file_text(history[good_reads[-1]].content)
    since = history[good_reads[-1] + 1 :]
    for outcome in since:
        if outcome.ok and outcome.name == "edit_file":
            search, replace = outcome.arguments.get("search", ""), outcome.arguments.get("replace", "")
            if occurrences(known, search) == 1:
                known = known.replace(search, replace, 1)
    writes = [outcome for outcome in since if outcome.name == "write_file"]
    if writes:
        return Step(text=follow_up_summary(intent, path, history))
    if any(not outcome.ok for outcome in since):
        if len(reads) < 2:
            return Step(calls=(Call("read_file", {"path": path}),))
        return Step(calls=(Call("write_file", {"path": path, "content": revised(intent, path, known)}),))

    edits = plan_edits(intent, path, known)
    if edits is None or (edits and "edit_file" not in turn.offered):
        return Step(calls=(Call("write_file", {"path": path, "content": revised(intent, path, known)}),))
    if edits:
        # Checked here so a planning mistake shows up as an error, never as an edit the client refuses.
        apply_edits(known, edits)
        calls = [
            Call("edit_file", {"path": path, "search": edit.search, "replace": edit.replace})
            for edit in edits
        ]
        return _batch(turn, calls)
    return Step(text=follow_up_summary(intent, path, history))


def follow_up_summary(intent: Intent, path: str, history: list[Outcome]) -> str:
    edits = [outcome for outcome in history if outcome.name == "edit_file"]
    writes = [outcome for outcome in history if outcome.name == "write_file"]
    if writes and not writes[-1].ok:
        return f"{LABEL}: I could not change {path}: {_first_line(writes[-1].content)}."
    if writes:
        how = "the exact edits did not match, so I rewrote it in full" if edits else "I rewrote it in full"
        return f"{LABEL}: I {intent.describe()} in {path} ({how})."
    if not edits:
        asked = intent.describe(done=False)
        return f"{LABEL}: you asked me to {asked}, but {path} already has it; nothing changed."
    applied = sum(outcome.ok for outcome in edits)
    retried = " after re-reading it" if any(not outcome.ok for outcome in edits) else ""
    noun = "edit" if applied == 1 else "edits"
    return f"{LABEL}: I {intent.describe()} in {path} with {applied} exact {noun}{retried}."


def chat_step(turn: Turn, files: tuple[str, ...]) -> Step:
    pages = sorted(path for path in files if is_html(path))
    page = "index.html" if "index.html" in files else (pages[0] if pages else None)
    reads = [outcome for outcome in turn.outcomes if outcome.name == "read_file" and outcome.path == page]
    if page and not reads and "read_file" in turn.offered:
        return Step(calls=(Call("read_file", {"path": page}),))
    content = file_text(reads[-1].content) if reads and reads[-1].ok else None
    return Step(text=chat_answer(turn, files, page, content))


def chat_answer(turn: Turn, files: tuple[str, ...], page: str | None, content: str | None) -> str:
    parts = [f"{LABEL}. This is a chat answer, so nothing in the project was changed."]
    if turn.prompt:
        parts.append(f"You asked: “{turn.prompt}”.")
    if files:
        shown = ", ".join(files[:10]) + (", …" if len(files) > 10 else "")
        parts.append(f"The project has {len(files)} file{'s' if len(files) != 1 else ''}: {shown}.")
    elif turn.files is not None:
        parts.append("The project has no files yet.")
    if page and content is not None:
        title = _element_texts("title", content)
        headings = _element_texts("h2", content)
        about = f"{page} is titled “{title[0]}”" if title else f"{page} has no title"
        about += f" and has these sections: {', '.join(headings)}." if headings else "."
        parts.append(about)
    parts.append(
        "I am a fixed program that builds and edits demo sites, not an AI, so I cannot really answer "
        "questions. Send the request in build mode to change the site."
    )
    return " ".join(parts)


def _element_texts(tag: str, page: str) -> list[str]:
    found = re.findall(rf"<{tag}\b[^>]*>(.*?)</{tag}>", page, flags=re.IGNORECASE | re.DOTALL)
    texts = (" ".join(unescape(re.sub(r"<[^>]+>", "", text)).split()) for text in found)
    return [text for text in texts if text]


def _first_line(text: str) -> str:
    lines = text.strip().splitlines()
    return lines[0][:200] if lines else "no details"
