"""Checkout: a Stripe Checkout Session for a pack, asked of Stripe's API exactly so; no credits yet."""

import hashlib
import json
from urllib.parse import parse_qs

import pytest
import responses

from purchases.models import CheckoutSession, CheckoutStatus
from tests.helpers import STRIPE_KEY, WEBHOOK_SECRET, error_of

URL = "/api/v1/payments/checkout/"
STRIPE_SESSIONS = "https://api.stripe.com/v1/checkout/sessions"
GOOD = {
    "pack_id": "starter",
    "success_url": "https://app.example.com/billing/done?session={CHECKOUT_SESSION_ID}",
    "cancel_url": "https://app.example.com/billing",
}


def stripe_session(session_id: str = "cs_test_a1") -> dict:
    return {
        "id": session_id,
        "object": "checkout.session",
        "url": f"https://checkout.stripe.com/c/pay/{session_id}",
        "expires_at": 1_900_000_000,
        "mode": "payment",
        "payment_status": "unpaid",
        "status": "open",
    }


def answer_with_a_session(stripe_api, session_id: str = "cs_test_a1") -> None:
    stripe_api.add(responses.POST, STRIPE_SESSIONS, json=stripe_session(session_id))


def sent_form(call) -> dict:
    return {key: values[0] for key, values in parse_qs(call.request.body).items()}


def test_checkout_opens_a_stripe_session_and_returns_where_to_pay(user, user_id, stripe_api):
    answer_with_a_session(stripe_api)

    response = user.post(URL, GOOD, format="json")

    assert response.status_code == 201, response.content
    assert response.json() == {
        "session_id": "cs_test_a1",
        "url": "https://checkout.stripe.com/c/pay/cs_test_a1",
    }
    session = CheckoutSession.objects.get(session_id="cs_test_a1")
    assert str(session.user_id) == user_id
    assert (session.pack_id, session.credits, session.amount_total, session.currency) == (
        "starter",
        10_000,
        1_000,
        "usd",
    )
    assert session.status == CheckoutStatus.OPEN
    assert session.expires_at.timestamp() == 1_900_000_000


def test_checkout_sends_stripe_a_payment_session_for_the_pack_and_the_user(user, user_id, stripe_api):
    answer_with_a_session(stripe_api)

    user.post(URL, GOOD, format="json")

    [call] = stripe_api.calls
    assert call.request.headers["Authorization"] == f"Bearer {STRIPE_KEY}"
    assert call.request.headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert sent_form(call) == {
        "mode": "payment",
        "client_reference_id": user_id,
        "success_url": GOOD["success_url"],
        "cancel_url": GOOD["cancel_url"],
        "line_items[0][quantity]": "1",
        "line_items[0][price_data][currency]": "usd",
        "line_items[0][price_data][unit_amount]": "1000",
        "line_items[0][price_data][product_data][name]": "Starter credit pack",
        "line_items[0][price_data][product_data][description]": "10,000 Imagi Oasis credits",
        "metadata[user_id]": user_id,
        "metadata[pack_id]": "starter",
        "metadata[credits]": "10000",
        "payment_intent_data[metadata][user_id]": user_id,
        "payment_intent_data[metadata][pack_id]": "starter",
        "payment_intent_data[metadata][credits]": "10000",
    }


def test_each_checkout_carries_its_own_idempotency_key(user, user_id, stripe_api):
    answer_with_a_session(stripe_api, "cs_test_1")
    answer_with_a_session(stripe_api, "cs_test_2")

    user.post(URL, GOOD, format="json")
    user.post(URL, GOOD, format="json")

    keys = [call.request.headers["Idempotency-Key"] for call in stripe_api.calls]
    assert len(set(keys)) == 2
    assert all(key.startswith(f"checkout:{user_id}:") for key in keys)


def test_a_retried_checkout_with_the_callers_key_gets_the_same_session(user, user_id, stripe_api):
    # Stripe answers a repeated idempotency key with its first answer.
    answer_with_a_session(stripe_api, "cs_test_same")
    answer_with_a_session(stripe_api, "cs_test_same")

    first = user.post(URL, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")
    again = user.post(URL, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")

    assert first.json() == again.json()
    expected = f"checkout:{user_id}:{hashlib.sha256(b'buy-1').hexdigest()}"
    assert [call.request.headers["Idempotency-Key"] for call in stripe_api.calls] == [expected] * 2
    assert CheckoutSession.objects.count() == 1


def test_any_key_the_caller_sends_fits_stripes_limit(user, stripe_api):
    answer_with_a_session(stripe_api)

    user.post(URL, GOOD, format="json", HTTP_IDEMPOTENCY_KEY="k" * 1000)

    [call] = stripe_api.calls
    assert len(call.request.headers["Idempotency-Key"]) <= 255


def test_the_same_key_with_another_pack_is_refused(user, stripe_api):
    error = {
        "error": {"type": "idempotency_error", "message": "Keys for idempotent requests can only be used..."}
    }
    stripe_api.add(responses.POST, STRIPE_SESSIONS, json=error, status=400)

    response = user.post(URL, {**GOOD, "pack_id": "studio"}, format="json", HTTP_IDEMPOTENCY_KEY="buy-1")

    error_of(response, 422, "idempotency_key_reused")
    assert not CheckoutSession.objects.exists()


def test_checkout_grants_no_credits(user, stripe_api):
    answer_with_a_session(stripe_api)

    user.post(URL, GOOD, format="json")
    user.get(f"{URL}cs_test_a1/")

    assert user.get("/api/v1/payments/balance/").json()["balance"] == 2000


# Well-formed URLs whose origin, as a browser reads it, is not https://app.example.com.
FOREIGN_ORIGINS = [
    "https://evil.example.com/done",
    "https://app.example.com.evil.com/done",
    "https://sub.app.example.com/done",
    "https://example.com/done",
    # Another scheme or port is another origin.
    "http://app.example.com/done",
    "https://app.example.com:8443/done",
    "https://app.example.com:0/done",
    # A trailing dot is another origin to a browser, with its own cookies and storage.
    "https://app.example.com./done",
    # The punycode form of a look-alike name whose first letter is Cyrillic (U+0430).
    "https://xn--pp-6kc.example.com/done",
    "https://127.0.0.1/done",
    "https://[::1]/done",
]


@pytest.mark.parametrize("url", FOREIGN_ORIGINS)
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_a_redirect_outside_the_allowed_origins_is_refused(user, stripe_api, field, url):
    error = error_of(user.post(URL, {**GOOD, field: url}, format="json"), 422, "redirect_not_allowed")

    assert field in error["details"]
    assert error["details"]["allowed"] == ["https://app.example.com"]
    assert not stripe_api.calls
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://APP.Example.com/done",
        "https://app.example.com:443/x?y=1#z",
        "https://app.example.com",
        "https://app.example.com:0443/done",
        "https://app.example.com:/done",
        "https://app.example.com/done#@evil.example",
        "https://app.example.com/done?next=//evil.example",
    ],
)
def test_an_allowed_origin_matches_however_it_is_written(user, stripe_api, url):
    answer_with_a_session(stripe_api)

    assert user.post(URL, {**GOOD, "success_url": url}, format="json").status_code == 201


# URLs a browser could read differently from a server-side parser, or that are not plain
# http(s) URLs at all: refused as malformed, whatever the allowed origins are.
HOSTILE_URLS = [
    # A browser reads "\" as "/": the host is evil.example.
    "https://evil.example\\@app.example.com/",
    "https://evil.example\\.app.example.com/",
    "https://app.example.com\\evil.example/",
    # Userinfo, plain and percent-encoded.
    "https://app.example.com@evil.example/",
    "https://user@app.example.com/",
    "https://user:secret@app.example.com/",
    "https://@app.example.com/",
    "https://app.example.com%2F@evil.example/",
    "https://app.example.com%40evil.example/",
    # Percent-encoding in the host, which a browser decodes.
    "https://app%2eexample.com/",
    "https://evil.example%23.app.example.com/",
    "https://[fe80::1%25eth0]/",
    # No scheme, or no authority.
    "//evil.example/",
    "///evil.example/",
    "/\\evil.example/",
    "https:evil.example",
    "https:/evil.example",
    "https:///evil.example",
    # Other schemes.
    "javascript:alert(document.domain)//https://app.example.com/",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "ftp://app.example.com/",
    "mailto:buyer@app.example.com",
    # Whitespace and control characters, which a browser strips or trims.
    "https://app.example.com\t.evil.example/",
    "https://app.example.com\n/",
    "https://app.example.com\r\n.evil.example/",
    " https://app.example.com/",
    "https://app.example.com/ ",
    "https://app.example.com/\x7f",
    "https://app.example.com/\u00a0",
    # Invisible and non-ASCII hosts, which a browser maps through IDNA.
    "https://app.example.com\u200b.evil.example/",
    "https://app.example.com/\u202egpj.exe",
    "https://\u0430pp.example.com/",
    "https://app\uff0eexample\uff0ecom/",
    "https://evil.example\uff03.app.example.com/",
    # Ports that are not a number from 0 to 65535.
    "https://app.example.com:99999/",
    "https://app.example.com:+443/",
    "https://app.example.com:\u0664\u0664\u0663/",
    "https://app.example.com:443:80/",
    "https://app.example.com:https/",
]


@pytest.mark.parametrize("url", HOSTILE_URLS)
@pytest.mark.parametrize("field", ["success_url", "cancel_url"])
def test_a_hostile_return_url_is_refused_the_same_with_or_without_stripe(user, settings, field, url):
    with responses.RequestsMock():
        without_stripe = user.post(URL, {**GOOD, field: url}, format="json")
        settings.PAYMENTS = {
            **settings.PAYMENTS,
            "STRIPE_SECRET_KEY": STRIPE_KEY,
            "STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
        }
        with_stripe = user.post(URL, {**GOOD, field: url}, format="json")

    error = error_of(without_stripe, 400, "validation_error")
    assert set(error["details"]) == {field}
    assert with_stripe.status_code == 400
    assert with_stripe.json()["error"]["details"] == error["details"]
    assert not CheckoutSession.objects.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"pack_id": "platinum"}, "pack_id"),
        ({"pack_id": None}, "pack_id"),
        ({"success_url": "not a url"}, "success_url"),
        ({"success_url": "javascript:alert(1)"}, "success_url"),
        ({"cancel_url": "ftp://app.example.com/x"}, "cancel_url"),
        ({"cancel_url": "https://app.example.com/" + "x" * 2048}, "cancel_url"),
    ],
)
def test_a_malformed_checkout_is_refused(user, stripe_api, body, field):
    error = error_of(user.post(URL, {**GOOD, **body}, format="json"), 400, "validation_error")

    assert set(error["details"]) == {field}
    assert not stripe_api.calls


def test_a_checkout_body_that_is_not_json_is_refused(user, stripe_api):
    response = user.generic("POST", URL, "{not json", content_type="application/json")

    error_of(response, 400, "malformed_request")


def test_without_stripe_keys_checkout_is_unavailable_and_names_no_setting(user, caplog):
    with responses.RequestsMock():
        response = user.post(URL, GOOD, format="json")

    error = error_of(response, 503, "payments_unavailable")
    assert error["details"] == {}
    assert "STRIPE" not in response.content.decode()
    assert not CheckoutSession.objects.exists()


def test_without_stripe_keys_the_log_tells_the_operator_what_is_missing(user, caplog):
    with responses.RequestsMock():
        user.post(URL, GOOD, format="json")

    [record] = [record for record in caplog.records if record.name == "oasis.payments.stripe"]
    assert record.levelname == "WARNING"
    assert record.missing == ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"]
    assert "STRIPE_SECRET_KEY and STRIPE_WEBHOOK_SECRET" in record.getMessage()


def test_without_stripe_keys_a_malformed_checkout_is_still_a_400(user):
    with responses.RequestsMock():
        response = user.post(URL, {**GOOD, "pack_id": "platinum"}, format="json")

    assert set(error_of(response, 400, "validation_error")["details"]) == {"pack_id"}


def test_checkout_needs_a_signed_in_user(api, db, stripe_api):
    error_of(api.post(URL, GOOD, format="json"), 401)


def test_the_owner_reads_their_checkout_session(user, stripe_api):
    answer_with_a_session(stripe_api)
    user.post(URL, GOOD, format="json")

    response = user.get(f"{URL}cs_test_a1/")

    assert response.status_code == 200
    body = response.json()
    assert body["session_id"] == "cs_test_a1"
    assert (body["pack_id"], body["credits"], body["amount"], body["currency"]) == (
        "starter",
        10_000,
        1_000,
        "usd",
    )
    assert body["status"] == "open"
    assert body["url"] == "https://checkout.stripe.com/c/pay/cs_test_a1"
    assert body["paid_at"] is None


def test_another_users_checkout_session_is_not_found(user, other_user, stripe_api):
    answer_with_a_session(stripe_api)
    user.post(URL, GOOD, format="json")

    error_of(other_user.get(f"{URL}cs_test_a1/"), 404, "not_found")


def test_an_unknown_checkout_session_is_not_found(user):
    error_of(user.get(f"{URL}cs_test_nope/"), 404, "not_found")


def test_reading_a_checkout_session_needs_a_signed_in_user(api, db):
    error_of(api.get(f"{URL}cs_test_a1/"), 401)


def test_the_stripe_answer_is_what_the_client_relays(user, stripe_api):
    answer_with_a_session(stripe_api, "cs_live_xyz")

    body = user.post(URL, GOOD, format="json").json()

    assert json.dumps(body) == json.dumps(
        {"session_id": "cs_live_xyz", "url": "https://checkout.stripe.com/c/pay/cs_live_xyz"}
    )
