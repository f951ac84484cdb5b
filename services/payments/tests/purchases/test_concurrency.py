"""Stripe delivering at once on real threads: one event once, one session once."""

import uuid

import pytest

from credits.accounts import account_open
from credits.models import EntryKind, LedgerEntry
from purchases.models import CheckoutSession, StripeEvent
from tests.helpers import deliver, run_concurrently, session_object, stripe_event, totals_of
from tests.purchases.test_fulfilment import story

pytestmark = [pytest.mark.concurrency, pytest.mark.usefixtures("transactional_db")]


@pytest.fixture
def session(stripe_keys):
    user_id = uuid.uuid4()
    return CheckoutSession.objects.create(
        session_id="cs_race",
        user_id=user_id,
        pack_id="starter",
        credits=10_000,
        amount_total=1_000,
        currency="usd",
    )


def test_the_same_event_delivered_at_once_grants_once(api, session):
    event = stripe_event("checkout.session.completed", session_object("cs_race", session.user_id))

    results = run_concurrently(8, lambda _: deliver(api.__class__(), event))

    assert sorted(result.status_code for result in results) == [200] * 8
    assert sorted(result.json()["duplicate"] for result in results) == [False] + [True] * 7
    assert StripeEvent.objects.count() == 1
    assert totals_of(session.user_id) == (12_000, 0)


def test_different_events_paying_one_session_at_once_grant_once(api, session):
    obj = session_object("cs_race", session.user_id)

    def pay(index):
        kind = "checkout.session.completed" if index % 2 else "checkout.session.async_payment_succeeded"
        return deliver(api.__class__(), stripe_event(kind, obj))

    results = run_concurrently(8, pay)

    assert {result.status_code for result in results} == {200}
    assert StripeEvent.objects.count() == 8
    assert LedgerEntry.objects.filter(kind=EntryKind.PURCHASE).count() == 1
    assert totals_of(session.user_id) == (12_000, 0)


def test_a_purchases_events_arriving_at_once_converge_without_deadlock(api, stripe_keys):
    users = [uuid.uuid4() for _ in range(3)]
    events = []
    for index, user_id in enumerate(users):
        told = story(user_id, f"race{index}")
        # Each fact twice: the same event again, and the same news in a new event.
        events += told + told + [{**event, "id": f"evt_{uuid.uuid4().hex}"} for event in told]

    results = run_concurrently(len(events), lambda index: deliver(api.__class__(), events[index]))

    assert {result.status_code for result in results} == {200}
    assert [account_open(user_id=user_id).balance for user_id in users] == [5_000] * 3
