"""What the model is told: a system prompt, the file list, the contents that fit, the conversation.

The conversation so far is kept verbatim while it fits its token budget; older turns
are compacted to one short line each, and the oldest dropped, so a long project
history never crowds out the files.
"""

from __future__ import annotations

from catalog.registry import tokens_for_text
from generations.models import Message
from generations.tools import WorkingCopy

SYSTEM_BUILD = """You are the builder of Imagi Oasis, an AI website builder. You edit a small static \
website (HTML, CSS, a little JavaScript) by calling tools on the project's files.

Rules:
- Work only through the tools. Paths are relative (index.html, css/site.css); never absolute, never "..".
- Read a file before editing it. edit_file replaces one exact occurrence of `search`; copy it from the file.
  Several changes to one file go in one edit_file call as `edits` (all land, or none do).
- Find what to change with search_files and glob, and read long files in ranges (start_line, end_line).
- Prefer small edits with edit_file over rewriting whole files. For a change of several steps, post
  them first with set_plan.
- Keep the site valid, accessible (lang, alt text, labels) and responsive, with no external CDNs.
- When you are done, answer with a short summary of what you changed, in one or two sentences."""

SYSTEM_CHAT = """You are the assistant of Imagi Oasis, an AI website builder. Answer the user's question \
about their website. You may list and read the project's files; you cannot change them in this mode. \
Answer concisely."""

COMPACT_LINE_CHARS = 160


def file_overview(copy: WorkingCopy, *, budget_tokens: int) -> str:
    """The file list, then as many text contents as fit the budget (smallest first)."""
    if not copy.files:
        return "The project is empty: there are no files yet."
    lines = ["The project's files:"]
    lines += [
        f"- {path} ({file.size} bytes{', binary' if file.binary else ''})"
        for path, file in sorted(copy.files.items())
    ]
    spent = tokens_for_text("\n".join(lines))
    shown = []
    for path, file in sorted(copy.files.items(), key=lambda item: (item[1].size, item[0])):
        if not file.readable:
            continue
        block = f"\n--- {path} ---\n{file.content}\n"
        cost = tokens_for_text(block)
        if spent + cost > budget_tokens:
            continue
        spent += cost
        shown.append(block)
    if shown:
        lines.append("\nContents (files not shown here can be read with read_file):")
        lines += shown
    return "\n".join(lines)


def history_of(*, user_id, project_id, before=None, conversation_id=None) -> list[tuple[str, str]]:
    """A conversation's messages as (role, content), oldest first: the run `before`'s conversation without
    that run's messages, or `conversation_id`'s (none when it is None: a conversation yet to start)."""
    if before is not None:
        conversation_id = before.conversation_id
    if conversation_id is None:
        return []
    rows = Message.objects.filter(
        user_id=user_id, project_id=project_id, conversation_id=conversation_id, hidden_at__isnull=True
    )
    if before is not None:
        rows = rows.exclude(generation=before)
    return list(rows.order_by("created_at").values_list("role", "content"))


def compact_history(history: list[tuple[str, str]], *, budget_tokens: int) -> list[dict]:
    """The conversation as chat messages: recent turns verbatim, older ones shortened, oldest dropped."""
    kept: list[dict] = []
    spent = 0
    for role, content in reversed(history):
        cost = tokens_for_text(content)
        if spent + cost <= budget_tokens:
            kept.append({"role": role, "content": content})
            spent += cost
            continue
        short = " ".join(content.split())[:COMPACT_LINE_CHARS]
        cost = tokens_for_text(short)
        if spent + cost > budget_tokens:
            break
        kept.append({"role": role, "content": f"(earlier, shortened) {short}"})
        spent += cost
    kept.reverse()
    # Chat APIs expect a conversation to start with the user.
    while kept and kept[0]["role"] != "user":
        kept.pop(0)
    return kept


def initial_messages(
    *,
    mode: str,
    prompt: str,
    copy: WorkingCopy,
    history: list[tuple[str, str]],
    budget_tokens: int,
    history_tokens: int,
) -> list[dict]:
    system = SYSTEM_CHAT if mode == "chat" else SYSTEM_BUILD
    files = file_overview(copy, budget_tokens=max(0, budget_tokens - tokens_for_text(prompt)))
    return [
        {"role": "system", "content": f"{system}\n\n{files}"},
        *compact_history(history, budget_tokens=history_tokens),
        {"role": "user", "content": prompt},
    ]


def messages_tokens(messages: list[dict]) -> int:
    """Estimated input tokens of a request (content, tool calls and a little per message)."""
    total = 0
    for message in messages:
        total += 4 + tokens_for_text(message.get("content") or "")
        for call in message.get("tool_calls") or []:
            total += tokens_for_text(call["function"]["name"] + call["function"]["arguments"])
    return total
