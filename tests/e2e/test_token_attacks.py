"""Tokens that must be refused, both at the gateway and by the service's own check."""

import base64
import json
import time
import uuid

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from oasis_common.keys import generate_private_pem, load_public_key, public_jwk
from tests.e2e.conftest import bearer


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims_for(user_id: str, **changes) -> dict:
    now = int(time.time())
    claims = {
        "iss": "imagi-oasis",
        "aud": "oasis-api",
        "sub": user_id,
        "jti": uuid.uuid4().hex,
        "iat": now,
        "exp": now + 300,
        "token_type": "access",
    }
    claims.update(changes)
    return {k: v for k, v in claims.items() if v is not None}


def signing_material(system):
    pem = system.key_file.read_bytes()
    kid = public_jwk(load_public_key(pem))["kid"]
    public_pem = (
        serialization.load_pem_private_key(pem, password=None)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    return pem, kid, public_pem


def forged_tokens(system, user_id: str) -> dict[str, str]:
    pem, kid, public_pem = signing_material(system)
    stranger = generate_private_pem()
    stranger_kid = public_jwk(load_public_key(stranger))["kid"]

    def sign(claims, key=pem, headers=None, algorithm="RS256"):
        return jwt.encode(claims, key, algorithm=algorithm, headers={"kid": kid, **(headers or {})})

    good = claims_for(user_id)
    return {
        "forged signature": sign(good, key=stranger),
        "alg none": f"{_b64({'alg': 'none', 'typ': 'JWT', 'kid': kid})}.{_b64(good)}.",
        "HS256 with the public key as secret": _hs256_with_public_key(good, public_pem, kid),
        "expired": sign(claims_for(user_id, iat=int(time.time()) - 900, exp=int(time.time()) - 600)),
        "wrong issuer": sign(claims_for(user_id, iss="https://evil.example")),
        "wrong audience": sign(claims_for(user_id, aud="someone-else")),
        "unknown kid": jwt.encode(good, stranger, algorithm="RS256", headers={"kid": stranger_kid}),
        "service token as user token": sign(
            claims_for("service:builder", token_type="service", aud="oasis-api")
        ),
        "refresh token as access token": sign(claims_for(user_id, token_type="refresh")),
        "no expiry": sign(claims_for(user_id, exp=None)),
        "garbage": "not-a-jwt",
    }


def _hs256_with_public_key(claims: dict, public_pem: bytes, kid: str) -> str:
    import hashlib
    import hmac

    header = _b64({"alg": "HS256", "typ": "JWT", "kid": kid})
    payload = _b64(claims)
    signature = hmac.new(public_pem, f"{header}.{payload}".encode(), hashlib.sha256).digest()
    return f"{header}.{payload}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


CASES = [
    "forged signature",
    "alg none",
    "HS256 with the public key as secret",
    "expired",
    "wrong issuer",
    "wrong audience",
    "unknown kid",
    "service token as user token",
    "refresh token as access token",
    "no expiry",
    "garbage",
]


@pytest.fixture(scope="module")
def victim(system):
    from tests.e2e.conftest import Client, register

    return register(Client(system.url, source_ip="127.9.0.1"))


@pytest.mark.parametrize("case", CASES)
def test_gateway_refuses(system, gateway, victim, case):
    token = forged_tokens(system, victim["id"])[case]

    response = gateway.get("/api/v1/auth/me/", headers=bearer(token))

    assert response.status_code == 401
    assert response.json()["error"]["code"] == "not_authenticated"


@pytest.mark.parametrize("case", CASES)
def test_service_refuses_when_reached_directly(system, victim, case):
    import requests

    token = forged_tokens(system, victim["id"])[case]

    response = requests.get(
        f"{system.service_url('auth')}/api/v1/auth/me/", headers=bearer(token), timeout=10
    )

    assert response.status_code == 401
    assert set(response.json()["error"]) == {"code", "message", "details", "request_id"}


def test_a_correctly_signed_token_is_accepted_directly(system, victim):
    import requests

    pem, kid, _ = signing_material(system)
    token = jwt.encode(claims_for(victim["id"]), pem, algorithm="RS256", headers={"kid": kid})

    response = requests.get(
        f"{system.service_url('auth')}/api/v1/auth/me/", headers=bearer(token), timeout=10
    )

    assert response.status_code == 200


def test_a_user_token_cannot_reach_internal_routes(gateway, account):
    for path in ("/internal/v1/verify", "/internal/v1/service-token"):
        response = gateway.get(path, headers=bearer(account["access"]))
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"


def test_a_stolen_refresh_token_replayed_after_its_owner_refreshed_ends_the_sign_in_for_both(system, account):
    from tests.e2e.conftest import Client, fresh_ip
    from tests.e2e.test_auth_flow import refused_within

    owner = Client(system.url, source_ip=fresh_ip())
    thief = Client(system.url, source_ip=fresh_ip())
    stolen = account["refresh"]
    owners = owner.post("/api/v1/auth/token/refresh/", json={"refresh": stolen}).json()
    newer = owner.post("/api/v1/auth/token/refresh/", json={"refresh": owners["refresh"]}).json()
    # Warm the gateway's token-check cache: the revocation must beat it.
    assert owner.get("/api/v1/auth/me/", headers=bearer(newer["access"])).status_code == 200

    replayed = thief.post("/api/v1/auth/token/refresh/", json={"refresh": stolen})

    assert replayed.status_code == 401
    assert replayed.json()["error"]["code"] == "token_reused"
    for access in (account["access"], owners["access"], newer["access"]):
        refused_within(owner, "/api/v1/auth/me/", access)
    again = owner.post("/api/v1/auth/token/refresh/", json={"refresh": newer["refresh"]})
    assert again.status_code == 401
    assert again.json()["error"]["code"] == "token_revoked"


def test_another_sign_in_of_the_victim_survives_the_replay(system, gateway, account):
    from tests.e2e.conftest import sign_in

    elsewhere = sign_in(gateway, account["email"])
    gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})

    gateway.post("/api/v1/auth/token/refresh/", json={"refresh": account["refresh"]})

    assert gateway.get("/api/v1/auth/me/", headers=bearer(elsewhere["access"])).status_code == 200
    assert (
        gateway.post("/api/v1/auth/token/refresh/", json={"refresh": elsewhere["refresh"]}).status_code == 200
    )
