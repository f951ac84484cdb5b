"""Password reset through the gateway: no account enumeration; a link the auth worker emails, used once."""

import re
import time

from tests.e2e.conftest import bearer, sign_in


def latest_link(system, email: str, timeout: float = 10) -> tuple[str, str]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if emails := system.emails_to(email):
            found = re.search(r"uid=([\w-]+)&token=([\w-]+)", emails[-1])
            assert found, emails[-1]
            return found.group(1), found.group(2)
        time.sleep(0.1)
    raise AssertionError(f"no reset email for {email}")


def test_reset_answers_the_same_whether_or_not_the_account_exists(gateway, account):
    known = gateway.post("/api/v1/auth/password/reset/", json={"email": account["email"]})
    unknown = gateway.post("/api/v1/auth/password/reset/", json={"email": "nobody-here@example.com"})

    assert known.status_code == unknown.status_code == 202
    assert known.json() == unknown.json()
    assert set(known.headers) - {"Date", "X-Request-ID"} == set(unknown.headers) - {"Date", "X-Request-ID"}


def test_a_reset_link_works_once_and_signs_everyone_out(system, gateway, account):
    gateway.post("/api/v1/auth/password/reset/", json={"email": account["email"]})
    uid, token = latest_link(system, account["email"])
    body = {"uid": uid, "token": token, "new_password": "a brand new long passphrase"}

    first = gateway.post("/api/v1/auth/password/reset/confirm/", json=body)
    second = gateway.post(
        "/api/v1/auth/password/reset/confirm/", json={**body, "new_password": "yet another passphrase"}
    )

    assert first.status_code == 204
    assert second.status_code == 400
    assert second.json()["error"]["code"] == "invalid_reset_token"
    assert sign_in(gateway, account["email"], "a brand new long passphrase")
    refreshed = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})
    assert refreshed.status_code == 401
    deadline = time.monotonic() + 5
    while gateway.get("/api/v1/auth/me/", headers=bearer(account["access"])).status_code == 200:
        assert time.monotonic() < deadline
        time.sleep(0.25)


def wait_for_an_empty_email_queue(system, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while "no email is waiting" not in system.manage("auth", "email_queue_status"):
        assert time.monotonic() < deadline, "the auth worker left emails in the queue"
        time.sleep(0.2)


def test_a_reset_asked_for_while_the_auth_worker_is_down_is_emailed_when_it_returns(system, gateway, account):
    wait_for_an_empty_email_queue(system)
    system.stop_process("auth-worker")
    try:
        response = gateway.post("/api/v1/auth/password/reset/", json={"email": account["email"]})
        assert response.status_code == 202
        # The request queued the email in auth's database; nothing is left to send it.
        assert "1 email waits" in system.manage("auth", "email_queue_status")
    finally:
        system.start_auth_worker()

    uid, token = latest_link(system, account["email"])
    body = {"uid": uid, "token": token, "new_password": "a brand new long passphrase"}
    assert gateway.post("/api/v1/auth/password/reset/confirm/", json=body).status_code == 204
