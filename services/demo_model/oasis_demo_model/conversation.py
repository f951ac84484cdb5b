"""The demo's next step, decided from the request alone: the messages so far and the tools offered.

The server keeps no state between requests. Everything after the last user message is this
turn's history: the tool calls the demo already made and the results the client sent back.
From that it picks one step: call tools, or answer with a final text.

- No file list yet: call list_files (unless the system or user message has a "Project files:" block).
- Write tools offered and no HTML file in the project: build a site with write_file calls.
- Write tools offered and the project has a page: a follow-up. read_file the target, edit_file
  with searches copied from what it read; if an edit fails, re-read and retry once, then rewrite
  the file with write_file. When the client offers them, the follow-up first posts a plan
  (set_plan) and finds the file (glob for a stylesheet, search_files for a page) in one step,
  reads by line ranges page after page (`reading`), and sends all its edits in one edit_file
  call (`edits`).
- A build of an empty project whose prompt names nothing to build ("make me a website"): when
  ask_user is offered, ask what the site is for (the client ends the run; the answer is the next
  prompt, which builds).
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
    Edit,
    Intent,
    apply_edits,
    intent_for,
    is_html,
    occurrences,
    plan_edits,
    revised,
    target_path,
)
from oasis_demo_model.outcomes import Outcome
from oasis_demo_model.protocol import message_text
from oasis_demo_model.reading import file_text, read_arguments, read_progress
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
SEARCH_HIT = re.compile(r"^(?P<path>[^\n]+?):\d+: ", flags=re.MULTILINE)
LOCATE_TOOLS = frozenset({"search_files", "glob"})
PLAN_STEP_CHARS = 200


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
class Turn:
    prompt: str
    offered: frozenset[str]
    files: tuple[str, ...] | None  # the project's files before this turn, when known
    outcomes: tuple[Outcome, ...]
    parallel: bool = True
    ranged_reads: bool = False  # read_file takes start_line and end_line
    multi_edits: bool = False  # edit_file takes a list of `edits`

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


def offered_parameters(tools: list[dict[str, Any]] | None) -> dict[str, frozenset[str]]:
    """Each offered function tool's name, with the names of the parameters its schema declares."""
    offered = {}
    for tool in tools or ():
        function = tool.get("function") if isinstance(tool, dict) else None
        if not isinstance(function, dict) or not function.get("name"):
            continue
        parameters = function.get("parameters")
        properties = parameters.get("properties") if isinstance(parameters, dict) else None
        offered[function["name"]] = frozenset(properties if isinstance(properties, dict) else ())
    return offered


def read_turn(
    messages: list[dict[str, Any]],
    tools: list[dict[str, Any]] | None = None,
    *,
    tool_choice: Any = None,
    parallel_tool_calls: bool | None = None,
) -> Turn:
    parameters = offered_parameters(tools) if tool_choice != "none" else {}
    offered = frozenset(parameters)
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
        ranged_reads="start_line" in parameters.get("read_file", ()),
        multi_edits="edits" in parameters.get("edit_file", ()),
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
            if not any(is_html(path) for path in files) and should_ask(turn):
                return Step(calls=(Call("ask_user", {"question": QUESTION}),))
            return build_step(turn)
        return follow_up_step(turn, files, intent)
    return chat_step(turn, files)


# Words that ask for a website without saying what it is about.
NOTHING_TO_BUILD = frozenset(
    [
        "a",
        "an",
        "the",
        "me",
        "my",
        "us",
        "our",
        "please",
        "make",
        "build",
        "create",
        "design",
        "generate",
        "new",
        "some",
        "simple",
        "nice",
        "website",
        "site",
        "web",
        "page",
        "landing",
        "homepage",
        "for",
        "just",
        "do",
        "can",
        "you",
        "i",
        "want",
        "need",
        "would",
        "like",
    ]
)
QUESTION = "What is the site for? Tell me its name, what it offers and who it is for."


def should_ask(turn: Turn) -> bool:
    """A build prompt that names nothing to build, with ask_user offered and not asked yet this turn."""
    if "ask_user" not in turn.offered or any(outcome.name == "ask_user" for outcome in turn.outcomes):
        return False
    words = re.findall(r"[a-z']+", turn.prompt.lower())
    return not [word for word in words if word not in NOTHING_TO_BUILD]


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
    preparing = preparation_calls(turn, intent)
    if preparing:
        return _batch(turn, preparing)
    path = target_path(intent, located_paths(turn.outcomes) or files)
    history = [
        outcome
        for outcome in turn.outcomes
        if outcome.path == path and outcome.name in ("read_file", "edit_file", "write_file")
    ]
    progress = read_progress(history)
    if progress.next_start is not None:
        return Step(calls=(_read_call(turn, path, progress.next_start),))
    if progress.text is None:
        if progress.failed is not None:
            return Step(
                text=f"{LABEL}: I could not read {path} ({_first_line(progress.failed.content)}), "
                "so nothing was changed."
            )
        if "read_file" not in turn.offered:
            return Step(text=f"{LABEL}: I need the read_file tool to change {path}, so nothing was changed.")
        return Step(calls=(_read_call(turn, path, 1),))

    # What the demo knows of the file: the last full read, with its own successful changes since applied.
    since = history[progress.complete_at + 1 :]
    known = _with_edits_applied(progress.text, since)
    writes = [outcome for outcome in since if outcome.name == "write_file"]
    if writes:
        return Step(text=follow_up_summary(intent, path, history))
    if any(not outcome.ok for outcome in since):
        if progress.passes < 2:
            return Step(calls=(_read_call(turn, path, 1),))
        return Step(calls=(Call("write_file", {"path": path, "content": revised(intent, path, known)}),))

    edits = plan_edits(intent, path, known)
    if edits is None or (edits and "edit_file" not in turn.offered):
        return Step(calls=(Call("write_file", {"path": path, "content": revised(intent, path, known)}),))
    if edits:
        # Checked here so a planning mistake shows up as an error, never as an edit the client refuses.
        apply_edits(known, edits)
        return _batch(turn, _edit_calls(turn, path, edits))
    return Step(text=follow_up_summary(intent, path, history))


def preparation_calls(turn: Turn, intent: Intent) -> list[Call]:
    """Before reading, when offered: post a plan, and find the file with a search or a glob."""
    made = {outcome.name for outcome in turn.outcomes}
    calls = []
    locate = locate_call(turn, intent)
    if "set_plan" in turn.offered and "set_plan" not in made:
        calls.append(Call("set_plan", {"steps": plan_steps(turn, intent, locate)}))
    if locate is not None and not made & LOCATE_TOOLS:
        calls.append(locate)
    return calls


def locate_call(turn: Turn, intent: Intent) -> Call | None:
    """A glob for the stylesheets when the change is a colour; a search of the pages otherwise."""
    if intent.styles and "glob" in turn.offered:
        return Call("glob", {"pattern": "**/*.css"})
    if "search_files" in turn.offered:
        if intent.action == "title":
            return Call("search_files", {"pattern": "<title", "literal": True, "path_glob": "**/*.htm*"})
        return Call("search_files", {"pattern": "</(?:main|body)>", "path_glob": "**/*.htm*"})
    if "glob" in turn.offered:
        return Call("glob", {"pattern": "**/*.htm*"})
    return None


def plan_steps(turn: Turn, intent: Intent, locate: Call | None) -> list[str]:
    asked = intent.describe(done=False)
    steps = [f"Find the file to change with {locate.name}"] if locate is not None else []
    steps.append("Read it by line ranges" if turn.ranged_reads else "Read it")
    how = " in one edit_file call" if turn.multi_edits else ""
    steps.append(f"{asked[:1].upper()}{asked[1:]} with exact edits{how}")
    steps.append("Summarise what changed")
    return [step if len(step) <= PLAN_STEP_CHARS else step[: PLAN_STEP_CHARS - 1] + "…" for step in steps]


def located_paths(outcomes: tuple[Outcome, ...]) -> tuple[str, ...]:
    """The files this turn's search_files or glob call found, in the order it gave them."""
    for outcome in outcomes:
        if outcome.ok and outcome.name == "glob":
            return parse_file_list(outcome.content)
        if outcome.ok and outcome.name == "search_files":
            return tuple(dict.fromkeys(hit.group("path") for hit in SEARCH_HIT.finditer(outcome.content)))
    return ()


def _read_call(turn: Turn, path: str, start: int) -> Call:
    return Call("read_file", read_arguments(path, start, ranged=turn.ranged_reads))


def _edit_calls(turn: Turn, path: str, edits: list[Edit]) -> list[Call]:
    if turn.multi_edits:
        pairs = [{"search": edit.search, "replace": edit.replace} for edit in edits]
        return [Call("edit_file", {"path": path, "edits": pairs})]
    return [
        Call("edit_file", {"path": path, "search": edit.search, "replace": edit.replace}) for edit in edits
    ]


def _edit_pairs(outcome: Outcome) -> list[tuple[str, str]]:
    """The replacements an edit_file call asked for: its `edits`, or its one search and replace."""
    edits = outcome.arguments.get("edits")
    if isinstance(edits, list):
        return [(edit.get("search", ""), edit.get("replace", "")) for edit in edits if isinstance(edit, dict)]
    return [(outcome.arguments.get("search", ""), outcome.arguments.get("replace", ""))]


def _with_edits_applied(known: str, outcomes: list[Outcome]) -> str:
    for outcome in outcomes:
        if outcome.ok and outcome.name == "edit_file":
            for search, replace in _edit_pairs(outcome):
                if occurrences(known, search) == 1:
                    known = known.replace(search, replace, 1)
    return known


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
    applied = sum(len(_edit_pairs(outcome)) for outcome in edits if outcome.ok)
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
