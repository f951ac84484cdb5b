"""The payments service through the gateway, with no Stripe keys (the default): credits, holds, 503s."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import bearer, register, sign_in
from tests.e2e.system import SERVICES

pytestmark = pytest.mark.skipif("payments" not in SERVICES, reason="the payments service is not started")

PAYMENTS = "/api/v1/payments/"


@pytest.fixture
def auth(account) -> dict:
    return bearer(account["access"])


@pytest.fixture(scope="module")
def builder_token(system) -> str:
    """A service token for calling payments as the builder, obtained from auth as the builder would."""
    response = requests.post(
        f"{system.service_url('auth')}/internal/v1/service-token",
        json={
            "client_id": "builder",
            "client_secret": system.client_secrets["builder"],
            "audience": "payments",
        },
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()["access"]


def internal(system, token: str, method: str, path: str, **kwargs) -> requests.Response:
    """Straight to the payments service, never through the gateway, as a peer service calls it."""
    headers = {**bearer(token), **kwargs.pop("headers", {})}
    return requests.request(
        method, f"{system.service_url('payments')}/internal/v1/{path}", headers=headers, timeout=10, **kwargs
    )


def hold(system, token: str, user_id: str, amount: int) -> requests.Response:
    body = {"user_id": user_id, "amount": amount, "reason": "e2e generation", "generation_id": "gen-e2e"}
    return internal(system, token, "POST", "holds", json=body, headers={"Idempotency-Key": uuid.uuid4().hex})


def test_a_new_user_has_the_welcome_credits(gateway, auth):
    response = gateway.get(f"{PAYMENTS}balance/", headers=auth)

    assert response.status_code == 200, response.text
    assert response.json() == {"balance": 2000, "held": 0, "available": 2000}


def test_the_ledger_shows_the_welcome_grant(gateway, auth):
    response = gateway.get(f"{PAYMENTS}ledger/", headers=auth)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["count"] == 1
    assert (body["results"][0]["kind"], body["results"][0]["amount"]) == ("grant", 2000)


def test_the_packs_are_listed_as_not_purchasable_without_stripe(gateway, auth):
    response = gateway.get(f"{PAYMENTS}packs/", headers=auth)

    assert response.status_code == 200, response.text
    packs = response.json()
    assert len(packs) == 3
    assert set(packs[0]) == {"id", "name", "credits", "price", "currency", "purchasable"}
    assert {pack["purchasable"] for pack in packs} == {False}


def test_the_payments_api_needs_a_token_at_the_gateway(gateway, system):
    response = gateway.get(f"{PAYMENTS}balance/")

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


def test_checkout_without_stripe_keys_is_unavailable_and_names_no_setting(system, gateway, auth):
    body = {
        "pack_id": "starter",
        "success_url": "http://localhost:8080/done",
        "cancel_url": "http://localhost:8080/",
    }

    response = gateway.post(f"{PAYMENTS}checkout/", json=body, headers=auth)

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "payments_unavailable"
    assert response.json()["error"]["details"] == {}
    assert "STRIPE" not in response.text
    # The operator finds what is missing in the service's log, under the same request id.
    [warning] = [
        line
        for line in system.log("payments").splitlines()
        if response.headers["X-Request-ID"] in line and "Payments are unavailable" in line
    ]
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in warning


def test_a_hostile_return_url_is_refused_even_without_stripe(gateway, auth):
    body = {
        "pack_id": "starter",
        "success_url": "http://evil.example\\@localhost:8080/",
        "cancel_url": "http://localhost:8080/",
    }

    response = gateway.post(f"{PAYMENTS}checkout/", json=body, headers=auth)

    assert response.status_code == 400, response.text
    assert response.json()["error"]["code"] == "validation_error"
    assert set(response.json()["error"]["details"]) == {"success_url"}


def test_the_stripe_webhook_is_public_and_503_without_keys(gateway):
    response = gateway.post(
        f"{PAYMENTS}webhooks/stripe/",
        data=b'{"id": "evt_1", "type": "checkout.session.completed"}',
        headers={"Content-Type": "application/json", "Stripe-Signature": "t=1,v1=00"},
    )

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "payments_unavailable"
    assert "STRIPE" not in response.text


def test_an_unknown_checkout_session_is_not_found(gateway, auth):
    response = gateway.get(f"{PAYMENTS}checkout/cs_test_nobody/", headers=auth)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_holds_through_the_internal_api_move_the_users_balance(system, gateway, account, auth, builder_token):
    placed = hold(system, builder_token, account["id"], 1500)
    assert placed.status_code == 201, placed.text
    assert gateway.get(f"{PAYMENTS}balance/", headers=auth).json() == {
        "balance": 2000,
        "held": 1500,
        "available": 500,
    }

    refused = hold(system, builder_token, account["id"], 501)
    assert refused.status_code == 402
    assert refused.json()["error"]["details"] == {"available": 500, "requested": 501}

    captured = internal(
        system,
        builder_token,
        "POST",
        f"holds/{placed.json()['hold_id']}/capture",
        json={"amount": 400},
        headers={"Idempotency-Key": "capture-1"},
    )
    assert captured.status_code == 200, captured.text
    assert (captured.json()["captured_amount"], captured.json()["released_amount"]) == (400, 1100)
    assert gateway.get(f"{PAYMENTS}balance/", headers=auth).json() == {
        "balance": 1600,
        "held": 0,
        "available": 1600,
    }
    kinds = [entry["kind"] for entry in gateway.get(f"{PAYMENTS}ledger/", headers=auth).json()["results"]]
    assert kinds == ["release", "capture", "hold", "grant"]


def test_a_released_hold_gives_the_credits_back(system, gateway, account, auth, builder_token):
    placed = hold(system, builder_token, account["id"], 700).json()

    released = internal(
        system, builder_token, "POST", f"holds/{placed['hold_id']}/release", headers={"Idempotency-Key": "r1"}
    )

    assert released.status_code == 200, released.text
    assert released.json()["status"] == "released"
    assert gateway.get(f"{PAYMENTS}balance/", headers=auth).json()["available"] == 2000


def test_the_internal_balance_matches_what_the_user_sees(system, gateway, account, auth, builder_token):
    response = internal(system, builder_token, "GET", f"accounts/{account['id']}/balance")

    assert response.status_code == 200, response.text
    assert response.json() == {
        "user_id": account["id"],
        **gateway.get(f"{PAYMENTS}balance/", headers=auth).json(),
    }


def test_the_internal_api_refuses_a_users_token(system, account):
    response = hold(system, account["access"], account["id"], 10)

    assert response.status_code == 401


def test_the_internal_api_is_not_routed_by_the_gateway(gateway, auth):
    response = gateway.post("/internal/v1/holds", json={}, headers=auth)

    assert response.status_code == 404


def test_users_never_see_each_others_credits(system, gateway, account, auth, builder_token):
    other = register(gateway)
    other_auth = bearer(sign_in(gateway, other["email"])["access"])
    hold(system, builder_token, account["id"], 900)

    assert gateway.get(f"{PAYMENTS}balance/", headers=other_auth).json()["held"] == 0
    assert gateway.get(f"{PAYMENTS}ledger/", headers=other_auth).json()["count"] == 1
