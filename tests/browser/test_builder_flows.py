"""The builder's newer turns in the studio: a question to answer, a plan as it runs, review before apply."""

from __future__ import annotations

import re
import time

import pytest
import requests

from tests.browser.conftest import (
    QUEUED_LIMIT,
    SLOW_MODEL,
    api_headers,
    create_project,
    register_api,
    shot,
    sign_up,
)

PREVIEW = "iframe[title='Preview of the website']"
PROMPT = "What should the builder do?"
# Records the plan steps the latest run showed before its status became final.
WATCH_PLAN = """() => {
    window.planBeforeEnd = [];
    const final = new Set(['done', 'no_changes', 'failed', 'cancelled', 'conflict', 'budget_exhausted',
                           'incomplete', 'needs_input', 'proposed']);
    new MutationObserver(() => {
        const run = [...document.querySelectorAll('.turn.assistant')].pop();
        if (!run || final.has(run.dataset.status || '')) return;
        const steps = [...run.querySelectorAll('[data-testid=run-plan] li')].map(li => li.textContent);
        if (steps.length) window.planBeforeEnd = steps;
    }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def last_run(page):
    return page.locator(".turn.assistant").last


def wait_status(page, status: str, count: int = 1) -> None:
    page.wait_for_function(
        "([s, n]) => document.querySelectorAll(`.turn.assistant[data-status=${s}]`).length == n",
        arg=[status, count],
        timeout=40_000,
    )


def tree_paths(page) -> list[str]:
    return page.get_by_test_id("file-tree").locator("button .name").all_inner_texts()


def review_build(page, prompt: str) -> None:
    """Send a prompt with "Review changes before applying" checked; wait for its proposal."""
    review = page.get_by_label("Review changes before applying")
    review.check()
    page.get_by_label(PROMPT).fill(prompt)
    page.get_by_role("button", name="Build").click()
    page.locator("[data-testid=proposal][data-state=pending]").wait_for(timeout=40_000)


def test_a_run_started_before_the_page_had_asked_for_active_runs_is_followed_once(page, console):
    held = []
    page.route(
        re.compile(r".*/api/v1/builder/projects/[^/]+/generations/\?active=true"),
        lambda route: held.append(route),
    )
    streams = []
    page.on("request", lambda request: "/events/?" in request.url and streams.append(request.url))
    sign_up(page)
    create_project(page, "Quick")

    # Sent while the page's question "is a run going?" is still on its way.
    page.get_by_label(PROMPT).fill("make me a website")
    with page.expect_response(re.compile(r".*/generations/$")) as posted:
        page.get_by_role("button", name="Build").click()
    started = posted.value.json()
    wait_status(page, "needs_input")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'prompt'")

    # Its late answer names the run as it was when it started: already followed to its end here.
    held[0].fulfill(json={"count": 1, "next": None, "previous": None, "results": [started]})
    page.wait_for_timeout(1500)
    assert len(streams) == 1
    assert last_run(page).get_attribute("data-status") == "needs_input"
    assert page.get_by_label("Your answer to the builder's question").is_enabled()
    assert page.evaluate("() => document.activeElement && document.activeElement.id") == "prompt"
    assert console.unexpected() == []


def test_a_question_from_the_builder_is_answered_by_the_next_prompt(page, console):
    sign_up(page)
    create_project(page, "Asked")
    page.get_by_label(PROMPT).fill("make me a website")
    page.get_by_role("button", name="Build").click()
    wait_status(page, "needs_input")

    # The question, shown as one awaiting an answer; the prompt box focused for it.
    question = last_run(page).get_by_test_id("question")
    assert "The builder asks:" in question.inner_text()
    assert "What is the site for?" in question.inner_text()
    question.get_by_text("Waiting for your answer").wait_for()
    assert "needs input" in last_run(page).get_by_test_id("run-status").inner_text()
    answer = page.get_by_label("Your answer to the builder's question")
    page.wait_for_function("() => document.activeElement && document.activeElement.id === 'prompt'")
    assert page.get_by_test_id("revision").inner_text() == "0"
    shot(page, "needs-input")

    # Typed into the focused box: the answer continues the conversation and builds.
    page.keyboard.type("A bakery called Crumb in Lisbon")
    assert answer.input_value() == "A bakery called Crumb in Lisbon"
    page.get_by_role("button", name="Send answer").click()
    wait_status(page, "done")
    page.get_by_test_id("revision").filter(has_text=re.compile("^1$")).wait_for()
    page.frame_locator(PREVIEW).get_by_text("Crumb").first.wait_for()
    assert page.locator(".turn.user").all_inner_texts()[-1].strip() == "A bakery called Crumb in Lisbon"
    page.get_by_label(PROMPT).wait_for()
    assert question.get_by_text("Waiting for your answer").count() == 0

    # Stored: after a reload the question is still shown as the builder's, and answered.
    page.reload()
    wait_status(page, "done")
    page.locator(".turn.assistant[data-status=needs_input] [data-testid=question]").wait_for()
    page.get_by_role("button", name="Build").wait_for()
    assert console.unexpected() == []


def test_a_follow_up_shows_the_plan_while_it_runs(page, console):
    sign_up(page)
    create_project(page, "Planned", template=True)
    page.frame_locator(PREVIEW).locator("body").wait_for()
    page.get_by_label("Model").select_option(SLOW_MODEL)
    page.evaluate(WATCH_PLAN)
    page.get_by_label(PROMPT).fill("Change the title to Pastelaria")
    page.get_by_role("button", name="Build").click()
    page.locator(".turn.assistant [data-testid=run-plan] li").first.wait_for(timeout=40_000)
    shot(page, "plan")
    wait_status(page, "done")

    seen = page.evaluate("window.planBeforeEnd")
    assert len(seen) >= 2
    assert seen[-1] == "Summarise what changed"
    plan = last_run(page).get_by_test_id("run-plan")
    assert plan.locator("ol li").all_inner_texts() == seen
    assert plan.get_by_role("list", name="Plan").is_visible()
    assert console.unexpected() == []


def proposal_title_in_view(page) -> bool:
    """The pending proposal's first line lies within the conversation's visible part."""
    return page.evaluate(
        """() => {
            const log = document.querySelector('[data-testid=chat-log]').getBoundingClientRect();
            const title = document.querySelector('.proposal-title').getBoundingClientRect();
            return title.top >= log.top && title.bottom <= log.bottom;
        }"""
    )


@pytest.mark.parametrize("stored", [False, True], ids=["read-before-the-answer", "read-after-the-answer"])
def test_a_run_that_ends_before_its_conversation_has_loaded_keeps_its_turn_in_view(page, console, stored):
    sign_up(page)
    create_project(page, "Raced")

    def late(route):
        # Delivered after the run has ended, read before its answer was stored or after.
        if stored:
            time.sleep(3)
        response = route.fetch()
        if not stored:
            time.sleep(3)
        route.fulfill(response=response)

    page.route(re.compile(r".*/api/v1/builder/conversations/[^/]+/messages/.*"), late)
    review_build(page, "A bakery in Lisbon called Crumb, with a menu and opening hours")

    assert last_run(page).get_attribute("data-status") == "proposed"
    page.wait_for_timeout(3500)  # the late page of messages has arrived
    assert page.locator("[data-testid=proposal][data-state=pending]").count() == 1
    assert page.locator(".turn.assistant").count() == 1
    assert page.locator(".turn.user").count() == 1
    assert proposal_title_in_view(page)


def test_a_stream_that_catches_up_after_the_answer_was_loaded_shows_it_once(page, console):
    sign_up(page)
    create_project(page, "Slow stream")
    held = {"stream": [], "messages": []}

    def hold(kind: str):
        return lambda route: held[kind].append(route)

    page.route(re.compile(r".*/builder/generations/[^/]+/events/\?.*"), hold("stream"))
    page.route(re.compile(r".*/builder/conversations/[^/]+/messages/.*"), hold("messages"))
    page.get_by_label(PROMPT).fill("make me a website")
    page.get_by_role("button", name="Build").click()

    # The run asks its question; the page reads the stored answer, and only then does its stream catch up.
    page.wait_for_timeout(3000)
    for route in held["messages"]:
        route.continue_()
    page.locator(".turn.assistant[data-status=needs_input]").wait_for()
    for route in held["stream"]:
        route.continue_()
    page.wait_for_timeout(2000)

    assert len(held["stream"]) == 1
    assert page.locator(".turn.assistant").count() == 1
    assert page.locator(".turn.user").count() == 1
    page.get_by_label("Your answer to the builder's question").wait_for()
    assert console.unexpected() == []


def test_a_reviewed_build_applies_only_the_files_chosen(page, console, system):
    email = sign_up(page)
    project = create_project(page, "Reviewed")
    review_build(page, "A bakery in Lisbon called Crumb, with a menu and opening hours")
    run = last_run(page)
    assert run.get_attribute("data-status") == "proposed"
    assert "proposed" in run.get_by_test_id("run-status").inner_text()

    # Nothing applied yet: every file listed with its diff, all checked.
    proposal = run.get_by_test_id("proposal")
    boxes = proposal.get_by_role("checkbox")
    assert boxes.count() == 3
    assert all(box.is_checked() for box in boxes.all())
    assert proposal.locator(".diff-text .add").count() > 10
    added = proposal.locator(".diff-text .add").first.inner_text()
    assert added.startswith("+")
    proposal.get_by_label("Changes to index.html").wait_for()
    # Revealed in the conversation: its first lines in view, not scrolled past to the buttons.
    assert proposal.locator(".proposal-title").is_visible()
    assert proposal_title_in_view(page)
    assert page.get_by_test_id("revision").inner_text() == "0"
    assert tree_paths(page) == []
    shot(page, "proposal")

    # Apply two of the three: one revision with those files only.
    proposal.get_by_role("checkbox", name="script.js").uncheck()
    proposal.get_by_role("button", name="Apply selected").click()
    applied = run.locator("[data-testid=proposal][data-state=accepted]")
    applied.get_by_text("Applied 2 of 3 files as revision 1.").wait_for()
    page.get_by_test_id("revision").filter(has_text=re.compile("^1$")).wait_for()
    assert sorted(tree_paths(page)) == ["index.html", "style.css"]
    page.locator(f"{PREVIEW}[data-revision='1']").wait_for()
    page.frame_locator(PREVIEW).get_by_text("Crumb").first.wait_for()
    headers = api_headers(system, email)
    files = requests.get(f"{system.url}/api/v1/projects/{project}/files/", headers=headers, timeout=10).json()
    assert sorted(f["path"] for f in files["files"]) == ["index.html", "style.css"]

    # After a reload the run is still `proposed`, its proposal shown as applied.
    page.reload()
    wait_status(page, "proposed")
    last_run(page).locator("[data-testid=proposal][data-state=accepted]").wait_for()
    assert console.unexpected() == []


def test_a_pending_proposal_survives_a_reload_and_can_be_dismissed(page, console):
    sign_up(page)
    create_project(page, "Dismissed", template=True)
    page.frame_locator(PREVIEW).locator("body").wait_for()
    revision = page.get_by_test_id("revision").inner_text()
    review_build(page, "Change the title to Pastelaria")
    proposal = last_run(page).get_by_test_id("proposal")
    proposal.locator(".proposed-file[data-path='index.html']").wait_for()
    assert proposal.locator(".diff-text .add", has_text="Pastelaria").count() >= 1
    assert proposal.locator(".diff-text .del").count() >= 1

    page.reload()
    wait_status(page, "proposed")
    proposal = last_run(page).locator("[data-testid=proposal][data-state=pending]")
    proposal.get_by_role("button", name="Apply selected").wait_for()
    proposal.get_by_role("button", name="Dismiss").click()
    dismissed = last_run(page).locator("[data-testid=proposal][data-state=dismissed]")
    dismissed.get_by_text("Dismissed: none of these changes were applied.").wait_for()
    assert page.get_by_test_id("revision").inner_text() == revision
    assert "Pastelaria" not in page.frame_locator(PREVIEW).locator("body").inner_text()

    page.reload()
    last_run(page).locator("[data-testid=proposal][data-state=dismissed]").wait_for()
    assert console.unexpected() == []


def test_a_proposal_whose_files_changed_since_is_refused_with_their_paths(page, console, system):
    email = sign_up(page)
    project = create_project(page, "Stale", template=True)
    page.frame_locator(PREVIEW).locator("body").wait_for()
    review_build(page, "Change the title to Pastelaria")
    proposal = last_run(page).get_by_test_id("proposal")
    paths = proposal.locator(".proposed-file").evaluate_all("items => items.map(i => i.dataset.path)")
    assert "index.html" in paths

    # Meanwhile the page is changed through the API (another tab, a script).
    response = requests.put(
        f"{system.url}/api/v1/projects/{project}/files/index.html",
        data=b"<!doctype html><title>Changed elsewhere</title><h1>Changed elsewhere</h1>\n",
        headers={
            **api_headers(system, email),
            "Content-Type": "application/octet-stream",
            "If-Match": "*",
        },
        timeout=10,
    )
    assert response.status_code in (200, 201), response.text
    revision = str(response.json()["revision"])

    proposal.get_by_role("button", name="Apply selected").click()
    problem = proposal.get_by_test_id("proposal-problem")
    problem.wait_for()
    assert "changed since the run started" in problem.inner_text()
    assert "index.html" in problem.get_by_role("list").inner_text()
    assert not proposal.get_by_role("checkbox", name="index.html").is_checked()
    assert proposal.get_attribute("data-state") == "pending"
    # The page catches up with the newer revision the API made.
    page.get_by_test_id("revision").filter(has_text=re.compile(f"^{revision}$")).wait_for()
    shot(page, "proposal-stale")
    assert console.unexpected(allowed_statuses=(409,)) == []


def _fill_the_queue(system) -> None:
    """Another user's runs, as many as the builder lets wait for a worker (the worker is stopped)."""
    account = register_api(system)
    headers = api_headers(system, account["email"])
    for index in range(QUEUED_LIMIT):
        made = requests.post(
            f"{system.url}/api/v1/projects/", json={"name": f"Queued {index}"}, headers=headers, timeout=10
        )
        assert made.status_code == 201, made.text
        started = requests.post(
            f"{system.url}/api/v1/builder/projects/{made.json()['id']}/generations/",
            json={"prompt": "make me a website", "mode": "build"},
            headers=headers,
            timeout=10,
        )
        assert started.status_code == 202, started.text


def test_a_build_refused_while_the_builder_is_busy_starts_by_itself_when_it_is_free(page, console, system):
    email = sign_up(page)
    project_id = create_project(page, "Crowded")
    runs_url = f"{system.url}/api/v1/builder/projects/{project_id}/generations/"
    headers = api_headers(system, email)
    prompt = "A bakery in Lisbon called Crumb, with a menu and opening hours"
    waiting = page.get_by_test_id("start-waiting")
    system.stop_process("builder-worker")
    try:
        _fill_the_queue(system)

        # Refused as busy (429, Retry-After): the studio says so and counts down to its next try.
        page.get_by_label(PROMPT).fill(prompt)
        with page.expect_response(re.compile(r".*/generations/$")) as refused:
            page.get_by_role("button", name="Build").click()
        assert refused.value.status == 429
        assert refused.value.json()["error"]["code"] == "builder_busy"
        waiting.wait_for()
        assert re.search(r"busy .*Trying again in \d+ s", waiting.inner_text())
        assert page.get_by_role("button", name="Build").is_disabled()

        # Stopping leaves the prompt as it was, and nothing started.
        waiting.get_by_role("button", name="Stop trying").click()
        waiting.wait_for(state="detached")
        assert page.get_by_label(PROMPT).input_value() == prompt
        assert page.get_by_role("alert").count() == 0
        assert requests.get(runs_url, headers=headers, timeout=10).json()["count"] == 0

        page.get_by_role("button", name="Build").click()
        waiting.wait_for()
    finally:
        system.start_builder_worker()

    # The queue drains; the next try starts the build, which runs to its end, once.
    wait_status(page, "done")
    assert waiting.count() == 0
    assert page.get_by_label(PROMPT).input_value() == ""
    assert requests.get(runs_url, headers=headers, timeout=10).json()["count"] == 1
    assert console.unexpected(allowed_statuses=(429,)) == []
