"""Small helpers the auth tests share: signing in, calling verify, reading tokens and error bodies."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import re
import time
import uuid

import jwt
from django.conf import settings
from rest_framework.test import APIClient

from oasis_common.testing import error_of as error_of  # the platform's strict check, shared by the suite

PASSWORD = "correct horse battery staple"
NEW_PASSWORD = "a different long passphrase"
# `fam` names the refresh-token family (the sign-in) the token descends from.
ACCESS_CLAIMS = {"iss", "aud", "sub", "jti", "iat", "nbf", "exp", "token_type", "fam"}


def sign_in(api: APIClient, email: str = "ada@example.com", password: str = PASSWORD, **extra):
    return api.post("/api/v1/auth/token/", {"email": email, "password": password}, format="json", **extra)


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def verify(api: APIClient, token: str | None = None, **extra):
    """The gateway's auth_request: GET /internal/v1/verify with the caller's credential."""
    headers = bearer(token) if token is not None else {}
    return api.get("/internal/v1/verify", **headers, **extra)


def refresh(api: APIClient, token: str, **extra):
    return api.post("/api/v1/auth/token/refresh/", {"refresh": token}, format="json", **extra)


def me(api: APIClient, token: str):
    return api.get("/api/v1/auth/me/", **bearer(token))


def claims_of(token: str) -> dict:
    """The claims of a token, unverified: for reading what was issued, never for trusting it."""
    return jwt.decode(token, options={"verify_signature": False})


def reset_link_parts(message) -> tuple[str, str]:
    """The `uid` and `token` of the reset link in an outgoing email."""
    template = re.escape(settings.OASIS["PASSWORD_RESET_URL"])
    pattern = template.replace(re.escape("{uid}"), r"(?P<uid>[\w-]+)").replace(
        re.escape("{token}"), r"(?P<token>[\w-]+)"
    )
    found = re.search(pattern, message.body)
    assert found, message.body
    return found["uid"], found["token"]


def hs256_token(payload: dict, secret: bytes, kid: str) -> str:
    """An HS256 JWT built by hand: PyJWT rightly refuses to use a PEM as an HMAC secret."""

    def b64(raw: bytes) -> str:
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    header = b64(json.dumps({"alg": "HS256", "typ": "JWT", "kid": kid}).encode())
    body = b64(json.dumps(payload).encode())
    signature = hmac.new(secret, f"{header}.{body}".encode(), hashlib.sha256).digest()
    return f"{header}.{body}.{b64(signature)}"


def access_claims(user_id, **overrides) -> dict:
    """The claims of a valid access token for `user_id`, any of them overridable."""
    now = time.time()
    return {
        "iss": settings.OASIS["JWT_ISSUER"],
        "aud": settings.OASIS["JWT_AUDIENCE"],
        "sub": str(user_id),
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": int(now) + 300,
        "token_type": "access",
        **overrides,
    }
