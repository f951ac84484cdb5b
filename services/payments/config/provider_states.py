"""Provider states of payments for contract verification (test-only; see oasis_common.provider_states).

Holds are placed through the real domain functions and the internal view itself, on
behalf of the service named in the state (the consumer), so replayed requests find
exactly what a real earlier request would have left.
"""

from __future__ import annotations

import uuid

from django.db import transaction
from rest_framework.test import APIRequestFactory, force_authenticate

from credits import holds
from credits.accounts import account_open
from credits.adjustments import ledger_adjust
from credits.views import HoldCollectionView
from oasis_common.authentication import SERVICE, Principal
from oasis_common.idempotency.models import IdempotencyRecord


def _fresh_keys(service: str) -> None:
    """The consumer's Idempotency-Keys are new to payments, as in a first run against a new database."""
    IdempotencyRecord.objects.filter(principal=f"service:{service}").delete()


def user_with_credits(*, user_id: str, available: int, service: str = "builder") -> dict:
    """The user's account holds exactly `available` credits that new holds may take."""
    _fresh_keys(service)
    with transaction.atomic():
        difference = available - account_open(user_id=user_id).available
        if difference:
            ledger_adjust(
                user_id=user_id,
                amount=difference,
                reason="Provider state",
                actor="contract-tests",
                idempotency_key=f"provider-state:{uuid.uuid4()}",
            )
    return {}


def open_hold(*, user_id: str, amount: int, service: str = "builder") -> dict:
    user_with_credits(user_id=user_id, available=amount, service=service)
    hold = holds.hold_create(user_id=user_id, amount=amount, reason="generation", service=service)
    return {"hold_id": str(hold.pk)}


def released_hold(*, user_id: str, amount: int, service: str = "builder") -> dict:
    hold_id = open_hold(user_id=user_id, amount=amount, service=service)["hold_id"]
    holds.hold_release(hold_id=hold_id, service=service)
    return {"hold_id": hold_id}


def hold_already_requested(*, request: dict, idempotency_key: str, service: str = "builder") -> dict:
    """The same request was already answered once: the repeat must be a replay, not a second hold."""
    user_with_credits(user_id=request["user_id"], available=request["amount"], service=service)
    first = APIRequestFactory().post(
        "/internal/v1/holds", request, format="json", HTTP_IDEMPOTENCY_KEY=idempotency_key
    )
    force_authenticate(first, user=Principal(id=f"service:{service}", token_type=SERVICE))
    response = HoldCollectionView.as_view()(first)
    if response.status_code != 201:
        raise RuntimeError(f"The first hold request was refused: {response.data}")
    return {"hold_id": str(response.data["hold_id"])}


STATES = {
    "a user with credits": user_with_credits,
    "an open hold": open_hold,
    "a hold that was already released": released_hold,
    "a hold request that was already answered": hold_already_requested,
}
