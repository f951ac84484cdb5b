"""Account screens in the studio: change the password, and reset a forgotten one by the emailed link."""

from __future__ import annotations

import time

import requests

from tests.browser.conftest import PASSWORD, shot, sign_up, token_for
from tests.e2e.test_password_reset import latest_link

NEW_PASSWORD = "another perfectly long passphrase"


def reset_link_query(system, email: str) -> str:
    """The `uid=…&token=…` of the reset link the auth worker mailed to `email`."""
    uid, token = latest_link(system, email, timeout=20)
    return f"uid={uid}&token={token}"


def test_changing_the_password_keeps_this_session_and_ends_the_others(page, console, system):
    email = sign_up(page)
    other_device = token_for(system, email)
    page.get_by_role("link", name="Account").click()
    page.get_by_role("heading", name="Account", exact=True).wait_for()

    # A wrong current password is refused, next to the field.
    page.get_by_label("Current password", exact=True).fill("not my password at all")
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("The current password is not correct.").wait_for()

    page.get_by_label("Current password", exact=True).fill(PASSWORD)
    page.get_by_role("button", name="Change password").click()
    page.get_by_text("Password changed.").wait_for()
    shot(page, "account")

    # This tab goes on working; the other device's token stops within the gateway's 5 s cache.
    page.get_by_role("link", name="Projects").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    deadline = time.monotonic() + 10
    status = 200
    while time.monotonic() < deadline and status != 401:
        status = requests.get(
            f"{system.url}/api/v1/projects/", headers={"Authorization": f"Bearer {other_device}"}, timeout=10
        ).status_code
        time.sleep(0.5)
    assert status == 401
    token_for(system, email, NEW_PASSWORD)
    assert console.unexpected(allowed_statuses=(400,)) == []


def test_a_forgotten_password_is_reset_by_the_emailed_link_once(page, console, system):
    email = sign_up(page)
    page.get_by_role("button", name="Sign out").click()
    page.get_by_role("heading", name="Sign in").wait_for()
    page.get_by_role("link", name="Forgot your password?").click()
    page.get_by_role("heading", name="Reset your password").wait_for()
    page.get_by_label("Email").fill(email)
    page.get_by_role("button", name="Email me a link").click()
    page.get_by_role("status").wait_for()
    shot(page, "forgot-password")

    link = f"/studio/reset-password?{reset_link_query(system, email)}"
    page.goto(link)
    page.get_by_role("heading", name="Choose a new password").wait_for()
    page.get_by_label("New password", exact=True).fill(NEW_PASSWORD)
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_text("Your password is changed.").wait_for()

    # The link works once.
    page.goto(link)
    page.get_by_label("New password", exact=True).fill("yet another long passphrase")
    page.get_by_role("button", name="Set the new password").click()
    page.get_by_text("This link is invalid or was already used.").wait_for()

    page.goto("/studio/signin")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(NEW_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="Your projects").wait_for()
    assert console.unexpected(allowed_statuses=(400,)) == []
