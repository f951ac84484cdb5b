"""Provider states of auth for contract verification (test-only; see oasis_common.provider_states)."""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings

from accounts.users import user_register
from apikeys import scopes
from apikeys.keys import apikey_create
from oasis_common.errors import NotFound
from tokens.issuance import token_pair


def _user():
    return user_register(email=f"contract-{uuid.uuid4().hex}@example.com", password=secrets.token_urlsafe(24))


def signed_in_user() -> dict:
    user = _user()
    return {"user_id": str(user.pk), "access": token_pair(user=user)["access"]}


def user_with_api_key(*, scope: str = scopes.FULL) -> dict:
    user = _user()
    key = apikey_create(user_id=user.pk, name="contract", scope=scope)
    return {"user_id": str(user.pk), "api_key": key.secret}


def user_with_read_only_api_key() -> dict:
    return user_with_api_key(scope=scopes.READ)


def registered_service_client(*, client_id: str) -> dict:
    if client_id not in settings.OASIS["SERVICE_CLIENTS"]:
        raise NotFound(f"{client_id} is not a service client here; see OASIS_SERVICE_CLIENTS.")
    return {}


STATES = {
    "a signed-in user": signed_in_user,
    "a user with an API key": user_with_api_key,
    "a user with a read-only API key": user_with_read_only_api_key,
    "a registered service client": registered_service_client,
}
