"""Personal API keys through the gateway: exchanged for a short JWT, revoked within seconds."""

import time

import jwt

from tests.e2e.conftest import bearer


def test_an_api_key_works_through_the_gateway(gateway, account):
    created = gateway.post(
        "/api/v1/auth/api-keys/", json={"name": "deploy script"}, headers=bearer(account["access"])
    )
    assert created.status_code == 201
    key = created.json()["key"]
    assert key.startswith("oak_")

    response = gateway.get("/api/v1/auth/me/", headers=bearer(key))

    assert response.status_code == 200
    assert response.json()["id"] == account["id"]
    listed = gateway.get("/api/v1/auth/api-keys/", headers=bearer(account["access"])).json()
    assert [item["name"] for item in listed] == ["deploy script"]
    assert "key" not in listed[0]


def test_a_deleted_api_key_stops_working_within_five_seconds(gateway, account):
    created = gateway.post(
        "/api/v1/auth/api-keys/", json={"name": "temporary"}, headers=bearer(account["access"])
    ).json()
    assert gateway.get("/api/v1/auth/me/", headers=bearer(created["key"])).status_code == 200

    deleted = gateway.delete(f"/api/v1/auth/api-keys/{created['id']}/", headers=bearer(account["access"]))

    assert deleted.status_code == 204
    started = time.monotonic()
    while gateway.get("/api/v1/auth/me/", headers=bearer(created["key"])).status_code == 200:
        assert time.monotonic() - started < 5, "the deleted key still works"
        time.sleep(0.25)


def test_the_service_sees_a_short_jwt_not_the_key(system, gateway, account):
    created = gateway.post(
        "/api/v1/auth/api-keys/", json={"name": "phantom"}, headers=bearer(account["access"])
    ).json()

    verify = __import__("requests").get(
        f"{system.service_url('auth')}/internal/v1/verify", headers=bearer(created["key"]), timeout=10
    )

    assert verify.status_code == 200
    token = verify.headers["X-Oasis-Token"]
    claims = jwt.decode(token, options={"verify_signature": False})
    assert claims["sub"] == account["id"]
    assert claims["token_type"] == "access"
    assert claims["exp"] - claims["iat"] <= 60


def test_another_users_api_key_cannot_be_deleted(gateway, account):
    from tests.e2e.conftest import register, sign_in

    created = gateway.post(
        "/api/v1/auth/api-keys/", json={"name": "mine"}, headers=bearer(account["access"])
    ).json()
    intruder = register(gateway)
    intruder_tokens = sign_in(gateway, intruder["email"])

    response = gateway.delete(
        f"/api/v1/auth/api-keys/{created['id']}/", headers=bearer(intruder_tokens["access"])
    )

    assert response.status_code == 404
    assert gateway.get("/api/v1/auth/me/", headers=bearer(created["key"])).status_code == 200
