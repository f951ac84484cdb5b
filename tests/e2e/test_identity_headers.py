"""Identity comes from the token alone: headers a client sends about itself change nothing."""

import http.client

import pytest

from tests.e2e.conftest import bearer, register, sign_in

SPOOFED = ["X-User-Id", "X_User_Id", "X-Oasis-Token"]


@pytest.mark.parametrize("header", SPOOFED)
def test_a_client_sent_identity_header_does_not_change_who_you_are(gateway, account, header):
    other = register(gateway)

    response = gateway.get("/api/v1/auth/me/", headers={**bearer(account["access"]), header: other["id"]})

    assert response.status_code == 200
    assert response.json()["id"] == account["id"]


@pytest.mark.parametrize("header", SPOOFED)
def test_an_identity_header_without_a_token_is_refused(gateway, account, header):
    response = gateway.get("/api/v1/auth/me/", headers={header: account["id"]})

    assert response.status_code == 401


def test_an_underscore_header_never_reaches_the_service(system, account):
    # requests normalises nothing, but be explicit: send the raw header over a plain socket.
    host, port = system.url.removeprefix("http://").split(":")
    connection = http.client.HTTPConnection(host, int(port), timeout=10)
    connection.putrequest("GET", "/api/v1/auth/me/")
    connection.putheader("Authorization", f"Bearer {account['access']}")
    connection.putheader("X_User_Id", "00000000-0000-0000-0000-000000000000")
    connection.endheaders()
    response = connection.getresponse()

    assert response.status == 200
    assert account["id"].encode() in response.read()


def test_api_key_identity_cannot_be_spoofed_either(gateway, account):
    created = gateway.post(
        "/api/v1/auth/api-keys/", json={"name": "ci"}, headers=bearer(account["access"])
    ).json()
    other = register(gateway)
    other_tokens = sign_in(gateway, other["email"])

    response = gateway.get("/api/v1/auth/me/", headers={**bearer(created["key"]), "X-User-Id": other["id"]})

    assert response.status_code == 200
    assert response.json()["id"] == account["id"]
    assert other_tokens["access"]
