"""The signing keyring: one private key that signs, and every public key that verifies.

Rotation adds a key: publish the next key as a verify key first, then make it the
signing key and keep the old one as a verify key until the last token it signed expires.
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import jwt
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.signals import setting_changed

from oasis_common import env
from oasis_common.keys import generate_private_pem, load_public_key, public_jwk

_lock = threading.Lock()


@dataclass(frozen=True)
class Keyring:
    signing_kid: str
    signing_key: object
    public_keys: dict  # kid -> JWK dict

    def verifying_key(self, kid: str):
        jwk = self.public_keys.get(kid)
        return jwt.PyJWK(jwk, algorithm="RS256").key if jwk else None


def _read_signing_pem() -> bytes:
    inline = settings.OASIS.get("JWT_SIGNING_KEY", "")
    if inline:
        return inline.replace("\\n", "\n").encode()
    path = Path(settings.OASIS["JWT_SIGNING_KEY_FILE"])
    if not path.exists():
        if env.is_production():
            raise ImproperlyConfigured(f"JWT signing key file {path} does not exist")
        _generate_dev_key(path)
    return path.read_bytes()


def _generate_dev_key(path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    with os.fdopen(fd, "wb") as handle:
        handle.write(generate_private_pem())


@cache
def keyring() -> Keyring:
    with _lock:
        pem = _read_signing_pem()
        private = serialization.load_pem_private_key(pem, password=None)
        signing_jwk = public_jwk(private.public_key())
        public = {signing_jwk["kid"]: signing_jwk}
        for name in settings.OASIS.get("JWT_VERIFY_KEY_FILES", []):
            jwk = public_jwk(load_public_key(Path(name).read_bytes()))
            public.setdefault(jwk["kid"], jwk)
        return Keyring(signing_kid=signing_jwk["kid"], signing_key=private, public_keys=public)


def public_jwks() -> dict:
    """The JWKS document: every key a token may be verified with, the signing key first."""
    return {"keys": list(keyring().public_keys.values())}


def sign(payload: dict) -> str:
    ring = keyring()
    return jwt.encode(payload, ring.signing_key, algorithm="RS256", headers={"kid": ring.signing_kid})


def _forget_keyring(*, setting, **kwargs) -> None:
    if setting in {"OASIS", "SIMPLE_JWT"}:
        keyring.cache_clear()


setting_changed.connect(_forget_keyring)
