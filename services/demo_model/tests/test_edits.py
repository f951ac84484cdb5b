"""The edit planner: each search occurs exactly once in what it was planned on, and edits are idempotent."""

import pytest

from oasis_demo_model.edits import (
    DARK,
    Edit,
    EditMismatch,
    Intent,
    append_edit,
    apply_edits,
    intent_for,
    occurrences,
    plan_edits,
    revised,
    target_path,
)
from oasis_demo_model.sites import build_site
from tests.html_check import html_problems

SITE = {
    file.path: file.content for file in build_site("a bakery in Lisbon with a menu and opening hours").files
}

HAND_WRITTEN_PAGE = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>Tom's Tools</title></head>
<body>
<h1 class="big">Tom's Tools</h1>
<p>Repairs.</p>
<p>Repairs.</p>
<main><p>Open daily.</p></main>
</body>
</html>
"""
FRAGMENT = "<p>Just a paragraph.</p>\n<p>Just a paragraph.</p>\n"
CSS_WITHOUT_VARIABLES = "body { margin: 0; }\n\na { color: red; }\n\na { color: red; }\n"
CSS_WITH_OTHER_ROOT = ":root {\n  --gap: 1rem;\n}\nbody { color: #222; }\n"

INTENTS = [
    Intent("dark", prompt="make the background dark"),
    Intent("light", prompt="make the background light"),
    Intent("accent", "green", "make it green"),
    Intent("title", "Pão & Companhia", "change the title to Pão & Companhia"),
    Intent("section", "contact", "add a contact section"),
    Intent("section", "gallery", "add a gallery"),
    Intent("section", "", "make it more fun"),
]
DOCUMENTS = [
    ("index.html", SITE["index.html"]),
    ("style.css", SITE["style.css"]),
    ("page.html", HAND_WRITTEN_PAGE),
    ("page.html", FRAGMENT),
    ("style.css", CSS_WITHOUT_VARIABLES),
    ("style.css", CSS_WITH_OTHER_ROOT),
]


def applies_to(intent: Intent, path: str) -> bool:
    return intent.styles or path.endswith(".html")


CASES = [
    pytest.param(intent, path, content, id=f"{intent.action}-{intent.value or 'own'}-{path}-{number}")
    for intent in INTENTS
    for number, (path, content) in enumerate(DOCUMENTS)
    if applies_to(intent, path)
]


@pytest.mark.parametrize(
    ("prompt", "action", "value"),
    [
        ("make the background dark", "dark", ""),
        ("Dark mode please", "dark", ""),
        ("make the background light", "light", ""),
        ("use a white background", "light", ""),
        ("make it blue", "accent", "blue"),
        ("change the colour to purple", "accent", "purple"),
        ("change the title to Pão & Co", "title", "Pão & Co"),
        ('rename the site to "Sunny Side"', "title", "Sunny Side"),
        ("the heading should be Hello there.", "title", "Hello there"),
        ("add a contact section", "section", "contact"),
        ("please add opening hours", "section", "hours"),
        ("add a dark chocolate cake to the menu", "section", "menu"),
        ("include some customer reviews", "section", "testimonials"),
        ("add a newsletter signup", "section", ""),
        ("make it more fun", "section", ""),
        ("start over as a florist", "rebuild", ""),
    ],
)
def test_a_prompt_names_what_to_change(prompt, action, value):
    intent = intent_for(prompt)
    assert (intent.action, intent.value) == (action, value)


@pytest.mark.parametrize(
    ("prompt", "files", "target"),
    [
        ("make it dark", ["index.html", "style.css", "script.js"], "style.css"),
        ("make it dark", ["index.html", "css/main.css"], "css/main.css"),
        ("make it dark", ["index.html"], "index.html"),
        ("add a gallery", ["about.html", "index.html", "style.css"], "index.html"),
        ("add a gallery", ["b.html", "a.html"], "a.html"),
        ("add a gallery", ["notes.txt"], None),
    ],
)
def test_the_target_is_the_stylesheet_for_colours_and_the_page_for_the_rest(prompt, files, target):
    assert target_path(intent_for(prompt), files) == target


@pytest.mark.parametrize(("intent", "path", "content"), CASES)
def test_every_search_occurs_exactly_once_where_it_is_applied(intent, path, content):
    edits = plan_edits(intent, path, content)
    assert edits
    current = content
    for edit in edits:
        assert occurrences(current, edit.search) == 1
        assert current.count(edit.search) == 1
        current = current.replace(edit.search, edit.replace, 1)


@pytest.mark.parametrize(("intent", "path", "content"), CASES)
def test_planning_again_after_the_edits_changes_nothing(intent, path, content):
    edited = apply_edits(content, plan_edits(intent, path, content))
    assert edited != content
    assert plan_edits(intent, path, edited) == []


@pytest.mark.parametrize("intent", [intent for intent in INTENTS if not intent.styles])
def test_an_edited_demo_page_is_still_valid_html(intent):
    edited = apply_edits(SITE["index.html"], plan_edits(intent, "index.html", SITE["index.html"]))
    assert html_problems(edited) == []


def test_a_dark_background_rewrites_the_colour_variables_in_one_edit():
    [edit] = plan_edits(Intent("dark"), "style.css", SITE["style.css"])
    assert edit.search.startswith(":root {")
    assert f"--bg: {DARK['bg']};" in edit.replace
    assert "color-scheme: dark;" in edit.replace
    assert "--accent:" in edit.replace


def test_a_title_change_edits_the_title_the_headline_and_the_brand():
    edits = plan_edits(Intent("title", "Pão & Co"), "index.html", SITE["index.html"])
    assert [edit.replace.split(">")[0] for edit in edits] == ["<title", "<h1", '<a class="brand" href="#top"']
    assert all("Pão &amp; Co" in edit.replace for edit in edits)


def test_a_contact_section_goes_before_the_end_of_main_with_a_menu_link():
    nav_edit, section_edit = plan_edits(Intent("section", "contact"), "index.html", SITE["index.html"])
    assert '<li><a href="#contact">Contact</a></li>' in nav_edit.replace
    assert section_edit.search == "    </main>"
    assert section_edit.replace.startswith('      <section id="contact" class="section">')
    assert "hello@lisbon-bakery.example" in section_edit.replace


def test_any_other_request_adds_a_section_labelled_as_the_demo_models():
    [edit] = plan_edits(Intent("section", "", "add a newsletter signup"), "index.html", SITE["index.html"])
    assert "<h2>Newsletter signup</h2>" in edit.replace
    assert "Added by the Oasis demo model (deterministic, not an AI)" in edit.replace


def test_a_colour_change_without_variables_appends_a_labelled_rule():
    [edit] = plan_edits(Intent("accent", "green"), "style.css", CSS_WITHOUT_VARIABLES)
    assert edit.search == "a { color: red; }\n\na { color: red; }\n"
    assert edit.replace.endswith(
        "a { color: #2f8f4e; }\n.button, button { background: #2f8f4e; color: #ffffff; }\n"
    )


def test_a_page_without_a_stylesheet_gets_a_style_block_in_its_head():
    [edit] = plan_edits(Intent("dark"), "page.html", HAND_WRITTEN_PAGE)
    assert edit.search == "</head>"
    assert edit.replace.startswith("\n  <style>")


def test_an_empty_file_cannot_be_edited_so_it_is_rewritten():
    assert plan_edits(Intent("dark"), "style.css", "") is None
    assert "color-scheme: dark;" in revised(Intent("dark"), "style.css", "")
    page = revised(Intent("section", "contact", "add a contact section"), "index.html", "")
    assert html_problems(page) == []
    assert 'id="contact"' in page


@pytest.mark.parametrize(
    ("content", "search"),
    [("a b a", "a"), ("abc", "x"), ("aaa", "aa")],
    ids=["twice", "never", "overlapping"],
)
def test_applying_refuses_a_search_that_does_not_occur_exactly_once(content, search):
    with pytest.raises(EditMismatch):
        apply_edits(content, [Edit(search, "z")])


def test_appending_anchors_on_the_shortest_unique_ending():
    content = "x\n}\n\ny\n}\n"
    edit = append_edit(content, "z\n")
    assert edit.search == "y\n}\n"
    assert apply_edits(content, [edit]) == content + "z\n"
