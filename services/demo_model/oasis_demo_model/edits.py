"""Follow-up edits: what a prompt asks to change, and exact search-and-replace edits that make the change.

Every edit's `search` is copied from the content it was planned on and occurs there exactly once
(overlapping occurrences counted), so a tool that applies exact, match-once replacements accepts it.
Planning is idempotent: once the edits are applied, planning again on the result gives no edits.
"""

from __future__ import annotations

import hashlib
import html
import re
from dataclasses import dataclass

from oasis_demo_model import LABEL
from oasis_demo_model.sites import (
    GENERAL,
    PALETTES,
    SECTION_TITLES,
    SECTION_WORDS,
    SiteSpec,
    currency_for,
    indent,
    kind_for,
    render_css,
    render_index,
    section_snippet,
    spec_for,
)

STYLE_ACTIONS = ("dark", "light", "accent")

DARK = {"bg": "#12141a", "surface": "#1b1e27", "text": "#eef0f5", "muted": "#a3a9b8"}
LIGHT = {"bg": "#ffffff", "surface": "#f5f6f8", "text": "#1b1f27", "muted": "#5a6170"}
ACCENTS = {
    "blue": ("#1f6fd1", "#ffffff"),
    "navy": ("#1d3a6b", "#ffffff"),
    "teal": ("#12837b", "#ffffff"),
    "green": ("#2f8f4e", "#ffffff"),
    "red": ("#c62f2f", "#ffffff"),
    "pink": ("#c83f78", "#ffffff"),
    "purple": ("#7a3fc4", "#ffffff"),
    "orange": ("#d0601a", "#ffffff"),
    "yellow": ("#e0b100", "#1f1a00"),
    "gold": ("#b8860b", "#ffffff"),
    "brown": ("#8a5a35", "#ffffff"),
    "black": ("#111111", "#ffffff"),
}

TITLE_PATTERNS = (
    r"(?:change|set|rename|update|make)\s+(?:the\s+)?(?:site\s+|page\s+|website\s+|main\s+)?"
    r"(?:title|name|heading|headline)\s+(?:to|into|as|be)\s+(?P<value>.+)",
    r"(?:rename|call)\s+(?:it|the\s+(?:site|page|website|business|shop))\s+(?:to\s+)?(?P<value>.+)",
    r"(?:title|name|heading|headline)\s+should\s+(?:be|say|read)\s+(?P<value>.+)",
)
REBUILD = (
    r"start over|start again|from scratch|rebuild|build a new|new (?:web)?site|replace (?:the|this) site|redo"
)
ADD_VERBS = r"add|include|insert|put|create|append|give (?:it|me)|i want|we need|i need|show"


class EditMismatch(ValueError):
    """An edit's search text does not occur exactly once in the content."""


@dataclass(frozen=True)
class Intent:
    action: str  # "title", "dark", "light", "accent", "section" or "rebuild"
    value: str = ""  # the new title, the accent colour, a known section's key ("" = made from the prompt)
    prompt: str = ""

    @property
    def styles(self) -> bool:
        return self.action in STYLE_ACTIONS

    def describe(self, *, done: bool = True) -> str:
        """What the change does, as done ("made the background dark") or as asked ("make the …")."""
        if self.action == "title":
            verb, what = "change", f"the title to “{self.value}”"
        elif self.action in ("dark", "light"):
            verb, what = "make", f"the background {self.action}"
        elif self.action == "accent":
            verb, what = "change", f"the accent colour to {self.value}"
        elif self.action == "rebuild":
            verb, what = "rebuild", "the site"
        elif self.value:
            verb, what = "add", f"a “{SECTION_TITLES[self.value]}” section"
        else:
            verb, what = "add", f"a section for “{self.prompt}”"
        past = {"change": "changed", "make": "made", "rebuild": "rebuilt", "add": "added"}
        return f"{past[verb] if done else verb} {what}"


@dataclass(frozen=True)
class Edit:
    search: str
    replace: str


def _find(pattern: str, text: str) -> re.Match[str] | None:
    return re.search(rf"(?<![\w-])(?:{pattern})(?![\w-])", text, flags=re.IGNORECASE)


def occurrences(haystack: str, needle: str) -> int:
    """How many places needle starts at in haystack, overlapping ones included."""
    if not needle:
        return 0
    count, start = 0, haystack.find(needle)
    while start != -1:
        count += 1
        start = haystack.find(needle, start + 1)
    return count


def _clean_value(raw: str) -> str:
    value = raw.strip().splitlines()[0].strip()
    value = re.sub(r"[.!?]+$", "", value).strip()
    return value.strip("\"'\u201c\u201d\u2018\u2019 ")[:80].strip()


def intent_for(prompt: str) -> Intent:
    prompt = " ".join(prompt.split())
    for pattern in TITLE_PATTERNS:
        match = re.search(pattern, prompt, flags=re.IGNORECASE)
        if match and _clean_value(match.group("value")):
            return Intent("title", _clean_value(match.group("value")), prompt)
    if _find(REBUILD, prompt):
        return Intent("rebuild", prompt=prompt)
    section = _section_key(prompt)
    # "Add a dark chocolate cake" asks for content, not a dark theme.
    if re.match(rf"(?:(?:please|can you|could you)\s+)?(?:{ADD_VERBS})\b", prompt, flags=re.IGNORECASE):
        return Intent("section", section or "", prompt)
    if _find(r"dark|darker|night mode|dark mode|dark theme|black background", prompt):
        return Intent("dark", prompt=prompt)
    if _find(r"lighter|brighter|white background|make it light", prompt) or (
        _find("light", prompt) and _find(r"background|mode|theme|colou?rs?", prompt)
    ):
        return Intent("light", prompt=prompt)
    colour = next((name for name in ACCENTS if _find(name, prompt)), None)
    if colour and _find(r"colou?rs?|accent|buttons?|links?|theme|make it|change it|paint|more", prompt):
        return Intent("accent", colour, prompt)
    if section and _find(ADD_VERBS, prompt):
        return Intent("section", section, prompt)
    return Intent("section", "", prompt)


def _section_key(prompt: str) -> str | None:
    """The known section the prompt names first, if any."""
    found = [(match.start(), key) for key, pattern in SECTION_WORDS if (match := _find(pattern, prompt))]
    return min(found)[1] if found else None


def is_html(path: str) -> bool:
    return path.lower().endswith((".html", ".htm"))


def is_css(path: str) -> bool:
    return path.lower().endswith(".css")


def target_path(intent: Intent, files: list[str] | tuple[str, ...]) -> str | None:
    """The file a follow-up changes: the stylesheet for colours (else the page), the page for the rest."""
    if intent.styles:
        if "style.css" in files:
            return "style.css"
        stylesheets = sorted(path for path in files if is_css(path))
        if stylesheets:
            return stylesheets[0]
    if "index.html" in files:
        return "index.html"
    pages = sorted(path for path in files if is_html(path))
    return pages[0] if pages else None


def plan_edits(intent: Intent, path: str, content: str) -> list[Edit] | None:
    """Exact edits that make the change; [] when the content already has it; None when the file is empty."""
    if not content:
        return None
    if intent.styles:
        if is_css(path):
            return _style_edits(intent, content)
        return _page_style_edits(intent, content)
    if intent.action == "title":
        return _title_edits(intent.value, content)
    return _section_edits(intent, content)


def apply_edits(content: str, edits: list[Edit]) -> str:
    for edit in edits:
        found = occurrences(content, edit.search)
        if found != 1:
            raise EditMismatch(f"the search text occurs {found} times, not once")
        content = content.replace(edit.search, edit.replace, 1)
    return content


def revised(intent: Intent, path: str, content: str) -> str:
    """The whole file with the change made: what the demo writes when exact edits cannot be used."""
    if not content:
        content = render_css(PALETTES["slate"]) if is_css(path) else render_index(spec_for(intent.prompt))
    return apply_edits(content, plan_edits(intent, path, content) or [])


def append_edit(content: str, addition: str) -> Edit:
    """An edit that adds text at the end, anchored on the shortest run of final lines that occurs once."""
    lines = content.splitlines(keepends=True)
    suffix = content
    for count in range(1, len(lines) + 1):
        candidate = "".join(lines[-count:])
        if candidate.strip() and occurrences(content, candidate) == 1:
            suffix = candidate
            break
    separator = "" if suffix.endswith("\n") else "\n"
    return Edit(suffix, f"{suffix}{separator}{addition}")


def _insert_before_closing(content: str, tag: str, snippet: str) -> Edit | None:
    closing = f"</{tag}>"
    if occurrences(content, closing) != 1:
        return None
    at = content.index(closing)
    line_start = content.rfind("\n", 0, at) + 1
    pad = content[line_start:at]
    if pad.strip():
        return Edit(closing, f"\n{indent(snippet, 2)}\n{closing}")
    return Edit(pad + closing, f"{indent(snippet, len(pad) + 2)}\n{pad}{closing}")


# Colours


def _style_values(intent: Intent) -> dict[str, str]:
    if intent.action == "dark":
        return {**DARK, "scheme": "dark"}
    if intent.action == "light":
        return {**LIGHT, "scheme": "light"}
    accent, accent_text = ACCENTS[intent.value]
    return {"accent": accent, "accent-text": accent_text}


def _override_rule(intent: Intent) -> str:
    values = _style_values(intent)
    if intent.action == "accent":
        return (
            f"a {{ color: {values['accent']}; }}\n"
            f".button, button {{ background: {values['accent']}; color: {values['accent-text']}; }}"
        )
    return f"body {{ background: {values['bg']}; color: {values['text']}; }}"


def _marker(intent: Intent) -> str:
    return f"/* {LABEL}: {intent.describe()} */"


def _style_edits(intent: Intent, css: str) -> list[Edit]:
    values = _style_values(intent)
    root = re.search(r":root\s*\{[^{}]*\}", css)
    if root and occurrences(css, root.group(0)) == 1:
        block = updated = root.group(0)
        names = [name for name in values if name != "scheme"]
        if any(re.search(rf"--{name}\s*:", block) for name in names):
            for name in names:
                updated = re.sub(
                    rf"(--{name}\s*:\s*)[^;}}]+", lambda m, v=values[name]: m.group(1) + v, updated
                )
            if "scheme" in values:
                updated = re.sub(
                    r"(color-scheme\s*:\s*)[^;}]+", lambda m: m.group(1) + values["scheme"], updated
                )
            return [] if updated == block else [Edit(block, updated)]
    if _marker(intent) in css:
        return []
    return [append_edit(css, f"\n{_marker(intent)}\n{_override_rule(intent)}\n")]


def _page_style_edits(intent: Intent, page: str) -> list[Edit]:
    if _marker(intent) in page:
        return []
    style = f"<style>\n{_marker(intent)}\n{_override_rule(intent)}\n</style>"
    return [_insert_before_closing(page, "head", style) or append_edit(page, style + "\n")]


# Title


ELEMENT_PATTERNS = (
    r"<title\b[^>]*>.*?</title>",
    r"<h1\b[^>]*>.*?</h1>",
    r"<a\b[^>]*\bclass=\"[^\"]*\bbrand\b[^\"]*\"[^>]*>.*?</a>",
)


def _title_edits(title: str, page: str) -> list[Edit]:
    text = html.escape(title, quote=False)
    edits, found_any, current = [], False, page
    # Each edit is planned on the page as the ones before it leave it, so they apply in order.
    for pattern in ELEMENT_PATTERNS:
        match = re.search(pattern, current, flags=re.IGNORECASE | re.DOTALL)
        if not match:
            continue
        found_any = True
        element = match.group(0)
        if occurrences(current, element) != 1:
            continue
        replacement = element[: element.index(">") + 1] + text + element[element.rindex("<") :]
        if replacement != element:
            edits.append(Edit(element, replacement))
            current = current.replace(element, replacement, 1)
    if found_any:
        return edits
    head = re.search(r"<head\b[^>]*>", page, flags=re.IGNORECASE)
    if head and occurrences(page, head.group(0)) == 1:
        return [Edit(head.group(0), f"{head.group(0)}\n<title>{text}</title>")]
    return [append_edit(page, f"<h1>{text}</h1>\n")]


# Sections


def page_spec(page: str, prompt: str) -> SiteSpec:
    """Enough of a site's description, read back from its page, to write one more section in its voice."""
    title = re.search(r"<title\b[^>]*>(.*?)</title>", page, flags=re.IGNORECASE | re.DOTALL)
    name = html.unescape(re.sub(r"<[^>]+>", "", title.group(1))).strip() if title else ""
    name = name or "This site"
    kind, _ = kind_for(f"{name} {prompt}")
    if kind is GENERAL:
        kind, _ = kind_for(re.sub(r"<[^>]+>", " ", page))
    place = next((word for word in name.split() if currency_for(word) != "$"), None)
    email = re.search(r'href="mailto:([^"?]+)', page)
    return SiteSpec(
        prompt=prompt,
        name=name,
        kind=kind,
        place=place,
        palette=PALETTES["slate"],
        sections=(),
        currency=currency_for(place),
        contact_email=html.unescape(email.group(1)) if email else None,
    )


def section_heading(prompt: str) -> str:
    text = prompt.strip().rstrip(".!?")
    text = re.sub(r"^(?:please|can you|could you|would you)\s+", "", text, flags=re.IGNORECASE)
    added = re.match(rf"(?:{ADD_VERBS})\s+(?:a|an|the|some|my|our)?\s*(.+)", text, flags=re.IGNORECASE)
    if not added:
        words = " ".join(text.split()[:8])
        return f"Update: {words}" if words else "Update"
    phrase = re.sub(r"\s+(?:section|block|area|part|panel|box)\b.*$", "", added.group(1), flags=re.IGNORECASE)
    phrase = re.sub(
        r"\s+(?:to|on|at|in|for)\s+(?:the\s+)?(?:site|page|homepage|website|bottom|top|end)\b.*$",
        "",
        phrase,
        flags=re.IGNORECASE,
    )
    words = " ".join(phrase.split()[:6])
    return words[:1].upper() + words[1:] if words else "Update"


def _update_section(intent: Intent, section_id: str) -> str:
    return (
        f'<section id="{section_id}" class="section demo-update">\n'
        f"  <h2>{html.escape(section_heading(intent.prompt), quote=False)}</h2>\n"
        f"  <p>Added by the {html.escape(LABEL, quote=False)} in answer to: "
        f"“{html.escape(intent.prompt, quote=False)}”.</p>\n"
        "</section>"
    )


def _nav_link_edit(page: str, section_id: str, label: str) -> Edit | None:
    nav = re.search(r"<nav\b[^>]*>.*?</nav>", page, flags=re.IGNORECASE | re.DOTALL)
    if not nav or occurrences(page, nav.group(0)) != 1:
        return None
    element = nav.group(0)
    closing = element.rfind("</ul>")
    if closing == -1 or f'href="#{section_id}"' in element:
        return None
    line_start = element.rfind("\n", 0, closing) + 1
    pad = element[line_start:closing]
    if pad.strip():
        pad = ""
    link = f'{pad}  <li><a href="#{section_id}">{html.escape(label)}</a></li>\n'
    return Edit(element, element[:line_start] + link + element[line_start:])


def _section_edits(intent: Intent, page: str) -> list[Edit]:
    if intent.value:
        section_id = intent.value
        snippet = section_snippet(intent.value, page_spec(page, intent.prompt))
    else:
        section_id = "update-" + hashlib.sha256(intent.prompt.encode()).hexdigest()[:8]
        snippet = _update_section(intent, section_id)
    if re.search(rf"\bid\s*=\s*[\"']{re.escape(section_id)}[\"']", page):
        return []
    edits = []
    nav_edit = _nav_link_edit(page, section_id, SECTION_TITLES[intent.value]) if intent.value else None
    if nav_edit:
        edits.append(nav_edit)
        page = page.replace(nav_edit.search, nav_edit.replace, 1)
    edits.append(
        _insert_before_closing(page, "main", snippet)
        or _insert_before_closing(page, "body", snippet)
        or append_edit(page, snippet + "\n")
    )
    return edits
