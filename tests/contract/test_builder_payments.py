"""builder → payments: holds placed, refused, repeated, captured and released by the builder's real code."""

from __future__ import annotations

import pytest
from django.conf import settings
from pact import match

from generations import peers
from oasis_common import client
from tests.contract import examples, matchers
from tests.contract.consumers import peers_at

JSON = "application/json"
CEILING = 1200


@pytest.fixture(autouse=True)
def _service_token(monkeypatch):
    """The token from auth is another contract (test_services_auth); here it is an example."""
    monkeypatch.setattr(client, "service_token", lambda audience: examples.SERVICE_TOKEN)


def hold_request(generation_id: str) -> dict:
    """What the builder sends for a generation's ceiling; the hold outlives the longest run."""
    return {
        "user_id": examples.USER_ID,
        "amount": CEILING,
        "reason": "generation",
        "generation_id": generation_id,
        "ttl_seconds": int(settings.OASIS["MAX_WALL_SECONDS"]) + 15 * 60,
    }


def hold_body(**fields) -> dict:
    return {"hold_id": matchers.uuid(examples.HOLD_ID), "amount": match.int(CEILING), **fields}


def place_hold(pacts, pact, generation_id: str) -> peers.Hold:
    with pacts.serving(pact) as url, peers_at(payments=url):
        return peers.hold_create(user_id=examples.USER_ID, amount=CEILING, generation_id=generation_id)


def test_the_builder_holds_a_generations_ceiling(pacts):
    generation = examples.GENERATIONS["hold"]
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a hold for a generation's ceiling")
        .given("a user with credits", {"user_id": examples.USER_ID, "available": 5000})
        .with_request("POST", "/internal/v1/holds")
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"hold:{generation}")
        .with_body({**hold_request(generation), "ttl_seconds": match.int(1500)}, content_type=JSON)
        .will_respond_with(201)
        .with_body(hold_body(status="open"), content_type=JSON)
    )
    hold = place_hold(pacts, pact, generation)

    assert hold == peers.Hold(id=examples.HOLD_ID, amount=CEILING)


def test_too_few_credits_refuse_the_hold_with_what_is_available(pacts):
    generation = examples.GENERATIONS["insufficient"]
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a hold for more credits than the user has")
        .given("a user with credits", {"user_id": examples.USER_ID, "available": 100})
        .with_request("POST", "/internal/v1/holds")
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"hold:{generation}")
        .with_body({**hold_request(generation), "ttl_seconds": match.int(1500)}, content_type=JSON)
        .will_respond_with(402)
        .with_body(matchers.error("insufficient_credits", {"available": match.int(100)}), content_type=JSON)
    )
    with pytest.raises(peers.InsufficientCredits) as refused:
        place_hold(pacts, pact, generation)

    assert refused.value.details == {"available": 100, "required": CEILING}


def test_a_repeated_hold_request_returns_the_first_hold(pacts):
    generation = examples.GENERATIONS["repeat"]
    request = hold_request(generation)
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a hold request repeated with the same Idempotency-Key")
        .given(
            "a hold request that was already answered",
            {"request": request, "idempotency_key": f"hold:{generation}"},
        )
        .with_request("POST", "/internal/v1/holds")
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"hold:{generation}")
        .with_body(request, content_type=JSON)
        .will_respond_with(201)
        .with_body(hold_body(status="open"), content_type=JSON)
    )
    hold = place_hold(pacts, pact, generation)

    assert hold == peers.Hold(id=examples.HOLD_ID, amount=CEILING)


def settle(pacts, pact, action):
    with pacts.serving(pact) as url, peers_at(payments=url):
        return action()


def test_the_builder_captures_what_a_generation_cost(pacts):
    generation = examples.GENERATIONS["capture"]
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a capture of what a generation cost")
        .given("an open hold", {"user_id": examples.USER_ID, "amount": CEILING})
        .with_request("POST", matchers.hold_path("/capture"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"capture:{generation}")
        .with_body({"amount": 700}, content_type=JSON)
        .will_respond_with(200)
        .with_body(hold_body(status="captured", captured_amount=match.int(700)), content_type=JSON)
    )
    captured = settle(
        pacts,
        pact,
        lambda: peers.hold_capture(hold_id=examples.HOLD_ID, amount=700, generation_id=generation),
    )

    assert captured is True


def test_the_builder_releases_a_hold_it_does_not_charge(pacts):
    generation = examples.GENERATIONS["release"]
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a release of a hold that is not charged")
        .given("an open hold", {"user_id": examples.USER_ID, "amount": CEILING})
        .with_request("POST", matchers.hold_path("/release"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"release:{generation}")
        .with_body({}, content_type=JSON)
        .will_respond_with(200)
        .with_body(hold_body(status="released"), content_type=JSON)
    )
    released = settle(
        pacts, pact, lambda: peers.hold_release(hold_id=examples.HOLD_ID, generation_id=generation)
    )

    assert released is True


def test_a_hold_that_already_ended_is_settled_without_a_charge(pacts):
    generation = examples.GENERATIONS["ended"]
    pact = pacts.new("builder", "payments")
    (
        pact.upon_receiving("a capture of a hold that already ended")
        .given("a hold that was already released", {"user_id": examples.USER_ID, "amount": CEILING})
        .with_request("POST", matchers.hold_path("/capture"))
        .with_header("Authorization", matchers.service_token())
        .with_header("Idempotency-Key", f"capture:{generation}")
        .with_body({"amount": 700}, content_type=JSON)
        .will_respond_with(409)
        .with_body(matchers.error("hold_not_open"), content_type=JSON)
    )
    captured = settle(
        pacts,
        pact,
        lambda: peers.hold_capture(hold_id=examples.HOLD_ID, amount=700, generation_id=generation),
    )

    assert captured is False
