"""The internal hold API: reserve, capture (the rest released), release, expire; each exactly once."""

import uuid
from datetime import timedelta

import pytest
from django.utils import timezone

from credits.adjustments import ledger_adjust
from credits.holds import hold_create, holds_release_expired
from credits.models import EntryKind, Hold, HoldStatus, LedgerEntry
from oasis_common.testing import service_token_for, user_token
from tests.conftest import client_for
from tests.helpers import HOLDS_URL, error_of, place_hold, settle, totals_of


@pytest.fixture
def projects(db):
    """Another service: it may hold credits too, but cannot settle the builder's holds."""
    return client_for(service_token_for("projects", "payments"))


@pytest.fixture
def hold(builder, user_id):
    response = place_hold(builder, user_id, 500, generation_id="gen-1")
    assert response.status_code == 201, response.content
    return response.json()


def kinds_of(hold_id) -> list[tuple[str, int, int]]:
    return [
        (entry.kind, entry.amount, entry.held_change)
        for entry in LedgerEntry.objects.filter(hold_id=hold_id).order_by("id")
    ]


def test_a_hold_reserves_credits(builder, user_id):
    response = place_hold(builder, user_id, 500, generation_id="gen-1", reason="build: landing page")

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["amount"] == 500
    assert body["status"] == "open"
    assert body["user_id"] == user_id
    assert body["generation_id"] == "gen-1"
    assert body["reason"] == "build: landing page"
    hold = Hold.objects.get(pk=body["hold_id"])
    assert hold.service == "builder"
    assert body["expires_at"] == hold.expires_at.isoformat().replace("+00:00", "Z")
    assert totals_of(user_id) == (2000, 500)


def test_a_hold_lasts_the_configured_time(builder, user_id, settings):
    settings.PAYMENTS = {**settings.PAYMENTS, "HOLD_TTL_SECONDS": 120}

    hold = Hold.objects.get(pk=place_hold(builder, user_id, 5).json()["hold_id"])

    assert hold.expires_at - hold.created_at == timedelta(seconds=120)


def test_a_hold_may_ask_for_its_own_lifetime(builder, user_id):
    hold = Hold.objects.get(pk=place_hold(builder, user_id, 5, ttl_seconds=7200).json()["hold_id"])

    assert hold.expires_at - hold.created_at == timedelta(seconds=7200)


def test_a_hold_may_take_exactly_what_is_available(builder, user_id):
    assert place_hold(builder, user_id, 2000).status_code == 201
    assert totals_of(user_id) == (2000, 2000)


def test_a_hold_beyond_what_is_available_is_refused_with_the_available_amount(builder, user_id):
    place_hold(builder, user_id, 1500)

    error = error_of(place_hold(builder, user_id, 501), 402, "insufficient_credits")

    assert error["details"] == {"available": 500, "requested": 501}
    assert totals_of(user_id) == (2000, 1500)
    assert Hold.objects.count() == 1


def test_holds_are_refused_while_the_balance_is_below_zero(builder, user_id):
    ledger_adjust(user_id=user_id, amount=-2100, reason="refund", actor="staff:test", idempotency_key="a")

    error = error_of(place_hold(builder, user_id, 1), 402, "insufficient_credits")

    assert error["details"] == {"available": -100, "requested": 1}


def test_the_first_hold_of_a_new_user_opens_their_account(builder):
    user_id = str(uuid.uuid4())

    assert place_hold(builder, user_id, 100).status_code == 201
    assert totals_of(user_id) == (2000, 100)


def test_a_hold_needs_an_idempotency_key(builder, user_id):
    response = builder.post(HOLDS_URL, {"user_id": user_id, "amount": 5, "reason": "x"}, format="json")

    error_of(response, 400, "idempotency_key_required")
    assert not Hold.objects.exists()


def test_the_same_key_and_body_return_the_first_hold(builder, user_id):
    first = place_hold(builder, user_id, 500, key="gen-1:hold")

    again = place_hold(builder, user_id, 500, key="gen-1:hold")

    assert again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Hold.objects.count() == 1
    assert totals_of(user_id) == (2000, 500)


def test_the_same_key_with_another_body_is_refused(builder, user_id):
    place_hold(builder, user_id, 500, key="gen-1:hold")

    error_of(place_hold(builder, user_id, 600, key="gen-1:hold"), 422, "idempotency_key_reused")
    assert totals_of(user_id) == (2000, 500)


def test_a_refused_hold_is_replayed_as_refused(builder, user_id):
    error_of(place_hold(builder, user_id, 5000, key="k"), 402, "insufficient_credits")
    ledger_adjust(user_id=user_id, amount=5000, reason="bonus", actor="staff:test", idempotency_key="a")

    error_of(place_hold(builder, user_id, 5000, key="k"), 402, "insufficient_credits")


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"amount": 0}, "amount"),
        ({"amount": -5}, "amount"),
        ({"amount": "lots"}, "amount"),
        ({"amount": 10**13}, "amount"),
        ({"amount": None}, "amount"),
        ({"user_id": "not-a-uuid"}, "user_id"),
        ({"user_id": None}, "user_id"),
        ({"reason": ""}, "reason"),
        ({"reason": "x" * 201}, "reason"),
        ({"generation_id": "g" * 65}, "generation_id"),
        ({"ttl_seconds": 0}, "ttl_seconds"),
        ({"ttl_seconds": 86401}, "ttl_seconds"),
    ],
)
def test_a_malformed_hold_is_refused_and_changes_nothing(builder, user_id, body, field):
    full = {"user_id": user_id, "amount": 5, "reason": "build", **body}

    response = builder.post(HOLDS_URL, full, format="json", HTTP_IDEMPOTENCY_KEY="k")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {field}
    assert not Hold.objects.exists()


@pytest.mark.parametrize(
    "token",
    [None, user_token(uuid.uuid4()), service_token_for("builder", "projects"), "garbage"],
    ids=["none", "user-token", "token-for-another-service", "garbage"],
)
def test_the_internal_api_needs_a_service_token_addressed_to_payments(api, db, user_id, token):
    if token:
        api.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")

    error_of(place_hold(api, user_id, 5), 401)
    error_of(api.get(f"/internal/v1/accounts/{user_id}/balance"), 401)
    assert not Hold.objects.exists()


def test_a_capture_charges_what_was_used_and_releases_the_rest(builder, user_id, hold):
    response = settle(builder, hold["hold_id"], "capture", amount=320)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["captured_amount"], body["released_amount"]) == ("captured", 320, 180)
    assert body["closed_at"]
    assert totals_of(user_id) == (1680, 0)
    assert kinds_of(hold["hold_id"]) == [("hold", 0, 500), ("capture", -320, -320), ("release", 0, -180)]


def test_capturing_all_of_a_hold_releases_nothing(builder, user_id, hold):
    settle(builder, hold["hold_id"], "capture", amount=500)

    assert totals_of(user_id) == (1500, 0)
    assert kinds_of(hold["hold_id"]) == [("hold", 0, 500), ("capture", -500, -500)]


def test_capturing_nothing_releases_everything(builder, user_id, hold):
    body = settle(builder, hold["hold_id"], "capture", amount=0).json()

    assert (body["status"], body["captured_amount"], body["released_amount"]) == ("captured", 0, 500)
    assert totals_of(user_id) == (2000, 0)
    assert kinds_of(hold["hold_id"]) == [("hold", 0, 500), ("release", 0, -500)]


def test_a_capture_beyond_the_hold_is_refused(builder, user_id, hold):
    error = error_of(settle(builder, hold["hold_id"], "capture", amount=501), 422, "capture_exceeds_hold")

    assert error["details"] == {"held": 500, "requested": 501}
    assert Hold.objects.get(pk=hold["hold_id"]).status == HoldStatus.OPEN
    assert totals_of(user_id) == (2000, 500)


@pytest.mark.parametrize("body", [{}, {"amount": -1}, {"amount": "all"}, {"amount": 1.5}])
def test_a_malformed_capture_is_refused(builder, hold, body):
    error_of(settle(builder, hold["hold_id"], "capture", **body), 400, "validation_error")

    assert Hold.objects.get(pk=hold["hold_id"]).status == HoldStatus.OPEN


def test_a_hold_is_captured_once(builder, user_id, hold):
    settle(builder, hold["hold_id"], "capture", amount=100)

    error = error_of(settle(builder, hold["hold_id"], "capture", amount=100), 409, "hold_not_open")

    assert error["details"] == {"status": "captured"}
    assert totals_of(user_id) == (1900, 0)


def test_a_repeated_capture_with_its_key_replays_the_first_answer(builder, user_id, hold):
    first = settle(builder, hold["hold_id"], "capture", key="gen-1:capture", amount=100)

    again = settle(builder, hold["hold_id"], "capture", key="gen-1:capture", amount=100)

    assert again.status_code == 200
    assert again.json() == first.json()
    assert totals_of(user_id) == (1900, 0)


def test_a_release_gives_every_held_credit_back(builder, user_id, hold):
    response = settle(builder, hold["hold_id"], "release")

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["captured_amount"], body["released_amount"]) == ("released", None, 500)
    assert totals_of(user_id) == (2000, 0)
    assert kinds_of(hold["hold_id"]) == [("hold", 0, 500), ("release", 0, -500)]


@pytest.mark.parametrize(
    ("first", "then"), [("release", "release"), ("release", "capture"), ("capture", "release")]
)
def test_a_settled_hold_cannot_be_settled_again(builder, user_id, hold, first, then):
    settle(builder, hold["hold_id"], first, amount=100)
    balance = totals_of(user_id)

    error_of(settle(builder, hold["hold_id"], then, amount=100), 409, "hold_not_open")
    assert totals_of(user_id) == balance


def test_an_expired_hold_cannot_be_captured(builder, user_id, hold):
    Hold.objects.filter(pk=hold["hold_id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    error_of(settle(builder, hold["hold_id"], "capture", amount=100), 409, "hold_expired")
    assert totals_of(user_id) == (2000, 500)


def test_an_expired_hold_can_still_be_released(builder, user_id, hold):
    Hold.objects.filter(pk=hold["hold_id"]).update(expires_at=timezone.now() - timedelta(seconds=1))

    assert settle(builder, hold["hold_id"], "release").status_code == 200
    assert totals_of(user_id) == (2000, 0)


@pytest.mark.parametrize("action", ["capture", "release"])
def test_another_services_hold_does_not_exist_for_it(projects, user_id, hold, action):
    error_of(settle(projects, hold["hold_id"], action, amount=1), 404, "not_found")
    error_of(projects.get(f"{HOLDS_URL}/{hold['hold_id']}"), 404, "not_found")

    assert Hold.objects.get(pk=hold["hold_id"]).status == HoldStatus.OPEN


@pytest.mark.parametrize("action", ["capture", "release"])
def test_an_unknown_hold_is_not_found(builder, action):
    error_of(settle(builder, uuid.uuid4(), action, amount=1), 404, "not_found")
    error_of(settle(builder, "not-a-uuid", action, amount=1), 404, "not_found")


def test_a_hold_can_be_read_back(builder, hold):
    response = builder.get(f"{HOLDS_URL}/{hold['hold_id']}")

    assert response.status_code == 200
    assert response.json() == hold


def test_a_service_reads_any_users_balance(builder, user_id, hold):
    response = builder.get(f"/internal/v1/accounts/{user_id}/balance")

    assert response.status_code == 200
    assert response.json() == {"user_id": user_id, "balance": 2000, "held": 500, "available": 1500}


def test_reading_a_new_users_balance_opens_their_account(builder):
    user_id = str(uuid.uuid4())

    assert builder.get(f"/internal/v1/accounts/{user_id}/balance").json()["balance"] == 2000
    assert LedgerEntry.objects.filter(account__user_id=user_id, kind=EntryKind.GRANT).count() == 1


def test_a_malformed_user_id_is_not_found(builder):
    error_of(builder.get("/internal/v1/accounts/nobody/balance"), 404, "not_found")


def test_expired_holds_are_released_by_the_sweeper(db, user_id):
    now = timezone.now()
    due = hold_create(user_id=user_id, amount=300, reason="a", service="builder", ttl_seconds=60)
    later = hold_create(user_id=user_id, amount=200, reason="b", service="builder", ttl_seconds=600)

    released = holds_release_expired(now=now + timedelta(seconds=61))

    assert released == 1
    due.refresh_from_db()
    later.refresh_from_db()
    assert (due.status, later.status) == (HoldStatus.EXPIRED, HoldStatus.OPEN)
    assert due.closed_at is not None
    assert totals_of(user_id) == (2000, 200)
    assert kinds_of(due.pk) == [("hold", 0, 300), ("release", 0, -300)]


def test_the_sweeper_leaves_settled_holds_alone(builder, user_id, hold):
    settle(builder, hold["hold_id"], "capture", amount=100)

    assert holds_release_expired(now=timezone.now() + timedelta(days=2)) == 0
    assert totals_of(user_id) == (1900, 0)


def test_the_sweeper_works_through_many_holds_in_batches(db, user_id):
    for _ in range(7):
        hold_create(user_id=user_id, amount=10, reason="a", service="builder", ttl_seconds=1)

    assert holds_release_expired(now=timezone.now() + timedelta(seconds=5), batch_size=3) == 7
    assert totals_of(user_id) == (2000, 0)


def test_a_hold_on_an_open_account_takes_a_fixed_number_of_queries(
    builder, user_id, django_assert_num_queries
):
    place_hold(builder, user_id, 5, generation_id="gen-0")  # the account is open from here

    # The idempotency record (claimed in one statement, then given the answer); the account locked
    # in one query; the hold; the ledger entry (its key looked up, the account's totals, the entry).
    # Transactions are savepoints in a test; the hold's own is a part of the view's, with no
    # savepoint of its own.
    with django_assert_num_queries(11):
        response = place_hold(builder, user_id, 5, generation_id="gen-1")

    assert response.status_code == 201


@pytest.mark.parametrize(("action", "body", "queries"), [("capture", {"amount": 3}, 17), ("release", {}, 14)])
def test_settling_a_hold_takes_a_fixed_number_of_queries_with_no_savepoint_of_its_own(
    builder, user_id, django_assert_num_queries, action, body, queries
):
    hold_id = place_hold(builder, user_id, 5, generation_id="gen-0").json()["hold_id"]

    with django_assert_num_queries(queries) as captured:
        response = settle(builder, hold_id, action, **body)

    assert response.status_code == 200
    # The idempotent wrapper's transaction (a savepoint in a test) and its view's; neither the
    # idempotency record nor the settling adds one.
    savepoints = [query["sql"] for query in captured.captured_queries if query["sql"].startswith("SAVEPOINT")]
    assert len(savepoints) == 2
