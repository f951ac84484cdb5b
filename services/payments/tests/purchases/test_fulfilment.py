"""Fulfilment converges: whatever order and however often Stripe's events arrive, one final balance."""

import itertools
import uuid

import pytest

from credits.accounts import account_open
from purchases.fulfilment import credits_for
from purchases.models import CheckoutSession
from purchases.webhooks import stripe_event_process
from tests.helpers import charge_object, dispute_object, session_object, stripe_event


def paid_session(user_id, session_id, payment_intent):
    return CheckoutSession(
        session_id=session_id,
        user_id=user_id,
        pack_id="starter",
        credits=10_000,
        amount_total=1_000,
        currency="usd",
        payment_intent_id=payment_intent,
    )


@pytest.mark.parametrize(
    ("money", "credits"),
    [(0, 0), (1, 10), (333, 3_330), (999, 9_990), (1_000, 10_000), (5_000, 10_000), (-5, 0)],
)
def test_credits_follow_the_money_in_proportion(money, credits):
    assert credits_for(paid_session(uuid.uuid4(), "cs", "pi"), money) == credits


def test_a_share_of_an_odd_pack_rounds_down_and_all_of_it_is_all_of_it():
    session = CheckoutSession(credits=1_000, amount_total=300)

    assert credits_for(session, 100) == 333
    assert credits_for(session, 299) == 996
    assert credits_for(session, 300) == 1_000


def story(user_id, tag: str) -> list[dict]:
    """A purchase of 10,000 credits, 70% refunded in two steps, the rest disputed and the dispute won."""
    session_id, payment_intent = f"cs_{tag}", f"pi_{tag}"
    return [
        stripe_event(
            "checkout.session.completed", session_object(session_id, user_id, payment_intent=payment_intent)
        ),
        stripe_event("charge.refunded", charge_object(payment_intent, amount_refunded=400)),
        stripe_event("charge.refunded", charge_object(payment_intent, amount_refunded=700)),
        stripe_event(
            "charge.dispute.created",
            dispute_object(f"dp_{tag}", payment_intent, amount=300, status="needs_response"),
        ),
        stripe_event(
            "charge.dispute.closed", dispute_object(f"dp_{tag}", payment_intent, amount=300, status="won")
        ),
    ]


def test_every_order_of_delivery_ends_in_the_same_balance(db):
    finals = set()
    for index, order in enumerate(itertools.permutations(range(5))):
        user_id = uuid.uuid4()
        events = story(user_id, f"order{index}")
        for position in order:
            stripe_event_process(event=events[position])
        finals.add(account_open(user_id=user_id).balance)

    # The welcome 2,000, plus 10,000 bought, less 7,000 refunded; the won dispute nets to nothing.
    assert finals == {5_000}


def test_every_event_delivered_twice_changes_nothing_more(db):
    user_id = uuid.uuid4()
    events = story(user_id, "twice")

    results = [stripe_event_process(event=event) for event in events + events[::-1]]

    assert results == [True] * 5 + [False] * 5
    assert account_open(user_id=user_id).balance == 5_000


def test_the_same_facts_in_new_events_change_nothing_more(db):
    user_id = uuid.uuid4()
    for _ in range(3):
        for event in story(user_id, "retold"):
            stripe_event_process(event={**event, "id": f"evt_{uuid.uuid4().hex}"})

    assert account_open(user_id=user_id).balance == 5_000


def test_two_disputes_never_take_back_more_than_was_bought(db):
    user_id = uuid.uuid4()
    stripe_event_process(event=story(user_id, "two")[0])

    for dispute_id in ("dp_a", "dp_b"):
        obj = dispute_object(dispute_id, "pi_two", amount=1_000, status="needs_response")
        stripe_event_process(event=stripe_event("charge.dispute.created", obj))

    assert account_open(user_id=user_id).balance == 2_000
