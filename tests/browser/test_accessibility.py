"""Each main screen audited with axe-core (pinned in web/package-lock.json) and photographed."""

from __future__ import annotations

import pytest

from tests.browser.conftest import create_project, open_page, shot, sign_up
from tests.e2e.system import REPO

AXE = REPO / "web" / "node_modules" / "axe-core" / "axe.min.js"
BLOCKING = ("serious", "critical")
# The studio's own document only: the preview is the user's website, on its own sandboxed origin.
AUDIT = """async () => {
    const results = await axe.run(document, {resultTypes: ['violations'], iframes: false});
    return results.violations.map(v => ({
        id: v.id, impact: v.impact, help: v.help,
        nodes: v.nodes.slice(0, 5).map(n => n.target.join(' ') + ' :: ' + (n.failureSummary || '')),
    }));
}"""


@pytest.fixture
def audited_page(browser, system, console, request):
    # The studio's CSP admits only its own scripts; the audit injects axe, so this page bypasses it.
    page = open_page(browser, system, console, bypass_csp=True)
    yield page
    page.context.close()


def blocking_violations(page) -> list[dict]:
    if not page.evaluate("typeof window.axe === 'object'"):
        page.add_script_tag(path=str(AXE))
    return [v for v in page.evaluate(AUDIT) if v["impact"] in BLOCKING]


def audit(page, screen: str, found: dict) -> None:
    """Photograph the screen (tests/browser/artifacts/screen-<name>.png) and keep its serious violations."""
    shot(page, f"screen-{screen}")
    violations = blocking_violations(page)
    if violations:
        found[screen] = violations


def test_every_main_screen_passes_axe_without_serious_violations(audited_page, console):
    page = audited_page
    found: dict[str, list] = {}

    page.goto("/studio/signin")
    page.get_by_role("heading", name="Sign in").wait_for()
    audit(page, "sign-in", found)
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    audit(page, "forgot-password", found)

    sign_up(page)
    audit(page, "projects-empty", found)
    create_project(page, "Audited", template=True)
    page.frame_locator("iframe[title='Preview of the website']").locator("body").wait_for()
    audit(page, "project", found)
    # The conversation picker: a conversation being renamed, the archived ones shown, a deletion to confirm.
    page.get_by_role("button", name="New conversation", exact=True).click()
    page.get_by_role("button", name="Rename untitled conversation").click()
    page.get_by_label("New title").wait_for()
    page.get_by_role("button", name="Show archived conversations").click()
    page.get_by_text("No archived conversations.").wait_for()
    audit(page, "project-conversations", found)
    page.get_by_test_id("conversation-picker").get_by_role("button", name="Cancel").click()
    page.get_by_role("button", name="Delete untitled conversation").click()
    page.get_by_role("group", name="Delete untitled conversation?").wait_for()
    audit(page, "project-conversation-delete", found)
    page.get_by_role("button", name="Keep it").click()
    page.get_by_test_id("file-tree").get_by_role("button").first.click()
    page.locator(".code pre").wait_for()
    audit(page, "project-code", found)
    page.get_by_role("button", name="Edit ").click()
    page.locator("#file-editor").wait_for()
    audit(page, "project-editor", found)
    page.get_by_role("tab", name="History").click()
    page.locator(".revisions li").first.wait_for()
    audit(page, "project-history", found)
    # A reviewed run's proposal: each file's diff, the files to choose, apply and dismiss.
    page.get_by_label("Review changes before applying").check()
    page.get_by_label("What should the builder do?").fill("Change the title to Pastelaria")
    page.get_by_role("button", name="Build").click()
    page.locator("[data-testid=proposal][data-state=pending]").wait_for(timeout=40_000)
    audit(page, "project-proposal", found)

    page.get_by_role("link", name="Projects").click()
    page.get_by_role("link", name="Audited").wait_for()
    audit(page, "projects", found)
    page.get_by_role("link", name="Credits").click()
    page.locator(".ledger tbody tr").first.wait_for()
    audit(page, "credits", found)
    page.get_by_role("link", name="API keys").click()
    page.get_by_role("heading", name="API keys", exact=True).wait_for()
    audit(page, "keys", found)
    page.get_by_role("link", name="Account").click()
    page.get_by_role("heading", name="Account", exact=True).wait_for()
    audit(page, "account", found)

    assert found == {}
    assert console.unexpected() == []


def test_the_audit_finds_a_serious_violation_when_there_is_one(audited_page):
    """The audit can fail: an unlabelled field, an image without text and pale text are caught."""
    page = audited_page
    page.goto("/studio/signin")
    page.get_by_role("heading", name="Sign in").wait_for()
    page.evaluate("""() => {
        const input = document.createElement('input');
        document.querySelector('main').append(input);
        const image = document.createElement('img');
        image.src = '/studio/favicon.svg';
        document.querySelector('main').append(image);
        const pale = document.createElement('p');
        pale.textContent = 'Hard to read';
        pale.style.color = '#c8ccd0';
        document.querySelector('main form').append(pale);
    }""")

    assert {v["id"] for v in blocking_violations(page)} >= {"label", "image-alt", "color-contrast"}
