"""The project page's conversations: several threads, each with its own messages, renamed, archived and
deleted."""

from __future__ import annotations

import re

import requests

from tests.browser.conftest import CRAWL_MODEL, api_headers, create_project, register_api, shot, sign_up

CRUMB = "A bakery in Lisbon called Crumb, with a menu"
PETAL = "A flower shop in Porto called Petal"
FOLLOW_UP = "Change the title to Sunrise Bakery"
FINAL = "done|no_changes|failed|cancelled|conflict|budget_exhausted|incomplete|needs_input|proposed"


def open_new_project(page, name: str) -> str:
    """A blank project made through the studio, its conversation picker shown; returns its id."""
    project = create_project(page, name)
    page.get_by_test_id("conversation-picker").wait_for()
    return project


def picker(page):
    return page.get_by_test_id("conversation-picker")


def row(page, name: str):
    """The button that shows a conversation, by its title.

    An untitled one is "New conversation (untitled)".
    """
    return picker(page).get_by_role("button", name=name, exact=True)


def current(page):
    return picker(page).locator("button[aria-current=true]")


def wait_shown(page, title: str):
    """The chat shows this conversation, its messages loaded."""
    current(page).filter(has_text=re.compile("^" + re.escape(title))).wait_for()
    page.locator("[data-testid=chat-log][aria-busy=false]").wait_for()


def user_turns(page) -> list[str]:
    return [text.strip() for text in page.locator(".turn.user").all_inner_texts()]


def build(page, prompt: str, runs: int) -> None:
    """Send a prompt with the quick demo model and wait for its run to end (then `runs` have ended)."""
    page.get_by_label("What should the builder do?").fill(prompt)
    page.get_by_role("button", name="Build").click()
    page.wait_for_function(
        f"""n => [...document.querySelectorAll('.turn.assistant')]
            .filter(t => /^({FINAL})$/.test(t.dataset.status || '')).length == n""",
        arg=runs,
        timeout=40_000,
    )
    page.get_by_role("button", name="Build").wait_for()


def test_two_conversations_each_show_their_own_messages(page, console, system):
    email = sign_up(page)
    project = open_new_project(page, "Threads")
    picker(page).get_by_text("No conversations yet").wait_for()
    sent = []  # the conversation each prompt was sent with
    loaded = []  # the conversations whose messages the studio loaded
    page.on(
        "request",
        lambda r: r.method == "POST" and r.url.endswith("/generations/") and sent.append(r.post_data_json),
    )
    page.on(
        "request",
        lambda r: (
            (m := re.search(r"/builder/conversations/([^/]+)/messages/", r.url)) and loaded.append(m.group(1))
        ),
    )

    # A new conversation, untitled until its first prompt names it.
    page.get_by_role("button", name="New conversation", exact=True).click()
    row(page, "New conversation (untitled)").wait_for()
    wait_shown(page, "New conversation")
    first_id = page.get_by_test_id("chat-log").get_attribute("data-conversation")
    build(page, CRUMB, runs=1)
    row(page, CRUMB).wait_for()

    # A second one: the chat starts empty, and its prompt goes in it.
    page.get_by_role("button", name="New conversation", exact=True).click()
    wait_shown(page, "New conversation")
    assert page.locator(".turn").count() == 0
    second_id = page.get_by_test_id("chat-log").get_attribute("data-conversation")
    assert second_id != first_id
    build(page, PETAL, runs=1)
    row(page, PETAL).wait_for()
    assert [s["conversation"] for s in sent] == [first_id, second_id]
    assert user_turns(page) == [PETAL]

    # Back and forth: each shows its own messages, loaded from its own thread.
    row(page, CRUMB).click()
    wait_shown(page, CRUMB)
    page.locator(".turn.user", has_text="Crumb").wait_for()
    assert user_turns(page) == [CRUMB]
    assert page.locator(".turn.assistant").count() == 1
    assert re.search(
        r"done · cost [\d,]+ credits? · [1-9]\d* tool calls?",
        page.locator(".turn.assistant").get_by_test_id("run-status").inner_text(),
    )
    row(page, PETAL).click()
    wait_shown(page, PETAL)
    page.locator(".turn.user", has_text="Petal").wait_for()
    assert user_turns(page) == [PETAL]
    assert first_id in loaded
    assert second_id in loaded

    # A follow-up continues the conversation shown.
    row(page, CRUMB).click()
    wait_shown(page, CRUMB)
    page.locator(".turn.user", has_text="Crumb").wait_for()
    build(page, FOLLOW_UP, runs=2)
    assert sent[-1]["conversation"] == first_id
    assert user_turns(page) == [CRUMB, FOLLOW_UP]

    # After a reload the most recently active conversation is the one shown, first in the list.
    page.reload()
    wait_shown(page, CRUMB)
    page.locator(".turn.assistant").nth(1).get_by_test_id("run-status").wait_for()
    assert user_turns(page) == [CRUMB, FOLLOW_UP]
    titles = picker(page).locator("[data-testid=conversations] .open .title").all_inner_texts()
    assert titles == [CRUMB, PETAL]

    # What the server holds agrees: two threads of this project, each with its own prompts.
    headers = api_headers(system, email)
    listed = requests.get(
        f"{system.url}/api/v1/builder/projects/{project}/conversations/", headers=headers, timeout=10
    ).json()["results"]
    assert [c["id"] for c in listed] == [first_id, second_id]
    shot(page, "conversations")
    assert console.unexpected() == []


def test_rename_archive_unarchive_and_delete_by_keyboard(page, console, system):
    email = sign_up(page)
    project = open_new_project(page, "Tidy")
    headers = api_headers(system, email)
    base = f"{system.url}/api/v1/builder"
    for title in ("Old ideas", "Landing page"):
        response = requests.post(
            f"{base}/projects/{project}/conversations/", json={"title": title}, headers=headers, timeout=10
        )
        assert response.status_code == 201, response.text
    page.reload()
    wait_shown(page, "Landing page")

    # Rename inline: the field is labelled, Escape cancels, Enter saves, focus comes back to Rename.
    page.get_by_role("button", name="Rename Landing page").click()
    field = picker(page).get_by_label("New title")
    assert field.evaluate("el => el === document.activeElement")
    field.fill("Never mind")
    page.keyboard.press("Escape")
    row(page, "Landing page").wait_for()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Rename Landing page"
    page.keyboard.press("Enter")
    picker(page).get_by_label("New title").fill("Home page")
    page.keyboard.press("Enter")
    row(page, "Home page").wait_for()
    picker(page).get_by_role("status").filter(has_text="Renamed to “Home page”.").wait_for()
    assert page.evaluate("document.activeElement.getAttribute('aria-label')") == "Rename Home page"

    # Archive the shown one: it leaves the list, and the chat shows the next most recent.
    page.get_by_role("button", name="Archive Home page").click()
    row(page, "Home page").wait_for(state="detached")
    wait_shown(page, "Old ideas")
    show = page.get_by_role("button", name="Show archived conversations")
    assert show.get_attribute("aria-expanded") == "false"
    show.click()
    archived = page.get_by_test_id("archived-conversations")
    archived.get_by_role("button", name="Home page", exact=True).wait_for()
    assert (
        page.get_by_role("button", name="Hide archived conversations").get_attribute("aria-expanded")
        == "true"
    )
    # An archived conversation can be read, not continued, until it is unarchived.
    archived.get_by_role("button", name="Home page", exact=True).click()
    wait_shown(page, "Home page")
    page.get_by_test_id("archived-note").wait_for()
    assert page.get_by_label("What should the builder do?").is_disabled()
    page.get_by_role("button", name="Unarchive Home page").click()
    page.get_by_test_id("conversations").get_by_role("button", name="Home page", exact=True).wait_for()
    page.get_by_text("No archived conversations.").wait_for()
    page.get_by_test_id("archived-note").wait_for(state="detached")
    assert page.get_by_label("What should the builder do?").is_enabled()

    # Delete asks first; "Keep it" keeps it, "Delete" deletes it (on the server too).
    row(page, "Old ideas").click()
    wait_shown(page, "Old ideas")
    page.get_by_role("button", name="Delete Old ideas").click()
    page.get_by_role("group", name="Delete Old ideas?").wait_for()
    page.get_by_role("button", name="Keep it").click()
    row(page, "Old ideas").wait_for()
    page.get_by_role("button", name="Delete Old ideas").click()
    page.get_by_role("group", name="Delete Old ideas?").wait_for()
    page.keyboard.press("Escape")
    page.get_by_role("group", name="Delete Old ideas?").wait_for(state="detached")
    old_id = page.get_by_test_id("chat-log").get_attribute("data-conversation")
    page.get_by_role("button", name="Delete Old ideas").click()
    confirm = page.get_by_role("group", name="Delete Old ideas?")
    assert confirm.get_by_role("button", name="Delete", exact=True).evaluate(
        "el => el === document.activeElement"
    )
    page.keyboard.press("Enter")
    row(page, "Old ideas").wait_for(state="detached")
    wait_shown(page, "Home page")
    assert requests.get(f"{base}/conversations/{old_id}/", headers=headers, timeout=10).status_code == 404
    page.reload()
    wait_shown(page, "Home page")
    assert row(page, "Old ideas").count() == 0
    assert console.unexpected() == []


def test_a_conversation_with_a_run_going_is_not_deleted_and_says_why(page, console):
    sign_up(page)
    open_new_project(page, "Busy")
    page.get_by_label("Model").select_option(CRAWL_MODEL)
    page.get_by_label("What should the builder do?").fill("A bike repair shop in Ghent called Spoke")
    page.get_by_role("button", name="Build").click()
    page.get_by_role("button", name="Cancel run").wait_for()
    title = "A bike repair shop in Ghent called Spoke"
    wait_shown(page, title)

    # Another conversation while it runs: the chat says where the run is, and can go back to it.
    page.get_by_role("button", name="New conversation", exact=True).click()
    wait_shown(page, "New conversation")
    page.get_by_test_id("run-elsewhere").filter(has_text=title).wait_for()
    page.get_by_role("button", name="Show it").click()
    wait_shown(page, title)
    page.locator(".turn.assistant .pill.running").wait_for()

    page.get_by_role("button", name=f"Delete {title}").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    alert = picker(page).get_by_role("alert")
    alert.wait_for()
    assert "still going" in alert.inner_text()
    assert "Cancel run" in alert.inner_text()
    # Still there, marked as the one with a run going.
    row(page, f"{title} running").wait_for()
    shot(page, "conversations-busy")

    page.get_by_role("button", name="Cancel run").click()
    page.wait_for_selector(".turn.assistant[data-status=cancelled]", timeout=40_000)
    page.get_by_role("button", name="Build").wait_for()
    page.get_by_role("button", name=f"Delete {title}").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    row(page, title).wait_for(state="detached")
    assert console.unexpected(allowed_statuses=(409,)) == []


def test_another_users_conversations_are_never_shown(page, console, system):
    other = register_api(system)
    theirs = {"Authorization": f"Bearer {other['access']}"}
    base = f"{system.url}/api/v1"
    their_project = requests.post(
        f"{base}/projects/", json={"name": "Theirs"}, headers=theirs, timeout=10
    ).json()
    secret = requests.post(
        f"{base}/builder/projects/{their_project['id']}/conversations/",
        json={"title": "Secret plans"},
        headers=theirs,
        timeout=10,
    ).json()

    email = sign_up(page)
    project = open_new_project(page, "Mine")
    page.get_by_role("button", name="New conversation", exact=True).click()
    wait_shown(page, "New conversation")
    mine = page.get_by_test_id("chat-log").get_attribute("data-conversation")
    page.get_by_role("button", name="Show archived conversations").click()
    page.get_by_text("No archived conversations.").wait_for()
    shown = (
        picker(page)
        .locator("[data-conversation]")
        .evaluate_all("rows => rows.map(r => r.dataset.conversation)")
    )
    assert shown == [mine]
    assert secret["id"] not in page.content()
    assert "Secret plans" not in page.content()

    # Nor reachable through this account: theirs is not found, and a run cannot go in it.
    headers = api_headers(system, email)
    assert (
        requests.get(f"{base}/builder/conversations/{secret['id']}/", headers=headers, timeout=10).status_code
        == 404
    )
    started = requests.post(
        f"{base}/builder/projects/{project}/generations/",
        json={"prompt": "Hello", "conversation": secret["id"]},
        headers=headers,
        timeout=10,
    )
    assert started.status_code == 404, started.text
    page.reload()
    wait_shown(page, "New conversation")
    assert secret["id"] not in page.content()
    assert console.unexpected() == []


def test_the_conversations_fit_a_phone(page, console):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page)
    open_new_project(page, "Pocket")
    page.get_by_role("button", name="New conversation", exact=True).click()
    wait_shown(page, "New conversation")
    page.get_by_role("button", name="Rename untitled conversation").click()
    picker(page).get_by_label("New title").fill("A rather long title for a conversation on a small screen")
    page.keyboard.press("Enter")
    row(page, "A rather long title for a conversation on a small screen").wait_for()
    page.get_by_role("button", name="Show archived conversations").click()
    page.get_by_text("No archived conversations.").wait_for()
    picker(page).scroll_into_view_if_needed()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    box = picker(page).bounding_box()
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= 390
    shot(page, "conversations-phone")
    assert console.unexpected() == []
