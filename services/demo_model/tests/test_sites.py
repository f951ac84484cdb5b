"""The site writer: valid, small, self-contained pages whose name, sections and palette follow the prompt."""

import re

import pytest

from oasis_demo_model.sites import PALETTES, build_site, spec_for
from tests.html_check import html_problems

PROMPTS = [
    "a bakery in Lisbon with a menu and opening hours",
    "a portfolio for a photographer in Berlin with a gallery",
    "a landing page for my note-taking app with pricing and an FAQ",
    "a wedding website for Ana & Rui with the schedule and a map",
    "a yoga studio with classes, prices and reviews",
    "a plumber in Leeds",
    "an app with features, pricing, a team, reviews, a gallery, events, hours, a map, bookings and an FAQ",
    "a site about my cat",
    "",
    'a café called "<script>alert(1)</script> & Co" with a contact form',
]


def files_of(prompt: str) -> dict[str, str]:
    return {file.path: file.content for file in build_site(prompt).files}


def test_a_site_is_an_index_page_a_stylesheet_and_a_script():
    assert list(files_of(PROMPTS[0])) == ["index.html", "style.css", "script.js"]


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_page_is_valid_html5(prompt):
    assert html_problems(files_of(prompt)["index.html"]) == []


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_page_links_its_stylesheet_and_script(prompt):
    page = files_of(prompt)["index.html"]
    assert '<link rel="stylesheet" href="style.css">' in page
    assert '<script src="script.js" defer></script>' in page


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_same_prompt_always_gives_the_same_files(prompt):
    assert files_of(prompt) == files_of(prompt)


def test_different_prompts_give_different_sites():
    pages = {files_of(prompt)["index.html"] for prompt in PROMPTS}
    assert len(pages) == len(PROMPTS)


@pytest.mark.parametrize(
    ("prompt", "name"),
    [
        ("a bakery in Lisbon with a menu and opening hours", "Lisbon Bakery"),
        ("a bakery in lisbon", "Lisbon Bakery"),
        ("a coffee shop in Porto", "Porto Coffee"),
        ("a pizzeria in New York", "New York Pizzeria"),
        ('a bakery called "Pão Quente"', "Pão Quente"),
        ("a cafe called Blue Door", "Blue Door"),
        ("a site for Maria's Bakery in Porto", "Maria's Bakery"),
        ("a wedding website for Ana & Rui", "Ana & Rui"),
        ("a page about chess clubs", "Chess Clubs"),
        ("a site about my cat", "The Cat Page"),
        ("", "My Website"),
    ],
)
def test_the_name_comes_from_the_prompt(prompt, name):
    assert spec_for(prompt).name == name


def test_a_kind_without_a_place_gets_a_stable_adjective():
    name = spec_for("a bakery with good bread").name
    assert name.endswith(" Bakery")
    assert name == spec_for("a bakery with good bread").name


@pytest.mark.parametrize(
    ("prompt", "sections"),
    [
        ("a bakery in Lisbon with a menu and opening hours", ("about", "menu", "hours")),
        ("a landing page for my app with pricing and an FAQ", ("features", "pricing", "faq")),
        ("a photographer with a gallery and a contact form", ("about", "work", "gallery", "contact")),
        ("a restaurant with reservations and a map", ("about", "menu", "location", "booking")),
    ],
)
def test_the_sections_are_the_ones_asked_for_topped_up_from_the_kind(prompt, sections):
    assert spec_for(prompt).sections == sections


@pytest.mark.parametrize(
    ("prompt", "palette"),
    [
        ("a dark portfolio for a designer", "night"),
        ("a blue bakery", "ocean"),
        ("a green florist", "forest"),
        ("a minimal law firm", "slate"),
    ],
)
def test_colour_words_pick_the_palette(prompt, palette):
    assert spec_for(prompt).palette.name == palette
    assert PALETTES[palette].accent in files_of(prompt)["style.css"]


def test_the_menu_and_hours_are_on_the_page_of_a_bakery():
    page = files_of("a bakery in Lisbon with a menu and opening hours")["index.html"]
    assert '<section id="menu"' in page
    assert '<section id="hours"' in page
    assert "<title>Lisbon Bakery</title>" in page
    assert "<h1>Lisbon Bakery</h1>" in page


@pytest.mark.parametrize(
    ("prompt", "currency"),
    [("a bakery in Lisbon", "€"), ("a bakery in London", "£"), ("a bakery in Austin", "$")],
)
def test_prices_use_the_local_currency(prompt, currency):
    assert f'<p class="price">{currency}' in files_of(prompt)["index.html"]


def test_text_from_the_prompt_is_escaped():
    page = files_of(PROMPTS[-1])["index.html"]
    assert "<script>alert" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page


@pytest.mark.parametrize("prompt", PROMPTS)
def test_the_stylesheet_loads_nothing_from_elsewhere_and_is_responsive(prompt):
    css = files_of(prompt)["style.css"]
    assert not re.search(r"@import|url\(|https?:", css)
    assert "@media (max-width" in css
    assert css.count("{") == css.count("}")


def test_the_script_toggles_the_menu_and_writes_the_year():
    script = files_of(PROMPTS[0])["script.js"]
    assert 'classList.toggle("open")' in script
    assert "aria-expanded" in script
    assert "getFullYear()" in script


@pytest.mark.parametrize("prompt", PROMPTS)
def test_sites_stay_small(prompt):
    assert sum(len(content.encode()) for content in files_of(prompt).values()) < 12_000


@pytest.mark.parametrize("prompt", PROMPTS)
def test_every_file_says_it_was_written_by_the_demo_model_not_an_ai(prompt):
    for content in files_of(prompt).values():
        assert "deterministic, not an AI" in content
