"""simplejwt token classes that sign with our keyring, name their key in `kid`, and keep ms in `iat`.

Millisecond `iat` lets a password change revoke every earlier token without also
refusing the fresh pair it hands back in the same second.
"""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import jwt
from django.conf import settings
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from tokens import keys


def epoch_ms(moment: datetime) -> float:
    return math.floor(moment.timestamp() * 1000) / 1000


class KeyringBackend(TokenBackend):
    def __init__(self) -> None:
        config = settings.SIMPLE_JWT
        super().__init__(
            "RS256", audience=config["AUDIENCE"], issuer=config["ISSUER"], leeway=config["LEEWAY"]
        )

    def encode(self, payload: dict) -> str:
        return keys.sign({**payload, "aud": self.audience, "iss": self.issuer})

    def get_verifying_key(self, token) -> object:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise TokenBackendError("Token is invalid") from exc
        key = keys.keyring().verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError("Token is invalid")
        return key


_backend: KeyringBackend | None = None


def backend() -> KeyringBackend:
    global _backend
    if _backend is None:
        _backend = KeyringBackend()
    return _backend


class _KeyringTokenMixin:
    @property
    def token_backend(self) -> KeyringBackend:
        return backend()

    def set_iat(self, claim: str = "iat", at_time: datetime | None = None) -> None:
        self.payload[claim] = epoch_ms(at_time or self.current_time)


class AccessToken(_KeyringTokenMixin, SimpleAccessToken):
    pass


class RefreshToken(_KeyringTokenMixin, SimpleRefreshToken):
    access_token_class = AccessToken


def short_access_token(user_id: str, *, lifetime: int, **claims) -> str:
    """A short-lived access token minted without a user object (API keys, the phantom token)."""
    token = AccessToken()
    token.set_exp(lifetime=timedelta(seconds=lifetime))
    token["sub"] = user_id
    for name, value in claims.items():
        token[name] = value
    return str(token)
