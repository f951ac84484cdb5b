"""Stripe's failures, answered as Stripe answers them: a refusal is final, only an outage is "try again"."""

import json

import pytest
import requests
import responses

from purchases.models import CheckoutSession
from tests.helpers import error_of

URL = "/api/v1/payments/checkout/"
STRIPE_SESSIONS = "https://api.stripe.com/v1/checkout/sessions"
GOOD = {
    "pack_id": "starter",
    "success_url": "https://app.example.com/billing/done",
    "cancel_url": "https://app.example.com/billing",
}
REQUEST_ID = "req_8fGq2mZrXk1Lw3"


def stripe_answers(stripe_api, status: int, error: dict) -> None:
    """Stripe's error answer: the status, `{"error": {...}}` and its Request-Id header."""
    stripe_api.add(
        responses.POST,
        STRIPE_SESSIONS,
        status=status,
        json={"error": error},
        headers={"Request-Id": REQUEST_ID, "Stripe-Version": "2025-06-30.basil"},
    )


INVALID_REQUEST = {
    "code": "parameter_invalid_integer",
    "doc_url": "https://stripe.com/docs/error-codes/parameter-invalid-integer",
    "message": "Invalid integer: 10.5",
    "param": "line_items[0][price_data][unit_amount]",
    "request_log_url": f"https://dashboard.stripe.com/test/logs/{REQUEST_ID}",
    "type": "invalid_request_error",
}
BAD_KEY = {"message": "Invalid API Key provided: sk_test_********_key", "type": "invalid_request_error"}
NOT_PERMITTED = {
    "message": "The provided key 'rk_test_***key' does not have the required permissions for this "
    "endpoint on account 'acct_1Oasis'.",
    "type": "invalid_request_error",
}
RESOURCE_MISSING = {
    "code": "resource_missing",
    "doc_url": "https://stripe.com/docs/error-codes/resource-missing",
    "message": "No such price: 'price_1Gone'",
    "param": "line_items[0][price]",
    "type": "invalid_request_error",
}
CARD_DECLINED = {
    "code": "card_declined",
    "decline_code": "generic_decline",
    "message": "Your card was declined.",
    "type": "card_error",
}
KEY_REUSED = {
    "message": "Keys for idempotent requests can only be used with the same parameters they were first "
    "used with.",
    "type": "idempotency_error",
}
RATE_LIMITED = {
    "code": "rate_limit",
    "message": "Request rate limit exceeded. Learn more about rate limits here https://stripe.com/docs/rate-limits.",
    "type": "invalid_request_error",
}
SERVER_ERROR = {"message": "An unknown error occurred", "type": "api_error"}

OUR_SIDE = [(400, INVALID_REQUEST), (401, BAD_KEY), (403, NOT_PERMITTED), (404, RESOURCE_MISSING)]
OUR_SIDE_IDS = ["invalid-request", "bad-key", "no-permission", "resource-missing"]


def assert_final(response) -> None:
    """Nothing in the answer invites a retry, and nothing of the provider's internals shows."""
    assert "Retry-After" not in response.headers
    text = response.content.decode()
    assert "try again" not in text.lower()
    for internal in (REQUEST_ID, "sk_test", "Stripe", "price_", "acct_"):
        assert internal not in text


@pytest.mark.parametrize(("status", "error"), OUR_SIDE, ids=OUR_SIDE_IDS)
def test_a_refusal_caused_by_our_side_is_a_final_502(user, stripe_api, status, error):
    stripe_answers(stripe_api, status, error)

    response = user.post(URL, GOOD, format="json")

    body = error_of(response, 502, "payment_provider_error")
    assert body["details"] == {}
    assert "retrying will not help" in body["message"]
    assert_final(response)
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(("status", "error"), OUR_SIDE, ids=OUR_SIDE_IDS)
def test_a_refusal_caused_by_our_side_is_logged_with_stripes_request_id(
    user, stripe_api, caplog, status, error
):
    stripe_answers(stripe_api, status, error)

    user.post(URL, GOOD, format="json")

    [record] = [record for record in caplog.records if record.name == "oasis.payments.stripe"]
    assert record.levelname == "ERROR"
    assert REQUEST_ID in record.getMessage()
    assert (record.stripe_request_id, record.stripe_status) == (REQUEST_ID, status)
    assert (record.stripe_type, record.stripe_code) == (error["type"], error.get("code"))
    assert record.stripe_message == error["message"]
    assert json.loads(record.stripe_body) == {"error": error}


def test_a_bad_key_is_named_to_the_operator_as_an_authentication_error(user, stripe_api, caplog):
    stripe_answers(stripe_api, 401, BAD_KEY)

    user.post(URL, GOOD, format="json")

    [record] = [record for record in caplog.records if record.name == "oasis.payments.stripe"]
    assert record.stripe_error == "AuthenticationError"
    assert "Invalid API Key provided" in record.stripe_body


@pytest.mark.parametrize(
    ("status", "error", "code"),
    [(402, CARD_DECLINED, "payment_declined"), (400, KEY_REUSED, "idempotency_key_reused")],
    ids=["card-declined", "idempotency-key-reused"],
)
def test_a_refusal_caused_by_the_caller_is_a_final_422(user, stripe_api, caplog, status, error, code):
    stripe_answers(stripe_api, status, error)

    response = user.post(URL, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")

    error_of(response, 422, code)
    assert_final(response)
    [record] = [record for record in caplog.records if record.name == "oasis.payments.stripe"]
    assert (record.levelname, record.stripe_request_id) == ("INFO", REQUEST_ID)


@pytest.mark.parametrize(
    "answer",
    [
        {"status": 429, "json": {"error": RATE_LIMITED}, "headers": {"Request-Id": REQUEST_ID}},
        {"status": 500, "json": {"error": SERVER_ERROR}, "headers": {"Request-Id": REQUEST_ID}},
        {"status": 503, "json": {"error": SERVER_ERROR}, "headers": {"Request-Id": REQUEST_ID}},
        {"status": 502, "body": "<html>Bad Gateway</html>", "content_type": "text/html"},
        {"body": requests.ConnectionError("Connection refused")},
        {"body": requests.Timeout("Read timed out")},
    ],
    ids=["rate-limited", "server-error", "unavailable", "not-json", "unreachable", "timed-out"],
)
def test_an_outage_or_rate_limit_is_a_503_to_try_again_shortly(user, stripe_api, caplog, answer):
    stripe_api.add(responses.POST, STRIPE_SESSIONS, **answer)

    response = user.post(URL, GOOD, format="json")

    body = error_of(response, 503, "payment_provider_unavailable")
    assert response.headers["Retry-After"] == "5"
    assert body["details"] == {"retry_after": 5}
    assert "Try again shortly" in body["message"]
    assert not CheckoutSession.objects.exists()
    [record] = [record for record in caplog.records if record.name == "oasis.payments.stripe"]
    assert record.levelname == "WARNING"
    assert record.stripe_request_id == answer.get("headers", {}).get("Request-Id")


def test_a_server_error_is_retried_with_the_same_key_before_the_buyer_hears_of_it(user, stripe_api, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "STRIPE_MAX_NETWORK_RETRIES": 1}
    stripe_answers(stripe_api, 500, SERVER_ERROR)
    stripe_api.add(
        responses.POST,
        STRIPE_SESSIONS,
        json={
            "id": "cs_test_after",
            "object": "checkout.session",
            "url": "https://checkout.stripe.com/c/pay/x",
        },
    )

    response = user.post(URL, GOOD, format="json")

    assert response.status_code == 201, response.content
    keys = {call.request.headers["Idempotency-Key"] for call in stripe_api.calls}
    assert len(stripe_api.calls) == 2
    assert len(keys) == 1
