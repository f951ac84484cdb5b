"""Django admin for purchases: what Stripe said is shown, never edited."""

import uuid

import pytest
from django.contrib.auth.models import User
from django.test import Client

from purchases.models import CheckoutSession, Dispute, Payment, StripeEvent


@pytest.fixture
def admin(db):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", "a long admin passphrase"))
    return client


@pytest.fixture
def records(db):
    session = CheckoutSession.objects.create(
        session_id="cs_admin",
        user_id=uuid.uuid4(),
        pack_id="starter",
        credits=10,
        amount_total=1,
        currency="usd",
    )
    payment = Payment.objects.create(payment_intent_id="pi_admin", amount_refunded=0)
    dispute = Dispute.objects.create(dispute_id="dp_admin", payment_intent_id="pi_admin")
    event = StripeEvent.objects.create(event_id="evt_admin", type="charge.refunded")
    return {"checkoutsession": session, "payment": payment, "dispute": dispute, "stripeevent": event}


@pytest.mark.parametrize("model", ["checkoutsession", "payment", "dispute", "stripeevent"])
def test_the_purchase_records_can_be_read_but_not_changed(admin, records, model):
    record = records[model]

    assert admin.get(f"/admin/purchases/{model}/").status_code == 200
    assert admin.get(f"/admin/purchases/{model}/{record.pk}/change/").status_code == 200
    assert admin.get(f"/admin/purchases/{model}/add/").status_code == 403
    assert admin.post(f"/admin/purchases/{model}/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert admin.post(f"/admin/purchases/{model}/{record.pk}/change/", {}).status_code == 403
