"""Verify RS256 JWTs issued by auth, by `kid`, against its JWKS held in memory.

A service never trusts an identity header: every request carries a JWT, checked here
for signature, `iss`, `aud`, `exp` and `token_type`. The principal is a light object
holding the subject id; services need no user table.
"""

from __future__ import annotations

import json
import logging
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import jwt
import requests
from django.core.signals import setting_changed
from django.utils.module_loading import import_string
from rest_framework import authentication, exceptions

from oasis_common.conf import oasis_settings
from oasis_common.errors import PeerUnavailable

logger = logging.getLogger("oasis.auth")

ALGORITHM = "RS256"
ACCESS = "access"
SERVICE = "service"


@dataclass(frozen=True)
class Principal:
    """Who is calling: a user (`sub` is their UUID) or a service (`sub` is `service:<name>`)."""

    id: str
    token_type: str
    claims: dict = field(default_factory=dict, compare=False, repr=False)

    is_authenticated = True
    is_anonymous = False

    @property
    def pk(self) -> str:
        return self.id

    @property
    def is_service(self) -> bool:
        return self.token_type == SERVICE

    @property
    def service_name(self) -> str:
        return self.id.removeprefix("service:") if self.is_service else ""

    @property
    def uuid(self) -> uuid.UUID:
        return uuid.UUID(self.id)


class KeyStore:
    """The auth service's public keys by `kid`.

    An unknown `kid` triggers a refetch at most once per interval per process, so a
    flood of forged tokens cannot turn into a flood of JWKS requests.
    """

    def __init__(self, *, url: str, file: str, loader: str, refetch_interval: float, max_age: float):
        self.url = url
        self.file = file
        self.loader = loader
        self.refetch_interval = refetch_interval
        self.max_age = max_age
        self._keys: dict[str, jwt.PyJWK] = {}
        self._loaded_at = float("-inf")
        self._last_attempt = float("-inf")
        self._lock = threading.Lock()

    def get(self, kid: str) -> jwt.PyJWK | None:
        if kid not in self._keys or time.monotonic() - self._loaded_at > self.max_age:
            self._refresh()
        # A successful refresh is authoritative: a key auth withdrew is no longer trusted.
        # A failed one leaves the keys already held in place.
        return self._keys.get(kid)

    @property
    def loaded(self) -> bool:
        """Whether keys were ever fetched; until then no token can be judged either way."""
        return self._loaded_at != float("-inf")

    def _refresh(self) -> None:
        with self._lock:
            now = time.monotonic()
            if now - self._last_attempt < self.refetch_interval:
                return
            self._last_attempt = now
            try:
                document = self._load()
                keys = {}
                for entry in document.get("keys", []):
                    if entry.get("kty") == "RSA" and entry.get("kid"):
                        keys[entry["kid"]] = jwt.PyJWK(entry, algorithm=ALGORITHM)
            except Exception as exc:
                logger.warning("Could not load the JWKS: %s", exc)
                return
            self._keys = keys
            self._loaded_at = now

    def _load(self) -> dict:
        if self.loader:
            return import_string(self.loader)()
        if self.file:
            return json.loads(Path(self.file).read_text())
        response = requests.get(
            self.url,
            timeout=(oasis_settings.HTTP_CONNECT_TIMEOUT, oasis_settings.HTTP_READ_TIMEOUT),
        )
        response.raise_for_status()
        return response.json()


_store: KeyStore | None = None
_store_lock = threading.Lock()


def key_store() -> KeyStore:
    global _store
    if _store is None:
        with _store_lock:
            if _store is None:
                _store = KeyStore(
                    url=oasis_settings.JWKS_URL,
                    file=oasis_settings.JWKS_FILE,
                    loader=oasis_settings.JWKS_LOADER,
                    refetch_interval=oasis_settings.JWKS_REFETCH_INTERVAL_SECONDS,
                    max_age=oasis_settings.JWKS_MAX_AGE_SECONDS,
                )
    return _store


def reset_key_store() -> None:
    global _store
    _store = None


def _forget_keys_when_settings_change(*, setting, **kwargs) -> None:
    # The store was built from settings.OASIS; a test that changes them must not verify with old keys.
    if setting == "OASIS":
        reset_key_store()


setting_changed.connect(_forget_keys_when_settings_change)


class InvalidToken(exceptions.AuthenticationFailed):
    default_detail = "The token is invalid or expired."
    default_code = "invalid_token"


def decode_token(raw: str, *, audience: str, token_type: str) -> dict:
    """Return the verified claims of `raw`, or raise InvalidToken.

    Raises PeerUnavailable instead while auth's keys have never been fetched.
    """
    try:
        header = jwt.get_unverified_header(raw)
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    kid = header.get("kid")
    if header.get("alg") != ALGORITHM or not isinstance(kid, str):
        raise InvalidToken()
    store = key_store()
    key = store.get(kid)
    if key is None:
        if not store.loaded:
            # Auth's keys are out of reach: a 401 would make the client discard a good token.
            raise PeerUnavailable(details={"service": "auth"})
        raise InvalidToken()
    try:
        claims = jwt.decode(
            raw,
            key.key,
            algorithms=[ALGORITHM],
            audience=audience,
            issuer=oasis_settings.JWT_ISSUER,
            leeway=oasis_settings.JWT_LEEWAY_SECONDS,
            options={"require": ["exp", "iat", "iss", "aud", "sub", "jti", "token_type"]},
        )
    except jwt.PyJWTError as exc:
        raise InvalidToken() from exc
    if claims.get("token_type") != token_type:
        raise InvalidToken()
    return claims


def bearer_token(request) -> str | None:
    header = authentication.get_authorization_header(request).decode("latin-1")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    token = token.strip()
    if not token or " " in token:
        raise InvalidToken()
    return token


class UserJWTAuthentication(authentication.BaseAuthentication):
    """A user's access token, audience `JWT_AUDIENCE`."""

    token_type = ACCESS

    def audience(self) -> str:
        return oasis_settings.JWT_AUDIENCE

    def authenticate(self, request):
        raw = bearer_token(request)
        if raw is None:
            return None
        claims = decode_token(raw, audience=self.audience(), token_type=self.token_type)
        self.check_subject(claims["sub"])
        return Principal(id=claims["sub"], token_type=self.token_type, claims=claims), raw

    def check_subject(self, subject: str) -> None:
        try:
            uuid.UUID(subject)
        except (TypeError, ValueError) as exc:
            raise InvalidToken() from exc

    def authenticate_header(self, request) -> str:
        return 'Bearer realm="oasis"'


class ServiceJWTAuthentication(UserJWTAuthentication):
    """A service token addressed to this service (internal API only)."""

    token_type = SERVICE

    def audience(self) -> str:
        return oasis_settings.SERVICE_NAME

    def check_subject(self, subject: str) -> None:
        if not isinstance(subject, str) or not subject.startswith("service:"):
            raise InvalidToken()
