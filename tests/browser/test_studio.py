"""The studio end to end in headless Chromium, against the real system through the gateway."""

from __future__ import annotations

import re
import zipfile
from urllib.parse import parse_qs, urlsplit

import requests

from tests.browser.conftest import PASSWORD, SLOW_MODEL, create_project, register_api, shot, sign_up

PREVIEW = "iframe[title='Preview of the website']"
# A generation's event stream as the studio opens it: with a stream ticket in the query.
EVENTS_URL = re.compile(r"/api/v1/builder/generations/[^/]+/events/\?")
MESSAGES_URL = re.compile(r"/api/v1/builder/conversations/[^/]+/messages/")
# Records, as the page changes, what the latest run showed before its status became final.
WATCH_RUN = """() => {
    window.seenBeforeEnd = {text: false, files: false, tools: false, tree: false};
    const final = new Set(['done', 'no_changes', 'failed', 'cancelled', 'conflict', 'budget_exhausted',
                           'incomplete', 'needs_input', 'proposed']);
    new MutationObserver(() => {
        const run = [...document.querySelectorAll('.turn.assistant')].pop();
        if (!run || final.has(run.dataset.status || '')) return;
        const seen = window.seenBeforeEnd;
        seen.text ||= (run.querySelector('.text')?.textContent || '').length > 0;
        seen.files ||= run.querySelectorAll('.changes li').length > 0;
        seen.tools ||= run.querySelectorAll('.tools li').length > 0;
        seen.tree ||= document.querySelectorAll('[data-testid=file-tree] .touched').length > 0;
    }).observe(document.body, {subtree: true, childList: true, characterData: true, attributes: true});
}"""


def last_run(page):
    return page.locator(".turn.assistant").last


def preview_text(page) -> str:
    return page.frame_locator(PREVIEW).locator("body").inner_text()


def test_the_gateway_serves_the_studio_as_a_single_page_app(system):
    index = requests.get(f"{system.url}/studio/", timeout=10)
    deep = requests.get(f"{system.url}/studio/projects/whatever", timeout=10)
    asset = re.search(r'src="(/studio/assets/[^"]+\.js)"', index.text).group(1)
    script = requests.get(f"{system.url}{asset}", timeout=10)

    assert index.status_code == deep.status_code == 200
    assert deep.text == index.text
    assert index.headers["Cache-Control"] == "no-cache"
    policy = index.headers["Content-Security-Policy"]
    assert "script-src 'self';" in policy
    assert "frame-src 'self'" in policy
    assert "frame-ancestors 'none'" in policy
    assert script.status_code == 200
    assert "immutable" in script.headers["Cache-Control"]
    assert requests.get(f"{system.url}/studio/assets/missing.js", timeout=10).status_code == 404


def test_sign_up_then_create_rename_and_delete_projects(page, console):
    sign_up(page)
    shot(page, "projects-empty")

    create_project(page, "Throwaway")
    page.get_by_role("link", name="Projects").click()

    create_project(page, "From a template", template=True)
    page.get_by_role("tab", name="Preview").wait_for()
    assert page.locator("[data-testid=file-tree] li").count() > 0
    page.frame_locator(PREVIEW).locator("body").wait_for()
    page.get_by_role("link", name="Projects").click()

    page.get_by_role("button", name="Rename Throwaway").click()
    page.get_by_label("New name").fill("Renamed")
    page.get_by_role("button", name="Save").click()
    page.get_by_role("link", name="Renamed").wait_for()
    page.get_by_role("button", name="Delete Renamed").click()
    page.get_by_role("button", name="Delete", exact=True).click()
    page.get_by_role("link", name="Renamed").wait_for(state="detached")
    assert page.get_by_role("link", name="From a template").is_visible()
    shot(page, "projects-list")
    assert console.unexpected() == []


def test_build_watch_preview_edit_restore_and_export(page, console):
    sign_up(page)
    create_project(page, "Crumb")
    balance_before = page.get_by_test_id("balance").inner_text()

    # Build with the paced demo model, and watch text and files arrive while it runs.
    page.get_by_label("Model").select_option(SLOW_MODEL)
    page.get_by_label("What should the builder do?").fill(
        "A bakery in Lisbon called Crumb, with a menu and opening hours"
    )
    page.evaluate(WATCH_RUN)
    page.get_by_role("button", name="Build").click()
    page.locator(".turn.assistant .changes li").first.wait_for()
    shot(page, "project-streaming")
    page.wait_for_selector(".turn.assistant[data-status=done]", timeout=40_000)
    assert page.evaluate("window.seenBeforeEnd") == {"text": True, "files": True, "tools": True, "tree": True}
    page.get_by_test_id("revision").filter(has_text=re.compile("^1$")).wait_for()
    cost = page.get_by_test_id("run-cost")
    cost.wait_for()
    assert re.search(r"This run cost [\d,]+ credits?; [\d,]+ credits? left", cost.inner_text())
    assert page.get_by_test_id("balance").inner_text() != balance_before

    # The preview shows the new site.
    page.locator(f"{PREVIEW}[data-revision='1']").wait_for()
    page.frame_locator(PREVIEW).get_by_text("Crumb").first.wait_for()
    shot(page, "project-preview")

    # The code view reads a file.
    page.get_by_role("button", name="index.html").click()
    page.get_by_label("Contents of index.html").wait_for()
    assert "<html" in page.get_by_label("Contents of index.html").inner_text().lower()
    shot(page, "project-code")

    # Edit by chat (the quick default model): the preview follows.
    page.get_by_role("tab", name="Preview").click()
    page.get_by_label("Model").select_option(index=0)
    page.get_by_label("What should the builder do?").fill("Change the title to Sunrise Bakery")
    page.get_by_role("button", name="Build").click()
    page.wait_for_function("() => document.querySelectorAll('.turn.assistant[data-status=done]').length == 2")
    page.locator(f"{PREVIEW}[data-revision='2']").wait_for()
    page.frame_locator(PREVIEW).get_by_text("Sunrise Bakery").first.wait_for()

    # History: the diff of revision 2, then restore revision 1.
    page.get_by_role("tab", name="History").click()
    page.get_by_role("button", name=re.compile(r"^#2 ")).click()
    page.locator(".diff-text .add", has_text="Sunrise Bakery").first.wait_for()
    shot(page, "project-history")
    page.get_by_role("button", name="Restore #1").click()
    page.get_by_test_id("revision").filter(has_text=re.compile("^3$")).wait_for()
    page.get_by_role("tab", name="Preview").click()
    page.locator(f"{PREVIEW}[data-revision='3']").wait_for()
    page.frame_locator(PREVIEW).get_by_text("Crumb").first.wait_for()
    assert "Sunrise Bakery" not in preview_text(page)

    # Export: a zip download with the site in it.
    with page.expect_download() as download:
        page.get_by_role("button", name="Export .zip").click()
    path = download.value.path()
    assert download.value.suggested_filename.endswith(".zip")
    with zipfile.ZipFile(path) as archive:
        assert any(name.endswith("index.html") for name in archive.namelist())

    # After a reload the chat is the stored conversation: each run with its status, cost, tools and files.
    page.reload()
    page.wait_for_function("() => document.querySelectorAll('.turn.assistant[data-status=done]').length == 2")
    first = page.locator(".turn.assistant").first
    assert re.search(
        r"done · cost [\d,]+ credits? · [1-9]\d* tool calls?", first.get_by_test_id("run-status").inner_text()
    )
    assert any(path.endswith("index.html") for path in first.locator(".changes li").all_inner_texts())
    assert console.unexpected() == []


def test_an_expired_access_token_is_refreshed_silently(page, console):
    sign_up(page)
    refreshes = []
    page.on("request", lambda r: r.url.endswith("/api/v1/auth/token/refresh/") and refreshes.append(r))

    # A 401 from the API (a token revoked or expired early): refreshed once, the request retried.
    answered = []

    def expired_once(route):
        if answered:
            return route.continue_()
        answered.append(True)
        route.fulfill(
            status=401,
            content_type="application/json",
            body='{"error":{"code":"not_authenticated","message":"Expired.","details":{},"request_id":"x"}}',
        )

    page.route("**/api/v1/projects/?*", expired_once)
    page.reload()
    page.get_by_role("heading", name="Your projects").wait_for()
    page.get_by_text("No projects yet").wait_for()
    assert answered
    assert len(refreshes) >= 1
    page.unroute("**/api/v1/projects/?*")

    # The token's own lifetime running out: refreshed before the next request, never a sign-in.
    before = len(refreshes)
    page.wait_for_timeout(17_000)
    create_project(page, "After expiry")
    assert len(refreshes) > before
    assert page.url.endswith("/studio/projects/" + page.url.rsplit("/", 1)[1])
    assert console.unexpected(allowed_statuses=(401,)) == []


def test_another_users_project_is_not_found(page, console, system):
    other = register_api(system)
    project = requests.post(
        f"{system.url}/api/v1/projects/",
        json={"name": "Not yours"},
        headers={"Authorization": f"Bearer {other['access']}"},
        timeout=30,
    ).json()

    sign_up(page)
    page.goto(f"/studio/projects/{project['id']}")
    page.get_by_role("heading", name="Project not found").wait_for()
    assert "Not yours" not in page.content()
    shot(page, "project-not-found")
    assert console.unexpected(allowed_statuses=(404,)) == []


def test_sign_out_and_sign_in_again(page, console):
    email = sign_up(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    assert page.evaluate("localStorage.getItem('oasis.refresh')") is None
    page.goto("/studio/")
    page.get_by_role("heading", name="Sign in").wait_for()
    shot(page, "sign-in")

    # By keyboard alone: the email field, Tab to the password, Enter to sign in.
    page.get_by_label("Email").focus()
    page.keyboard.type(email)
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.get_by_role("heading", name="Your projects").wait_for()
    # A reload keeps the session: the refresh token is stored, the access token is not.
    page.reload()
    page.get_by_role("heading", name="Your projects").wait_for()
    assert console.unexpected() == []


def test_a_dropped_stream_resumes_after_the_last_event_without_loss_or_repeats(page, console):
    sign_up(page)
    create_project(page, "Dropped")
    opened = []  # each stream the page opened: its query and whether it sent a token

    def record(request):
        if EVENTS_URL.search(request.url):
            query = parse_qs(urlsplit(request.url).query)
            opened.append({**query, "authorization": request.headers.get("authorization")})

    page.on("request", record)
    carried = []  # the events' ids each connection carried: the first is cut, the second passed on whole
    whole = []  # the ids of every event of the run, as the first connection read them from the server

    def drop_halfway(route):
        """The first connection breaks off after half the run's events (no terminal event)."""
        events = [e for e in route.fetch(timeout=40_000).text().split("\n\n") if e.startswith("id:")]
        ids = [re.match(r"id: ?(\S+)", e).group(1) for e in events]
        if not whole:
            whole.extend(ids)
            events, ids = events[: len(events) // 2], ids[: len(ids) // 2]
        carried.append(ids)
        route.fulfill(status=200, content_type="text/event-stream", body="\n\n".join(events) + "\n\n")

    page.route(EVENTS_URL, drop_halfway)

    def after_the_run(route):
        """The conversation's messages load once the run is over: its stored answer shows before the stream
        has ended."""
        while not whole:
            page.wait_for_timeout(100)
        route.continue_()

    page.route(MESSAGES_URL, after_the_run)
    page.get_by_label("What should the builder do?").fill("A flower shop in Porto called Petal")

    # The page may show the run's stored answer before the stream has caught up: the wait is for the
    # resumed stream itself to end.
    def resumed(request):
        return bool(EVENTS_URL.search(request.url)) and "last_event_id=" in request.url

    with page.expect_request_finished(resumed, timeout=40_000):
        page.get_by_role("button", name="Build").click()
    page.wait_for_selector(".turn.assistant[data-status=done]", timeout=40_000)

    # Nothing lost, nothing repeated: the second connection carried exactly the events after the cut.
    assert len(carried) == 2
    assert carried[0] + carried[1] == whole
    assert len(set(whole)) == len(whole) > 2
    # The browser's own EventSource, with a new single-use ticket for each connection and no token.
    assert len(opened) == 2
    assert "last_event_id" not in opened[0]
    assert opened[1]["last_event_id"] == carried[0][-1:]
    assert opened[0]["ticket"] != opened[1]["ticket"]
    assert [o["authorization"] for o in opened] == [None, None]
    run = page.locator(".turn.assistant").last
    paths = run.locator(".changes li").all_inner_texts()
    assert len(paths) == len(set(paths)) == 3
    # The stored answer shows, and the tool calls the stream showed stay listed (the stored answer only
    # counts them).
    assert "3 tool calls" in run.get_by_test_id("run-status").inner_text()
    listed = "[...document.querySelectorAll('.turn.assistant')].pop().querySelectorAll('.tools li').length"
    page.wait_for_function(f"() => {listed} == 3", timeout=10_000)
    assert console.unexpected() == []


def test_a_run_started_while_the_page_still_loads_is_followed_once(page, console):
    sign_up(page)
    create_project(page, "Hurried")
    streams = []
    page.on("request", lambda request: EVENTS_URL.search(request.url) and streams.append(request.url))
    started = []

    def when_started(route):
        """The page's question for a run still going is answered only once the build was started."""
        while not started:
            page.wait_for_timeout(50)
        route.continue_()

    def start_slowly(route):
        """The start is made, and its answer reaches the page after the run-still-going answer did."""
        if route.request.method != "POST":
            return route.continue_()
        response = route.fetch()
        started.append(response.json()["id"])
        page.wait_for_timeout(1500)
        route.fulfill(response=response)

    page.route(re.compile(r"/generations/\?active=true"), when_started)
    page.route(re.compile(r"/builder/projects/[^/]+/generations/$"), start_slowly)
    page.reload()
    page.get_by_role("heading", name="Hurried").wait_for()
    page.get_by_label("What should the builder do?").fill("A bakery in Lyon called Levain")
    page.get_by_role("button", name="Build").click()
    page.wait_for_selector(".turn.assistant[data-status=done]", timeout=40_000)

    # The run the page is starting is its own: the answer that it is going opens no second stream of it.
    assert len(streams) == 1
    assert started[0] in streams[0]
    assert page.locator(".turn.assistant").count() == 1
    assert console.unexpected() == []


def test_a_reload_follows_the_run_still_going_and_it_can_be_cancelled(page, console):
    sign_up(page)
    create_project(page, "Cancelled")
    page.get_by_label("Model").select_option(SLOW_MODEL)
    page.get_by_label("What should the builder do?").fill("A bike repair shop in Ghent called Spoke")
    page.get_by_role("button", name="Build").click()
    page.get_by_role("button", name="Cancel run").wait_for()
    # After a reload the studio asks for the runs going now, finds this one and follows its stream.
    asked = []
    page.on("request", lambda r: "/generations/?" in r.url and asked.append(parse_qs(urlsplit(r.url).query)))
    page.reload()
    page.get_by_role("heading", name="Cancelled").wait_for()
    page.get_by_role("button", name="Cancel run").click()
    page.wait_for_selector(".turn.assistant[data-status=cancelled]", timeout=40_000)
    page.get_by_test_id("run-cost").wait_for()
    page.get_by_role("button", name="Build").wait_for()
    assert {"active": ["true"]} in asked

    # Reloaded once more, the conversation shows the run as stored: its status, cost and tool calls.
    page.reload()
    status = last_run(page).get_by_test_id("run-status")
    status.wait_for()
    assert last_run(page).get_attribute("data-status") == "cancelled"
    assert re.search(r"cancelled · cost [\d,]+ credits? · \d+ tool calls?", status.inner_text())
    page.get_by_role("button", name="Build").wait_for()
    shot(page, "project-cancelled-run")
    assert console.unexpected() == []


def test_the_studio_fits_a_phone(page, console):
    page.set_viewport_size({"width": 390, "height": 844})
    sign_up(page)
    create_project(page, "On a phone", template=True)
    page.frame_locator(PREVIEW).locator("body").wait_for()
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    shot(page, "phone-project")
    assert console.unexpected() == []


def test_credits_show_the_balance_the_ledger_and_the_packs(page, console):
    sign_up(page)
    page.get_by_role("link", name="Credits").click()
    page.get_by_role("heading", name="Credits", exact=True).wait_for()
    assert "2,000 credits available" in page.get_by_test_id("credits-balance").inner_text()
    page.locator(".ledger tbody tr").first.wait_for()
    buy = page.get_by_role("button", name=re.compile("^Buy "))
    buy.first.wait_for()
    # The test system has no Stripe: packs are listed, not purchasable, and say why.
    assert buy.first.is_disabled()
    page.get_by_text("Purchases are not available on this server").wait_for()
    shot(page, "credits")
    assert console.unexpected() == []


def test_an_api_key_is_shown_once_works_and_can_be_revoked(page, console, system):
    sign_up(page)
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("heading", name="API keys", exact=True).wait_for()
    page.get_by_label("Key name").fill("CI script")
    page.get_by_label("Scope").select_option("read")
    page.get_by_role("button", name="Create key").click()
    key = page.get_by_test_id("new-key").input_value()
    assert key.startswith("oak_")
    page.get_by_role("cell", name="CI script", exact=True).wait_for()
    shot(page, "api-keys")
    headers = {"Authorization": f"Bearer {key}"}
    assert requests.get(f"{system.url}/api/v1/projects/", headers=headers, timeout=10).status_code == 200

    page.get_by_role("button", name="Revoke CI script").click()
    page.get_by_text("No API keys.").wait_for()
    assert console.unexpected() == []
