"""A user's life through the gateway: register, sign in, refresh, sign out, change password."""

import time

from tests.e2e.conftest import PASSWORD, bearer, register, sign_in

REVOCATION_DEADLINE = 5.0


def refused_within(client, path: str, token: str, seconds: float = REVOCATION_DEADLINE) -> float:
    """How long until the gateway refuses `token`; fails if it takes longer than `seconds`."""
    started = time.monotonic()
    while True:
        response = client.get(path, headers=bearer(token))
        elapsed = time.monotonic() - started
        # The gateway's own refusal says not_authenticated; until its token-check cache
        # expires, auth itself may already refuse the token (invalid_token), which is fine.
        if response.status_code == 401 and response.json()["error"]["code"] == "not_authenticated":
            return elapsed
        assert response.status_code in (200, 401), response.text
        assert elapsed < seconds, f"still accepted after {elapsed:.1f}s"
        time.sleep(0.25)


def test_register_sign_in_and_read_profile(gateway):
    user = register(gateway)
    tokens = sign_in(gateway, user["email"])
    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] == 300

    response = gateway.get("/api/v1/auth/me/", headers=bearer(tokens["access"]))

    assert response.status_code == 200
    assert response.json()["email"] == user["email"]
    assert response.json()["id"] == user["id"]


def test_register_answers_with_a_pair_that_works_at_once(gateway):
    user = register(gateway)
    assert user["token_type"] == "Bearer"

    response = gateway.get("/api/v1/auth/me/", headers=bearer(user["access"]))

    assert response.status_code == 200
    assert response.json()["id"] == user["id"]
    rotated = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": user["refresh"]})
    assert rotated.status_code == 200


def test_refresh_rotates_and_a_reused_refresh_token_ends_the_whole_sign_in(gateway, account):
    first = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})
    assert first.status_code == 200
    rotated = first.json()
    assert rotated["refresh"] != account["refresh"]
    assert gateway.get("/api/v1/auth/me/", headers=bearer(rotated["access"])).status_code == 200

    reused = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})

    assert reused.status_code == 401
    assert reused.json()["error"]["code"] == "token_reused"
    again = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": rotated["refresh"]})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_revoked"
    refused_within(gateway, "/api/v1/auth/me/", rotated["access"])


def test_after_logout_the_old_access_token_is_refused_within_five_seconds(gateway, account):
    # Warm the gateway's token-check cache first: revocation must beat it.
    assert gateway.get("/api/v1/auth/me/", headers=bearer(account["access"])).status_code == 200

    response = gateway.post(
        "/api/v1/auth/logout/", json={"refresh": account["refresh"]}, headers=bearer(account["access"])
    )

    assert response.status_code == 204
    refused_within(gateway, "/api/v1/auth/me/", account["access"])
    refresh = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})
    assert refresh.status_code == 401


def test_after_a_password_change_every_older_token_is_refused(gateway, account):
    older = sign_in(gateway, account["email"])  # a second session, e.g. another device
    for token in (account["access"], older["access"]):
        assert gateway.get("/api/v1/auth/me/", headers=bearer(token)).status_code == 200

    response = gateway.post(
        "/api/v1/auth/password/change/",
        json={"current_password": PASSWORD, "new_password": "an even longer new passphrase"},
        headers=bearer(account["access"]),
    )

    assert response.status_code == 200, response.text
    fresh = response.json()
    for token in (account["access"], older["access"]):
        refused_within(gateway, "/api/v1/auth/me/", token)
    for refresh in (account["refresh"], older["refresh"]):
        answer = gateway.post("/api/v1/auth/token/refresh/", json={"refresh": refresh})
        assert answer.status_code == 401
    assert gateway.get("/api/v1/auth/me/", headers=bearer(fresh["access"])).status_code == 200
    assert sign_in(gateway, account["email"], "an even longer new passphrase")["access"]


def test_profile_update_through_the_gateway(gateway, account):
    response = gateway.patch(
        "/api/v1/auth/me/", json={"name": "Ada Lovelace"}, headers=bearer(account["access"])
    )

    assert response.status_code == 200
    assert response.json()["name"] == "Ada Lovelace"
