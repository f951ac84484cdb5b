"""Access and refresh tokens, the pair a sign-in holds: simplejwt classes signing with our keyring.

They name their signing key in `kid`. An access token's audience is the API's
(`JWT_AUDIENCE`); a refresh token's is one only auth accepts (`JWT_REFRESH_AUDIENCE`), so a
service that checks the audience, as every verifier must, cannot take a refresh token for a
credential even if it forgets `token_type`. `iat`, `nbf` and `exp` are whole seconds, as RFC
7519 verifiers expect. Every refresh token, and every access token minted from one, carries
its family in `fam`: the `jti` of the refresh token its sign-in started with.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import jwt
from django.conf import settings
from django.core.signals import setting_changed
from rest_framework_simplejwt.backends import TokenBackend
from rest_framework_simplejwt.exceptions import TokenBackendError
from rest_framework_simplejwt.tokens import AccessToken as SimpleAccessToken
from rest_framework_simplejwt.tokens import RefreshToken as SimpleRefreshToken

from tokens import keys


def epoch_seconds(moment: datetime) -> int:
    return int(moment.timestamp())


class KeyringBackend(TokenBackend):
    """Signs for `audience`; accepts tokens for any of `accepted` (by default `audience` alone)."""

    def __init__(self, audience: str, accepted: tuple[str, ...] = ()) -> None:
        config = settings.SIMPLE_JWT
        super().__init__(
            "RS256", audience=list(accepted or (audience,)), issuer=config["ISSUER"], leeway=config["LEEWAY"]
        )
        self.issued_audience = audience

    def encode(self, payload: dict) -> str:
        return keys.sign({**payload, "aud": self.issued_audience, "iss": self.issuer})

    def get_verifying_key(self, token) -> object:
        try:
            kid = jwt.get_unverified_header(token).get("kid")
        except jwt.PyJWTError as exc:
            raise TokenBackendError("Token is invalid") from exc
        key = keys.keyring().verifying_key(kid) if isinstance(kid, str) else None
        if key is None:
            raise TokenBackendError("Token is invalid")
        return key


_backends: dict[str, KeyringBackend] = {}


def backend(token_type: str) -> KeyringBackend:
    """The backend of access or refresh tokens."""
    if not _backends:
        api, refresh = settings.OASIS["JWT_AUDIENCE"], settings.OASIS["JWT_REFRESH_AUDIENCE"]
        # Refresh tokens issued before they had an audience of their own carry the API's; they
        # are still rotated (into the refresh audience) until the last of them expires, and
        # `token_type` keeps them from ever passing for access tokens.
        _backends.update(access=KeyringBackend(api), refresh=KeyringBackend(refresh, accepted=(refresh, api)))
    return _backends[token_type]


def _forget_backends(*, setting, **kwargs) -> None:
    if setting in {"OASIS", "SIMPLE_JWT"}:
        _backends.clear()


setting_changed.connect(_forget_backends)


class _KeyringTokenMixin:
    @property
    def token_backend(self) -> KeyringBackend:
        return backend(self.token_type)

    def set_iat(self, claim: str = "iat", at_time: datetime | None = None) -> None:
        # Valid from the moment it is issued: `nbf` spells out for other verifiers what `iat` implies.
        self.payload[claim] = self.payload["nbf"] = epoch_seconds(at_time or self.current_time)


class AccessToken(_KeyringTokenMixin, SimpleAccessToken):
    pass


FAMILY_CLAIM = "fam"


class RefreshToken(_KeyringTokenMixin, SimpleRefreshToken):
    access_token_class = AccessToken
    # An access token is issued now: its own `iat` (never copied) and so its own `nbf`, not the
    # refresh token's, which may be a second older.
    no_copy_claims = (*SimpleRefreshToken.no_copy_claims, "nbf")

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
