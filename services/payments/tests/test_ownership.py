"""Ownership as a rule: every payments endpoint with an object in its URL answers 404 for
anyone else's object before it reads the body, and a refused call changes nothing.

Checkout sessions belong to a user; holds belong to the service that placed them.
"""

import uuid
from dataclasses import dataclass

import pytest
from django.utils import timezone

from credits.holds import hold_create
from credits.models import CreditAccount, Hold, LedgerEntry
from oasis_common.idempotency.models import IdempotencyRecord
from oasis_common.testing import service_token_for, user_token
from purchases.models import CheckoutSession
from tests.conftest import client_for
from tests.helpers import error_of

CHECKOUT = "/api/v1/payments/checkout/{session_id}/"
HOLD = "/internal/v1/holds/{hold_id}"
CAPTURE = "/internal/v1/holds/{hold_id}/capture"
RELEASE = "/internal/v1/holds/{hold_id}/release"


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    body: str | None = None
    idempotency_key: str | None = "a-key"
    # What the owner gets for the same call: proof that the body is judged, after ownership.
    owner_status: int = 200

    @property
    def caller(self) -> str:
        return "service" if self.path.startswith("/internal/") else "user"


CALLS = [
    pytest.param(Call("GET", CHECKOUT), id="read a checkout session"),
    pytest.param(Call("GET", HOLD), id="read a hold"),
    pytest.param(Call("POST", CAPTURE, '{"amount": 1}'), id="capture"),
    pytest.param(Call("POST", CAPTURE, "{}", owner_status=400), id="capture without an amount"),
    pytest.param(Call("POST", CAPTURE, '{"amount": "all"}', owner_status=400), id="capture a word"),
    pytest.param(Call("POST", CAPTURE, '{"amount": -1}', owner_status=400), id="capture less than nothing"),
    pytest.param(Call("POST", CAPTURE, '{"amount": 501}', owner_status=422), id="capture more than held"),
    pytest.param(Call("POST", CAPTURE, "[1, 2]", owner_status=400), id="capture a list"),
    pytest.param(Call("POST", CAPTURE, '{"amount": ', owner_status=400), id="capture broken JSON"),
    pytest.param(
        Call("POST", CAPTURE, '{"amount": 1}', idempotency_key=None, owner_status=400),
        id="capture without an Idempotency-Key",
    ),
    pytest.param(
        Call("POST", CAPTURE, '{"amount": 1}', idempotency_key="k" * 300, owner_status=400),
        id="capture with an overlong Idempotency-Key",
    ),
    pytest.param(Call("POST", RELEASE), id="release"),
    pytest.param(Call("POST", RELEASE, "not json", owner_status=400), id="release broken JSON"),
    pytest.param(Call("POST", RELEASE, idempotency_key=None, owner_status=400), id="release without a key"),
]


@pytest.fixture
def parties(db) -> dict:
    """Two users, each with a checkout session, and two services, each with a hold."""
    parties = {}
    for name, service in (("first", "builder"), ("second", "projects")):
        user_id = uuid.uuid4()
        session = CheckoutSession.objects.create(
            session_id=f"cs_test_{name}",
            user_id=user_id,
            pack_id="starter",
            credits=10_000,
            amount_total=1_000,
            currency="usd",
            url=f"https://checkout.stripe.com/c/pay/cs_test_{name}",
            expires_at=timezone.now(),
        )
        hold = hold_create(user_id=user_id, amount=500, reason="generation", service=service)
        parties[name] = {
            "user": client_for(user_token(user_id)),
            "service": client_for(service_token_for(service, "payments")),
            "objects": {"session_id": session.session_id, "hold_id": hold.pk},
        }
    return parties


def send(client, call: Call, objects: dict):
    headers = {"HTTP_IDEMPOTENCY_KEY": call.idempotency_key} if call.idempotency_key else {}
    return client.generic(
        call.method,
        call.path.format(**objects),
        call.body or "",
        content_type="application/json",
        **headers,
    )


def state() -> list:
    """Every row a payments call could write."""
    return [
        list(CheckoutSession.objects.order_by("pk").values()),
        list(Hold.objects.order_by("pk").values()),
        list(CreditAccount.objects.order_by("pk").values()),
        list(LedgerEntry.objects.order_by("pk").values_list("pk", flat=True)),
        list(IdempotencyRecord.objects.order_by("pk").values()),
    ]


@pytest.mark.parametrize("call", CALLS)
@pytest.mark.parametrize(("asker", "owner"), [("first", "second"), ("second", "first")])
def test_another_owners_object_is_not_found_whatever_the_body(parties, call, asker, owner):
    before = state()

    response = send(parties[asker][call.caller], call, parties[owner]["objects"])

    error_of(response, 404, "not_found")
    assert state() == before


@pytest.mark.parametrize("call", CALLS)
def test_an_object_that_does_not_exist_is_not_found_whatever_the_body(parties, call):
    before = state()
    nobody = {"session_id": "cs_test_nobody", "hold_id": uuid.uuid4()}

    error_of(send(parties["first"][call.caller], call, nobody), 404, "not_found")
    assert state() == before


@pytest.mark.parametrize("call", CALLS)
def test_the_owner_is_answered_on_the_merits_of_the_call(parties, call):
    response = send(parties["first"][call.caller], call, parties["first"]["objects"])

    assert response.status_code == call.owner_status, response.content
