"""Stripe's webhook: signed deliveries only, each event once, credits only for what was paid."""

import json
import time
import uuid

import pytest

from credits.accounts import account_open
from credits.models import EntryKind, LedgerEntry
from purchases import fulfilment
from purchases.models import CheckoutSession, CheckoutStatus, StripeEvent
from tests.helpers import (
    WEBHOOK_URL,
    charge_object,
    deliver,
    dispute_object,
    error_of,
    place_hold,
    session_object,
    settle,
    stripe_event,
    stripe_signature,
    totals_of,
)


@pytest.fixture
def session(db, stripe_keys, user_id):
    """A checkout session this service opened for the starter pack (10,000 credits for USD 10)."""
    return CheckoutSession.objects.create(
        session_id="cs_test_1",
        user_id=user_id,
        pack_id="starter",
        credits=10_000,
        amount_total=1_000,
        currency="usd",
    )


def completed(user_id, **fields):
    return stripe_event("checkout.session.completed", session_object("cs_test_1", user_id, **fields))


def refunded(amount_refunded, payment_intent="pi_test_1"):
    return stripe_event("charge.refunded", charge_object(payment_intent, amount_refunded=amount_refunded))


def dispute(kind, status, *, dispute_id="dp_1", amount=1_000):
    return stripe_event(
        f"charge.dispute.{kind}", dispute_object(dispute_id, "pi_test_1", amount=amount, status=status)
    )


def balance(user_id) -> int:
    """The balance as the user would see it (their account opens on the first look)."""
    return account_open(user_id=user_id).balance


def accepted(response) -> dict:
    assert response.status_code == 200, response.content
    return response.json()


# ---- signatures ----


def test_a_signed_event_is_accepted(api, session, user_id):
    body = accepted(deliver(api, completed(user_id)))

    assert body == {"received": True, "duplicate": False}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda payload, header: (payload, header.replace("v1=", "v1=0")),
        lambda payload, header: (payload.replace('"paid"', '"PAID"'), header),
        lambda payload, header: (payload, stripe_signature(payload, secret="whsec_someone_else")),
        lambda payload, header: (payload, stripe_signature(payload, timestamp=int(time.time()) - 301)),
        lambda payload, header: (payload, ""),
        lambda payload, header: (payload, "garbage"),
        lambda payload, header: (payload, "t=notanumber,v1=abc"),
        lambda payload, header: (payload, header.replace("v1=", "v0=")),
    ],
    ids=[
        "bad-mac",
        "tampered-body",
        "wrong-secret",
        "stale",
        "missing",
        "garbage",
        "bad-timestamp",
        "wrong-scheme",
    ],
)
def test_a_bad_or_stale_signature_is_refused_and_changes_nothing(api, session, user_id, tamper):
    payload = json.dumps(completed(user_id))
    payload, header = tamper(payload, stripe_signature(payload))

    response = api.generic(
        "POST", WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=header
    )

    error_of(response, 400, "invalid_signature")
    assert not StripeEvent.objects.exists()
    assert CheckoutSession.objects.get().status == CheckoutStatus.OPEN
    assert not LedgerEntry.objects.filter(kind=EntryKind.PURCHASE).exists()


def test_a_signature_within_the_tolerance_is_accepted(api, session, user_id):
    accepted(deliver(api, completed(user_id), timestamp=int(time.time()) - 250))


@pytest.mark.parametrize("payload", [b"not json", b"\xff\xfe", b'{"id": 1}', b'{"id": "evt_1", "type": "x"}'])
def test_a_signed_body_that_is_not_an_event_is_refused(api, db, stripe_keys, payload):
    signature = stripe_signature(payload.decode("utf-8", errors="replace"))

    response = api.generic(
        "POST", WEBHOOK_URL, payload, content_type="application/json", HTTP_STRIPE_SIGNATURE=signature
    )

    assert response.status_code == 400
    assert response.json()["error"]["code"] in {"malformed_event", "invalid_signature"}
    assert not StripeEvent.objects.exists()


def test_without_stripe_keys_the_webhook_is_unavailable_and_names_no_setting(api, db, user_id, caplog):
    response = deliver(api, completed(user_id))

    error = error_of(response, 503, "payments_unavailable")
    assert error["details"] == {}
    assert "STRIPE" not in response.content.decode()
    assert "STRIPE_WEBHOOK_SECRET" in caplog.text
    assert not StripeEvent.objects.exists()


def test_the_webhook_needs_no_token(api, session, user_id):
    api.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")

    accepted(deliver(api, completed(user_id)))


# ---- checkout sessions ----


def test_a_paid_completed_session_grants_the_packs_credits(api, session, user_id):
    event = completed(user_id)

    deliver(api, event)

    assert balance(user_id) == 12_000
    session.refresh_from_db()
    assert session.status == CheckoutStatus.PAID
    assert session.paid_at is not None
    assert session.payment_intent_id == "pi_test_1"
    entry = LedgerEntry.objects.get(kind=EntryKind.PURCHASE)
    assert (entry.amount, entry.stripe_object_id, entry.stripe_event_id) == (10_000, "cs_test_1", event["id"])
    assert entry.idempotency_key == "purchase:cs_test_1"
    assert entry.actor == "stripe"


def test_the_same_event_twice_grants_once(api, session, user_id):
    event = completed(user_id)

    first = accepted(deliver(api, event))
    again = accepted(deliver(api, event))

    assert (first["duplicate"], again["duplicate"]) == (False, True)
    assert balance(user_id) == 12_000
    assert StripeEvent.objects.count() == 1


def test_two_events_saying_the_session_is_paid_grant_once(api, session, user_id):
    deliver(api, completed(user_id))
    deliver(
        api, stripe_event("checkout.session.async_payment_succeeded", session_object("cs_test_1", user_id))
    )

    assert balance(user_id) == 12_000
    assert LedgerEntry.objects.filter(kind=EntryKind.PURCHASE).count() == 1


def test_an_unpaid_completed_session_grants_nothing_until_the_payment_succeeds(api, session, user_id):
    deliver(api, completed(user_id, payment_status="unpaid"))

    assert balance(user_id) == 2000
    session.refresh_from_db()
    assert session.status == CheckoutStatus.AWAITING_PAYMENT

    deliver(
        api, stripe_event("checkout.session.async_payment_succeeded", session_object("cs_test_1", user_id))
    )

    assert balance(user_id) == 12_000
    session.refresh_from_db()
    assert session.status == CheckoutStatus.PAID


def test_a_failed_async_payment_marks_the_session_failed_and_grants_nothing(api, session, user_id):
    deliver(api, completed(user_id, payment_status="unpaid"))

    deliver(
        api,
        stripe_event(
            "checkout.session.async_payment_failed",
            session_object("cs_test_1", user_id, payment_status="unpaid"),
        ),
    )

    assert balance(user_id) == 2000
    assert CheckoutSession.objects.get().status == CheckoutStatus.FAILED


def test_a_late_failure_does_not_undo_a_paid_session(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, stripe_event("checkout.session.async_payment_failed", session_object("cs_test_1", user_id)))

    assert CheckoutSession.objects.get().status == CheckoutStatus.PAID
    assert balance(user_id) == 12_000


def test_an_expired_session_is_marked_expired(api, session, user_id):
    deliver(
        api,
        stripe_event(
            "checkout.session.expired", session_object("cs_test_1", user_id, payment_status="unpaid")
        ),
    )

    assert CheckoutSession.objects.get().status == CheckoutStatus.EXPIRED


def test_the_owner_sees_the_session_paid(api, session, user, user_id):
    deliver(api, completed(user_id))

    body = user.get("/api/v1/payments/checkout/cs_test_1/").json()

    assert body["status"] == "paid"
    assert body["paid_at"]


def test_a_paid_session_this_service_never_stored_is_credited_from_its_metadata(
    api, db, stripe_keys, user_id
):
    # Stripe created it, but the checkout request failed before the row was written.
    deliver(api, completed(user_id))

    assert balance(user_id) == 12_000
    session = CheckoutSession.objects.get(session_id="cs_test_1")
    assert (session.pack_id, session.credits, session.amount_total, session.status) == (
        "starter",
        10_000,
        1_000,
        "paid",
    )


@pytest.mark.parametrize(
    "metadata",
    [
        {},
        {"user_id": "nobody", "credits": "5", "pack_id": "x"},
        {"user_id": str(uuid.uuid4()), "credits": "5"},
    ],
)
def test_a_session_that_is_not_ours_is_acknowledged_and_ignored(api, db, stripe_keys, user_id, metadata):
    obj = {**session_object("cs_other", user_id), "metadata": metadata}

    accepted(deliver(api, stripe_event("checkout.session.completed", obj)))

    assert not CheckoutSession.objects.exists()
    assert not LedgerEntry.objects.exists()


def test_an_unknown_event_type_is_acknowledged(api, db, stripe_keys):
    event = stripe_event("customer.created", {"id": "cus_1", "object": "customer"})

    assert accepted(deliver(api, event)) == {"received": True, "duplicate": False}
    assert StripeEvent.objects.get().type == "customer.created"


def test_a_failure_while_processing_answers_5xx_and_keeps_nothing(api, session, user_id, monkeypatch):
    def broken(**kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(fulfilment, "purchase_fulfil", broken)
    event = completed(user_id)

    response = api.generic(
        "POST",
        WEBHOOK_URL,
        json.dumps(event),
        content_type="application/json",
        HTTP_STRIPE_SIGNATURE=stripe_signature(json.dumps(event)),
    )

    assert response.status_code == 500
    assert not StripeEvent.objects.exists()
    assert CheckoutSession.objects.get().payment_intent_id is None

    monkeypatch.undo()
    accepted(deliver(api, event))
    assert balance(user_id) == 12_000


# ---- refunds ----


def test_a_refund_after_the_credits_were_spent_leaves_a_negative_balance_and_refuses_holds(
    api, session, user_id, builder
):
    deliver(api, completed(user_id))
    hold = place_hold(builder, user_id, 11_000).json()
    settle(builder, hold["hold_id"], "capture", amount=11_000)
    assert totals_of(user_id) == (1_000, 0)

    deliver(api, refunded(1_000))

    assert totals_of(user_id) == (-9_000, 0)
    error = error_of(place_hold(builder, user_id, 1), 402, "insufficient_credits")
    assert error["details"]["available"] == -9_000


def test_a_refund_while_credits_are_held_leaves_the_hold_to_settle(api, session, user_id, builder):
    deliver(api, completed(user_id))
    hold = place_hold(builder, user_id, 11_000).json()

    deliver(api, refunded(1_000))

    assert totals_of(user_id) == (2_000, 11_000)
    error_of(place_hold(builder, user_id, 1), 402, "insufficient_credits")
    assert settle(builder, hold["hold_id"], "capture", amount=3_000).status_code == 200
    assert totals_of(user_id) == (-1_000, 0)


def test_partial_refunds_remove_credits_in_proportion(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, refunded(250))
    assert balance(user_id) == 12_000 - 2_500

    deliver(api, refunded(600))
    assert balance(user_id) == 12_000 - 6_000
    amounts = list(
        LedgerEntry.objects.filter(kind=EntryKind.REFUND).order_by("id").values_list("amount", flat=True)
    )
    assert amounts == [-2_500, -3_500]


def test_refund_events_out_of_order_converge(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, refunded(600))
    deliver(api, refunded(250))

    assert balance(user_id) == 12_000 - 6_000


def test_a_refund_before_the_purchase_completes_is_applied_when_it_does(api, session, user_id):
    deliver(api, refunded(1_000))
    assert balance(user_id) == 2_000

    deliver(api, completed(user_id))

    assert balance(user_id) == 2_000
    assert LedgerEntry.objects.filter(kind=EntryKind.REFUND).get().amount == -10_000


def test_a_refund_of_a_charge_we_do_not_know_is_acknowledged(api, db, stripe_keys):
    accepted(deliver(api, refunded(500, payment_intent="pi_elsewhere")))

    assert not LedgerEntry.objects.exists()


# ---- disputes ----


def test_a_dispute_removes_the_credits_and_a_won_dispute_restores_them(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, dispute("created", "needs_response"))
    assert balance(user_id) == 2_000

    deliver(api, dispute("closed", "won"))
    assert balance(user_id) == 12_000
    kinds = list(LedgerEntry.objects.order_by("id").values_list("kind", "amount"))
    assert kinds[-2:] == [("dispute", -10_000), ("dispute_reversal", 10_000)]


def test_a_lost_dispute_keeps_the_credits_removed(api, session, user_id):
    deliver(api, completed(user_id))
    deliver(api, dispute("created", "needs_response"))

    deliver(api, dispute("closed", "lost"))

    assert balance(user_id) == 2_000


def test_a_partial_dispute_removes_its_share(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, dispute("created", "needs_response", amount=300))

    assert balance(user_id) == 12_000 - 3_000


def test_the_same_dispute_reported_twice_removes_once(api, session, user_id):
    deliver(api, completed(user_id))

    deliver(api, dispute("created", "needs_response"))
    deliver(api, dispute("created", "needs_response"))

    assert balance(user_id) == 2_000


@pytest.mark.parametrize(("status", "final"), [("won", 12_000), ("lost", 2_000)])
def test_a_dispute_closed_before_it_was_reported_open_converges(api, session, user_id, status, final):
    deliver(api, completed(user_id))

    deliver(api, dispute("closed", status))
    deliver(api, dispute("created", "needs_response"))

    assert balance(user_id) == final
