"""oasis_common.authentication: JWTs verified by kid against auth's JWKS, refused with a 401 envelope."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from jwt.algorithms import RSAAlgorithm

from oasis_common import testing
from oasis_common.authentication import InvalidToken, KeyStore, Principal, decode_token
from oasis_common.keys import generate_private_pem, load_public_key, public_jwk
from oasis_common.testing import mint, service_token_for, user_token

USER_URL = "/api/v1/testapp/whoami/"
SERVICE_URL = "/internal/v1/testapp/whoami/"
JWKS_URL = "http://auth.test/api/v1/auth/.well-known/jwks.json"
USER_ID = "5b1c6c1e-8f0b-4e43-9d1a-2f7f3c1d9a10"


@pytest.fixture(scope="module")
def other_private_pem():
    return generate_private_pem()


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def valid_claims() -> dict:
    return jwt.decode(user_token(USER_ID), options={"verify_signature": False})


def signed(header: dict, claims: dict, *, hmac_secret: bytes | None = None) -> str:
    """Sign by hand, for tokens PyJWT itself refuses to produce."""
    signing_input = f"{b64(json.dumps(header).encode())}.{b64(json.dumps(claims).encode())}".encode()
    if hmac_secret is not None:
        signature = hmac.new(hmac_secret, signing_input, hashlib.sha256).digest()
    else:
        signature = RSAAlgorithm(RSAAlgorithm.SHA256).sign(signing_input, testing._test_signing_key())
    return f"{signing_input.decode()}.{b64(signature)}"


def hs256_signed_with_the_public_key() -> str:
    """The classic key-confusion attack: HMAC keyed with the PEM a verifier might treat as a secret."""
    public_pem = load_public_key(testing._test_key()[0]).public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = {"alg": "HS256", "typ": "JWT", "kid": testing._test_key()[1]["kid"]}
    return signed(header, valid_claims(), hmac_secret=public_pem)


def rs256_header(**changes) -> dict:
    return {"alg": "RS256", "typ": "JWT", "kid": testing._test_key()[1]["kid"], **changes}


def bearer(token: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {token}"}


def assert_refused(response, code="invalid_token"):
    assert response.status_code == 401, response.content
    body = response.json()
    assert body["error"]["code"] == code
    assert body["error"]["request_id"] == response["X-Request-ID"]
    assert response["WWW-Authenticate"] == 'Bearer realm="oasis"'


def test_a_valid_user_token_yields_a_principal(api):
    response = api.get(USER_URL, **bearer(user_token(USER_ID)))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": USER_ID, "token_type": "access"}


def test_a_token_expired_within_the_leeway_is_still_accepted(api):
    response = api.get(USER_URL, **bearer(user_token(USER_ID, lifetime=-2)))
    assert response.status_code == 200, response.content


def test_the_principal_describes_its_caller():
    user = Principal(id=USER_ID, token_type="access")
    service = Principal(id="service:builder", token_type="service")
    assert (user.pk, user.uuid, user.is_service, user.service_name) == (
        USER_ID,
        uuid.UUID(USER_ID),
        False,
        "",
    )
    assert (service.is_service, service.service_name) == (True, "builder")
    assert user.is_authenticated
    assert not user.is_anonymous


def test_a_request_without_credentials_is_asked_for_them(api):
    assert_refused(api.get(USER_URL), code="not_authenticated")


REFUSED_USER_TOKENS = {
    "forged signature": lambda pem: mint(sub=USER_ID, key=pem),
    "alg none": lambda pem: mint(sub=USER_ID, key="", algorithm="none"),
    "HS256 keyed with the public key": lambda pem: hs256_signed_with_the_public_key(),
    "RS512 instead of RS256": lambda pem: mint(sub=USER_ID, key=testing._test_key()[0], algorithm="RS512"),
    "expired": lambda pem: user_token(USER_ID, lifetime=-60),
    "issued in the future": lambda pem: user_token(USER_ID, iat=int(time.time()) + 3600),
    "wrong issuer": lambda pem: user_token(USER_ID, iss="someone-else"),
    "wrong audience": lambda pem: user_token(USER_ID, audience="another-api"),
    "unknown kid": lambda pem: user_token(USER_ID, headers={"kid": "no-such-key"}),
    "kid not a string": lambda pem: signed(rs256_header(kid=7), valid_claims()),
    "no kid": lambda pem: signed({"alg": "RS256", "typ": "JWT"}, valid_claims()),
    "service token": lambda pem: mint(sub="service:builder", token_type="service"),
    "refresh token": lambda pem: user_token(USER_ID, token_type="refresh"),
    "subject not a UUID": lambda pem: mint(sub="ada@example.com"),
    "subject a service": lambda pem: mint(sub="service:builder"),
    "not a JWT": lambda pem: "not-a-jwt",
    "three garbage segments": lambda pem: "aaa.bbb.ccc",
}


@pytest.mark.parametrize("make", REFUSED_USER_TOKENS.values(), ids=REFUSED_USER_TOKENS.keys())
def test_a_bad_user_token_is_refused(api, other_private_pem, make):
    assert_refused(api.get(USER_URL, **bearer(make(other_private_pem))))


@pytest.mark.parametrize("claim", ["exp", "iat", "iss", "aud", "sub", "jti", "token_type"])
def test_a_token_missing_a_required_claim_is_refused(api, claim):
    claims = valid_claims()
    del claims[claim]
    assert_refused(api.get(USER_URL, **bearer(signed(rs256_header(), claims))))


def test_the_hand_signed_tokens_are_otherwise_valid(api):
    # Guards the two tests above: what they refuse is the change, not the signing.
    assert api.get(USER_URL, **bearer(signed(rs256_header(), valid_claims()))).status_code == 200


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("Bearer", "invalid_token"),
        ("Bearer    ", "invalid_token"),
        ("Bearer two tokens", "invalid_token"),
        ("bearer\tabc.def.ghi", "not_authenticated"),
        ("Token abc.def.ghi", "not_authenticated"),
    ],
)
def test_a_malformed_authorization_header_is_refused(api, header, code):
    assert_refused(api.get(USER_URL, HTTP_AUTHORIZATION=header), code=code)


def test_a_valid_service_token_identifies_the_calling_service(api):
    response = api.get(SERVICE_URL, **bearer(service_token_for("builder", "projects")))
    assert response.status_code == 200, response.content
    assert response.json() == {"id": "service:builder", "service": "builder"}


REFUSED_SERVICE_TOKENS = {
    "user token": lambda: user_token(USER_ID),
    "user token addressed to this service": lambda: user_token(USER_ID, audience="projects"),
    "service token for another service": lambda: service_token_for("builder", "payments"),
    "subject not a service": lambda: mint(sub=USER_ID, token_type="service", audience="projects"),
    "expired": lambda: service_token_for("builder", "projects", lifetime=-60),
}


@pytest.mark.parametrize("make", REFUSED_SERVICE_TOKENS.values(), ids=REFUSED_SERVICE_TOKENS.keys())
def test_a_bad_service_token_is_refused(api, make):
    assert_refused(api.get(SERVICE_URL, **bearer(make())))


def test_decode_token_returns_the_verified_claims():
    claims = decode_token(user_token(USER_ID), audience="oasis-api", token_type="access")
    assert claims["sub"] == USER_ID
    with pytest.raises(InvalidToken):
        decode_token(user_token(USER_ID), audience="oasis-api", token_type="service")


def keypair() -> tuple[bytes, dict]:
    """A (private PEM, public JWK) pair: a key auth might publish."""
    pem = generate_private_pem()
    return pem, public_jwk(load_public_key(pem))


@pytest.fixture(scope="module")
def key_a():
    return keypair()


@pytest.fixture(scope="module")
def key_b():
    return keypair()


def url_store(**kwargs) -> KeyStore:
    options = {"refetch_interval": 30, "max_age": 3600, **kwargs}
    return KeyStore(url=JWKS_URL, file="", loader="", **options)


def publish(mocked_http, *jwks, status=200):
    mocked_http.get(JWKS_URL, json={"keys": list(jwks)}, status=status)


def jwks_fetches(mocked_http) -> int:
    return sum(1 for call in mocked_http.calls if call.request.url == JWKS_URL)


def test_keys_are_fetched_once_and_then_held_in_memory(mocked_http, clock, key_a):
    publish(mocked_http, key_a[1])
    store = url_store()
    for _ in range(5):
        assert store.get(key_a[1]["kid"]) is not None
    assert jwks_fetches(mocked_http) == 1


def test_a_flood_of_unknown_kids_fetches_the_jwks_once_per_interval(mocked_http, clock, key_a):
    publish(mocked_http, key_a[1])
    store = url_store()
    with ThreadPoolExecutor(max_workers=16) as pool:
        found = list(pool.map(store.get, (f"forged-{n}" for n in range(200))))
    assert found == [None] * 200
    assert jwks_fetches(mocked_http) == 1
    clock.advance(29)
    assert store.get("forged-again") is None
    assert jwks_fetches(mocked_http) == 1
    clock.advance(2)
    assert store.get("forged-again") is None
    assert jwks_fetches(mocked_http) == 2


def test_a_flood_of_forged_tokens_through_the_api_fetches_the_jwks_once(
    api, mocked_http, clock, oasis_settings, key_a
):
    oasis_settings(JWKS_LOADER="", JWKS_URL=JWKS_URL)
    publish(mocked_http, key_a[1])
    for n in range(50):
        assert_refused(api.get(USER_URL, **bearer(user_token(USER_ID, headers={"kid": f"forged-{n}"}))))
    assert jwks_fetches(mocked_http) == 1


def test_a_key_published_later_is_picked_up_after_the_interval(mocked_http, clock, key_a, key_b):
    publish(mocked_http, key_a[1])
    publish(mocked_http, key_a[1], key_b[1])
    store = url_store()
    new_kid = key_b[1]["kid"]
    assert store.get(new_kid) is None
    clock.advance(10)
    assert store.get(new_kid) is None
    clock.advance(21)
    assert store.get(new_kid) is not None
    assert store.get(key_a[1]["kid"]) is not None
    assert jwks_fetches(mocked_http) == 2


def test_a_token_signed_with_a_rotated_in_key_is_accepted(
    api, mocked_http, clock, oasis_settings, key_a, key_b
):
    oasis_settings(JWKS_LOADER="", JWKS_URL=JWKS_URL)
    publish(mocked_http, key_a[1])
    publish(mocked_http, key_a[1], key_b[1])
    token = user_token(USER_ID, key=key_b[0], headers={"kid": key_b[1]["kid"]})
    assert_refused(api.get(USER_URL, **bearer(token)))
    clock.advance(31)
    assert api.get(USER_URL, **bearer(token)).status_code == 200


@pytest.mark.parametrize(
    "failure",
    [
        {"status": 503, "json": {"error": "down"}},
        {"body": requests.ConnectionError("refused")},
        {"body": "<html>not json</html>", "status": 200},
    ],
    ids=["5xx", "unreachable", "not JSON"],
)
def test_a_failed_fetch_keeps_the_keys_already_held(mocked_http, clock, key_a, failure):
    publish(mocked_http, key_a[1])
    mocked_http.get(JWKS_URL, **failure)
    store = url_store()
    kid = key_a[1]["kid"]
    assert store.get(kid) is not None
    clock.advance(3601)
    assert store.get(kid) is not None
    assert store.get("unknown") is None
    assert jwks_fetches(mocked_http) == 2


def test_while_no_keys_could_ever_be_fetched_a_token_is_unavailable_not_invalid(
    api, mocked_http, clock, oasis_settings
):
    # A 401 would tell the client its token is bad and make it sign the user out.
    oasis_settings(JWKS_LOADER="", JWKS_URL=JWKS_URL)
    mocked_http.get(JWKS_URL, body=requests.ConnectionError("auth is still starting"))
    mocked_http.get(JWKS_URL, json=testing.jwks_for_tests())
    token = user_token(USER_ID)
    response = api.get(USER_URL, **bearer(token))
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert response.json()["error"]["details"] == {"service": "auth"}
    clock.advance(31)
    assert api.get(USER_URL, **bearer(token)).status_code == 200


def test_held_keys_are_refreshed_after_their_max_age(mocked_http, clock, key_a):
    publish(mocked_http, key_a[1])
    store = url_store(max_age=600)
    kid = key_a[1]["kid"]
    store.get(kid)
    clock.advance(599)
    store.get(kid)
    assert jwks_fetches(mocked_http) == 1
    clock.advance(2)
    store.get(kid)
    assert jwks_fetches(mocked_http) == 2


def test_a_key_withdrawn_from_the_jwks_is_no_longer_trusted_after_a_refresh(mocked_http, clock, key_a, key_b):
    publish(mocked_http, key_a[1], key_b[1])
    publish(mocked_http, key_b[1])
    store = url_store(max_age=600)
    assert store.get(key_a[1]["kid"]) is not None
    clock.advance(601)
    assert store.get(key_a[1]["kid"]) is None
    assert store.get(key_b[1]["kid"]) is not None


def test_entries_that_are_not_rsa_signing_keys_are_ignored(mocked_http, clock, key_a):
    publish(
        mocked_http, key_a[1], {"kty": "oct", "kid": "symmetric", "k": "c2VjcmV0"}, {**key_a[1], "kid": ""}
    )
    store = url_store()
    assert store.get(key_a[1]["kid"]) is not None
    assert store.get("symmetric") is None


def test_keys_can_be_read_from_a_file(tmp_path, clock, key_a):
    path = tmp_path / "jwks.json"
    path.write_text(json.dumps({"keys": [key_a[1]]}))
    store = KeyStore(url="", file=str(path), loader="", refetch_interval=30, max_age=3600)
    assert store.get(key_a[1]["kid"]) is not None


def test_the_jwks_fetch_has_timeouts(mocked_http, clock, oasis_settings, key_a):
    oasis_settings(HTTP_CONNECT_TIMEOUT=0.5, HTTP_READ_TIMEOUT=3.0)
    publish(mocked_http, key_a[1])
    url_store().get(key_a[1]["kid"])
    assert mocked_http.calls[0].request.req_kwargs["timeout"] == (0.5, 3.0)


def test_concurrent_first_requests_share_one_fetch(mocked_http, clock, key_a):
    publish(mocked_http, key_a[1])
    store = url_store()
    start = threading.Barrier(8)

    def first_request():
        start.wait()
        return store.get(key_a[1]["kid"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = [pool.submit(first_request) for _ in range(8)]
    assert all(result.result() is not None for result in results)
    assert jwks_fetches(mocked_http) == 1
