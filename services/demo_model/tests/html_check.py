"""A strict-enough HTML5 check for tests: doctype, lang, head essentials, and every tag closed in order."""

from __future__ import annotations

from html.parser import HTMLParser

VOID = frozenset(
    {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"}
)


class _Checker(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.doctype = None
        self.stack: list[str] = []
        self.problems: list[str] = []
        self.start_tags: list[tuple[str, dict[str, str | None]]] = []
        self.ids: list[str] = []

    def handle_decl(self, decl):
        self.doctype = decl

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.start_tags.append((tag, attributes))
        if attributes.get("id"):
            self.ids.append(attributes["id"])
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag, attrs):
        self.start_tags.append((tag, dict(attrs)))
        if tag not in VOID:
            self.problems.append(f"<{tag}/> is not a void element")

    def handle_endtag(self, tag):
        if tag in VOID:
            self.problems.append(f"</{tag}> closes a void element")
        elif not self.stack or self.stack[-1] != tag:
            self.problems.append(
                f"</{tag}> does not close the open <{self.stack[-1] if self.stack else None}>"
            )
        else:
            self.stack.pop()


def html_problems(page: str) -> list[str]:
    """Everything wrong with the page; an empty list for a valid one."""
    checker = _Checker()
    checker.feed(page)
    checker.close()
    problems = list(checker.problems)
    if (checker.doctype or "").lower() != "doctype html":
        problems.append(f"the doctype is {checker.doctype!r}, not 'DOCTYPE html'")
    if checker.stack:
        problems.append(f"unclosed tags: {checker.stack}")
    tags = dict(checker.start_tags[:1])
    if not tags.get("html", {}).get("lang"):
        problems.append("<html> has no lang")
    metas = [attrs for tag, attrs in checker.start_tags if tag == "meta"]
    if not any(attrs.get("charset") for attrs in metas):
        problems.append("no <meta charset>")
    if not any(attrs.get("name") == "viewport" for attrs in metas):
        problems.append("no <meta name=viewport>")
    if sum(tag == "title" for tag, _ in checker.start_tags) != 1:
        problems.append("not exactly one <title>")
    duplicates = sorted({item for item in checker.ids if checker.ids.count(item) > 1})
    if duplicates:
        problems.append(f"duplicate ids: {duplicates}")
    return problems
