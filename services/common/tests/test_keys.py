"""oasis_common.keys: PEM loading, JWK export, and RFC 7638 thumbprints as `kid`."""

import base64

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa

from oasis_common.keys import generate_private_pem, load_public_key, public_jwk

# The example key and thumbprint of RFC 7638, section 3.1.
RFC_7638_N = (
    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3"
    "oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgd"
    "AZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur"
    "-kEgU8awapJzKnqDKgw"
)
RFC_7638_THUMBPRINT = "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"


def as_int(b64url: str) -> int:
    return int.from_bytes(base64.urlsafe_b64decode(b64url + "=" * (-len(b64url) % 4)), "big")


def test_the_kid_is_the_rfc_7638_thumbprint():
    key = rsa.RSAPublicNumbers(e=65537, n=as_int(RFC_7638_N)).public_key()
    jwk = public_jwk(key)
    assert jwk["kid"] == RFC_7638_THUMBPRINT
    assert (jwk["n"], jwk["e"]) == (RFC_7638_N, "AQAB")
    assert (jwk["kty"], jwk["use"], jwk["alg"]) == ("RSA", "sig", "RS256")


def test_a_private_or_a_public_pem_yields_the_same_public_key():
    private_pem = generate_private_pem()
    from_private = load_public_key(private_pem)
    public_pem = from_private.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert load_public_key(public_pem).public_numbers() == from_private.public_numbers()
    assert from_private.key_size == 2048


def test_a_token_signed_with_the_private_key_verifies_with_the_published_jwk():
    private_pem = generate_private_pem()
    jwk = public_jwk(load_public_key(private_pem))
    token = jwt.encode({"sub": "x"}, private_pem, algorithm="RS256", headers={"kid": jwk["kid"]})
    assert jwt.get_unverified_header(token)["kid"] == jwk["kid"]
    assert jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["RS256"]) == {"sub": "x"}


def test_different_keys_have_different_kids():
    assert (
        public_jwk(load_public_key(generate_private_pem()))["kid"]
        != public_jwk(load_public_key(generate_private_pem()))["kid"]
    )
