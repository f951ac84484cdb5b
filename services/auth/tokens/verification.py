"""The gateway's question on every API request: who is this, and which JWT goes upstream?

For a JWT the hot path is a signature check plus one cache lookup for revocation.
For an API key it checks the key's scope against the request the gateway is about to
pass on (its method and URI), then answers with a freshly minted short JWT (the phantom
token) carrying that scope, so services only ever see JWTs.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import AuthenticationFailed

from apikeys import keys as api_keys
from apikeys import scopes
from oasis_common.authentication import ACCESS, decode_token
from oasis_common.errors import ServiceError
from tokens import revocation
from tokens.pairs import short_access_token


class NotAuthenticated(ServiceError):
    """No credential, or one that does not check out: the gateway answers the client 401."""

    status_code = status.HTTP_401_UNAUTHORIZED
    code = "not_authenticated"
    message = "A valid access token or API key is needed."


@dataclass(frozen=True)
class Caller:
    user_id: str
    access_token: str


def caller_verify(authorization: str, *, method: str, uri: str) -> Caller | None:
    """The caller, or None when not authenticated; raises InsufficientScope for a key used beyond it."""
    scheme, _, credential = authorization.partition(" ")
    credential = credential.strip()
    if scheme.lower() != "bearer" or not credential or " " in credential:
        return None
    if api_keys.looks_like_key(credential):
        return _verify_api_key(credential, method=method, uri=uri)
    return _verify_jwt(credential)


def _verify_jwt(raw: str) -> Caller | None:
    try:
        claims = decode_token(raw, audience=settings.OASIS["JWT_AUDIENCE"], token_type=ACCESS)
    except AuthenticationFailed:
        return None
    if not _is_user_id(claims["sub"]):
        return None
    if revocation.is_revoked(claims):
        return None
    return Caller(user_id=str(claims["sub"]), access_token=raw)


def _is_user_id(subject: str) -> bool:
    """Whether `sub` names a user (a UUID), as every service's user authentication requires."""
    try:
        uuid.UUID(subject)
    except (TypeError, ValueError, AttributeError):
        return False
    return True


def _verify_api_key(raw: str, *, method: str, uri: str) -> Caller | None:
    owner = api_keys.apikey_owner(raw)
    if owner is None:
        return None
    if revocation.user_cutoff(owner.user_id) == revocation.DISABLED:
        return None
    scopes.scope_check(scope=owner.scope, method=method, uri=uri)
    token = short_access_token(
        owner.user_id,
        lifetime=settings.OASIS["API_KEY_TOKEN_LIFETIME"],
        api_key_id=owner.key_id,
        scope=owner.scope,
    )
    return Caller(user_id=owner.user_id, access_token=token)
