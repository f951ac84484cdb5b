"""Issuing tokens: sign-in, refresh rotation, logout, and service tokens for peers."""

from __future__ import annotations

import hmac
import time
import uuid

from django.conf import settings
from django.db import transaction
from rest_framework import status
from rest_framework_simplejwt.exceptions import TokenError
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken
from rest_framework_simplejwt.utils import datetime_from_epoch

from accounts import lockout, users
from accounts.models import User
from oasis_common.errors import ServiceError
from tokens import families, keys, revocation
from tokens.pairs import FAMILY_CLAIM, PresentedRefreshToken, RefreshToken


class InvalidCredentials(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_credentials"
    message = "The email or password is not correct."


class InvalidRefreshToken(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_token"
    message = "The refresh token is invalid or expired."


class RefreshTokenReused(InvalidRefreshToken):
    code = "token_reused"
    message = "This refresh token was already used or revoked. Sign in again."


class RefreshTokenRevoked(InvalidRefreshToken):
    code = "token_revoked"
    message = "This sign-in was ended because one of its refresh tokens was used twice. Sign in again."


def token_pair(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)
    return _pair_body(refresh)


def _pair_body(refresh: RefreshToken) -> dict:
    return {
        "access": str(refresh.access_token),
        "refresh": str(refresh),
        "token_type": "Bearer",
        "expires_in": int(settings.SIMPLE_JWT["ACCESS_TOKEN_LIFETIME"].total_seconds()),
    }


def login(*, email: str, password: str, ip: str) -> dict:
    lockout.lockout_check(email=email, ip=ip)
    user = users.user_authenticate(email=email, password=password)
    if user is None:
        lockout.failure_record(email=email, ip=ip)
        raise InvalidCredentials()
    lockout.failures_clear(email=email)
    return token_pair(user=user)


def _presented_refresh_token(raw: str) -> PresentedRefreshToken:
    try:
        refresh = PresentedRefreshToken(raw)
        uuid.UUID(str(refresh[FAMILY_CLAIM]))
    except (TokenError, ValueError) as exc:
        raise InvalidRefreshToken() from exc
    return refresh


def token_refresh(*, raw: str) -> dict:
    """Rotate: the used refresh token is blacklisted and a new pair issued.

    Reusing a rotated token means two parties hold one sign-in's tokens, and which of them
    is the thief cannot be told: the whole family is revoked, the reuse refused, and the
    revocation committed all the same. Blacklisting is a unique insert (under the user's
    row lock), so of two concurrent uses of one token only one gets a new pair; the other
    is a reuse.
    """
    refresh = _presented_refresh_token(raw)
    with transaction.atomic():
        pair = _rotate(refresh, raw)
    if pair is None:
        raise RefreshTokenReused()
    return pair


def _rotate(refresh: PresentedRefreshToken, raw: str) -> dict | None:
    """The new pair, or None when the token was used before (its family is then revoked)."""
    # The cutoff is read from the locked row, not the cache: a password change racing this
    # refresh either lands first (and refuses it) or waits for this pair to be issued first.
    user = User.objects.select_for_update().filter(pk=refresh["sub"], is_active=True).first()
    if user is None:
        raise InvalidRefreshToken()
    if user.tokens_valid_after and float(refresh["iat"]) < user.tokens_valid_after.timestamp():
        raise InvalidRefreshToken()
    family_id = uuid.UUID(str(refresh[FAMILY_CLAIM]))
    used, _ = OutstandingToken.objects.get_or_create(
        jti=refresh["jti"],
        defaults={
            "user": user,
            "token": raw,
            "created_at": refresh.current_time,
            "expires_at": datetime_from_epoch(refresh["exp"]),
        },
    )
    _, created = BlacklistedToken.objects.get_or_create(token=used)
    if not created:
        families.family_revoke(family_id=family_id, user=user, member=used)
        return None
    if families.family_is_revoked(family_id=family_id):
        raise RefreshTokenRevoked()
    refresh.set_jti()
    refresh.set_exp()
    refresh.set_iat()
    pair = _pair_body(refresh)
    newest = OutstandingToken.objects.create(
        user=user,
        jti=refresh["jti"],
        token=pair["refresh"],
        created_at=refresh.current_time,
        expires_at=datetime_from_epoch(refresh["exp"]),
    )
    families.family_advance(family_id=family_id, user=user, newest=newest)
    return pair


def logout(*, access_claims: dict, raw_refresh: str | None) -> None:
    """Blacklist the refresh token (if it is the caller's) and revoke the access token's `jti`."""
    revocation.jti_revoke(jti=str(access_claims["jti"]), expires_at=float(access_claims["exp"]))
    if not raw_refresh:
        return
    try:
        refresh = RefreshToken(raw_refresh)
    except TokenError:
        return  # already expired or blacklisted: nothing left to revoke
    if refresh.get("sub") == access_claims["sub"]:
        refresh.blacklist()


class InvalidClient(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_client"
    message = "The client id or secret is not correct."


def service_token_issue(*, client_id: str, client_secret: str, audience: str) -> dict:
    oasis = settings.OASIS
    expected = oasis["SERVICE_CLIENTS"].get(client_id, "")
    if not expected or not hmac.compare_digest(expected.encode(), client_secret.encode()):
        raise InvalidClient()
    if audience not in oasis["SERVICE_AUDIENCES"]:
        raise ServiceError(f"Unknown audience {audience!r}.", code="invalid_audience")
    now = int(time.time())
    lifetime = oasis["SERVICE_TOKEN_LIFETIME"]
    token = keys.sign(
        {
            "iss": oasis["JWT_ISSUER"],
            "aud": audience,
            "sub": f"service:{client_id}",
            "jti": uuid.uuid4().hex,
            "iat": now,
            "nbf": now,
            "exp": now + lifetime,
            "token_type": "service",
        }
    )
    return {"access": token, "token_type": "Bearer", "expires_in": lifetime}
