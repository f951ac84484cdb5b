"""simplejwt token classes that sign with our keyring, name their key in `kid`, and keep ms in `iat`.

Millisecond `iat` lets a password change revoke every earlier token without also
refusing the fresh pair it hands back in the same second. Every refresh token, and every
access token minted from one, carries its family in `fam`: the `jti` of the refresh token
its sign-in started with.
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


FAMILY_CLAIM = "fam"


class RefreshToken(_KeyringTokenMixin, SimpleRefreshToken):
    access_token_class = AccessToken

    def __init__(self, token=None, verify: bool = True) -> None:
        super().__init__(token, verify)
        if token is None:
            # A new token starts a family; rotation keeps every other claim, so its heirs stay in it.
            self.payload[FAMILY_CLAIM] = self.payload["jti"]


class PresentedRefreshToken(RefreshToken):
    """A refresh token presented for rotation, checked for everything except an earlier use.

    Whether it was used already is decided under the database's unique insert, where a
    reuse can also revoke its family (tokens.issuance.token_refresh).
    """

    def __init__(self, token: str, verify: bool = True) -> None:
        super().__init__(token, verify)
        # One issued before families existed heads its own, and passes it on when it rotates.
        self.payload.setdefault(FAMILY_CLAIM, self.payload["jti"])

    def check_blacklist(self) -> None:
        pass


def short_access_token(user_id: str, *, lifetime: int, **claims) -> str:
    """A short-lived access token minted without a user object (API keys, the phantom token)."""
    token = AccessToken()
    token.set_exp(lifetime=timedelta(seconds=lifetime))
    token["sub"] = user_id
    for name, value in claims.items():
        token[name] = value
    return str(token)
