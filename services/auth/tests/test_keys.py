"""The keyring and GET /api/v1/auth/.well-known/jwks.json: publishing keys, and rotating them."""

import base64
import hashlib
import json
import stat

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from oasis_common.keys import generate_private_pem, load_public_key
from tests.helpers import claims_of, error_of, me, refresh, sign_in, verify
from tokens import keys

URL = "/api/v1/auth/.well-known/jwks.json"


@pytest.fixture(scope="module")
def key_files(tmp_path_factory):
    """Two signing keys (old and new), each with a public-only PEM beside it."""
    folder = tmp_path_factory.mktemp("keys")
    files = {}
    for name in ("old", "new"):
        pem = generate_private_pem()
        public = load_public_key(pem).public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        (folder / f"{name}.pem").write_bytes(pem)
        (folder / f"{name}.pub.pem").write_bytes(public)
        files[name] = folder / f"{name}.pem"
        files[f"{name}.pub"] = folder / f"{name}.pub.pem"
    return files


@pytest.fixture
def use_keys(settings):
    def use(signing, *verifying):
        settings.OASIS = {
            **settings.OASIS,
            "JWT_SIGNING_KEY": "",
            "JWT_SIGNING_KEY_FILE": str(signing),
            "JWT_VERIFY_KEY_FILES": [str(path) for path in verifying],
        }

    return use


def kids(api) -> list[str]:
    return [key["kid"] for key in api.get(URL).json()["keys"]]


def test_the_jwks_lists_the_signing_key(api):
    response = api.get(URL)

    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert key["kid"] == keys.keyring().signing_kid
    assert key["kty"] == "RSA"
    assert key["use"] == "sig"
    assert key["alg"] == "RS256"
    assert set(key) == {"kty", "kid", "use", "alg", "n", "e"}


def test_the_jwks_may_be_cached_by_clients(api):
    assert api.get(URL)["Cache-Control"] == "public, max-age=300"


def test_the_jwks_needs_no_token_and_ignores_a_bad_one(api):
    assert api.get(URL, HTTP_AUTHORIZATION="Bearer garbage").status_code == 200


def test_the_kid_is_the_rfc7638_thumbprint_of_the_key(api):
    [key] = api.get(URL).json()["keys"]

    canonical = json.dumps(
        {"e": key["e"], "kty": "RSA", "n": key["n"]}, separators=(",", ":"), sort_keys=True
    )
    thumbprint = base64.urlsafe_b64encode(hashlib.sha256(canonical.encode()).digest()).rstrip(b"=").decode()
    assert key["kid"] == thumbprint


def test_the_published_key_verifies_issued_tokens(api, user):
    access = sign_in(api).json()["access"]
    [key] = api.get(URL).json()["keys"]

    claims = jwt.decode(access, jwt.PyJWK(key).key, algorithms=["RS256"], audience="oasis-api")

    assert claims["sub"] == str(user.pk)


def test_tokens_signed_by_a_retired_key_still_verify_while_it_is_listed(api, user, key_files, use_keys):
    use_keys(key_files["old"])
    old_pair = sign_in(api).json()
    old_kid = jwt.get_unverified_header(old_pair["access"])["kid"]

    use_keys(key_files["new"], key_files["old.pub"])

    new_kid = keys.keyring().signing_kid
    assert new_kid != old_kid
    assert kids(api) == [new_kid, old_kid]
    assert verify(api, old_pair["access"]).status_code == 200
    assert me(api, old_pair["access"]).status_code == 200
    rotated = refresh(api, old_pair["refresh"])
    assert rotated.status_code == 200, rotated.content
    assert jwt.get_unverified_header(rotated.json()["access"])["kid"] == new_kid


def test_new_tokens_are_signed_by_the_new_key(api, user, key_files, use_keys):
    use_keys(key_files["new"], key_files["old.pub"])

    access = sign_in(api).json()["access"]

    assert jwt.get_unverified_header(access)["kid"] == keys.keyring().signing_kid
    assert verify(api, access).status_code == 200


def test_once_a_retired_key_is_dropped_its_tokens_are_refused(api, user, key_files, use_keys):
    use_keys(key_files["old"])
    old_pair = sign_in(api).json()

    use_keys(key_files["new"])

    assert len(kids(api)) == 1
    error_of(verify(api, old_pair["access"]), 401, "not_authenticated")
    error_of(me(api, old_pair["access"]), 401)
    error_of(refresh(api, old_pair["refresh"]), 401, "invalid_token")


def test_the_next_key_can_be_published_before_it_signs(api, key_files, use_keys):
    use_keys(key_files["old"], key_files["new.pub"])
    old_kid = keys.keyring().signing_kid

    listed = kids(api)

    assert listed[0] == old_kid
    assert len(listed) == 2


def test_a_verify_key_equal_to_the_signing_key_is_listed_once(api, key_files, use_keys):
    use_keys(key_files["new"], key_files["new.pub"], key_files["new"])

    assert kids(api) == [keys.keyring().signing_kid]


def test_an_inline_signing_key_with_escaped_newlines_is_used(api, user, key_files, settings):
    escaped = key_files["old"].read_text().replace("\n", "\\n")
    settings.OASIS = {**settings.OASIS, "JWT_SIGNING_KEY": escaped, "JWT_VERIFY_KEY_FILES": []}

    access = sign_in(api).json()["access"]

    expected = keys.keyring().signing_kid
    assert jwt.get_unverified_header(access)["kid"] == expected
    assert kids(api) == [expected]
    assert verify(api, access).status_code == 200


def test_a_missing_development_key_file_is_generated_privately(api, tmp_path, use_keys):
    path = tmp_path / "generated" / "jwt-signing.pem"
    use_keys(path)

    kid = keys.keyring().signing_kid

    assert path.exists()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert kids(api) == [kid]


def test_signed_tokens_name_their_key(db):
    token = keys.sign({"sub": "someone"})

    assert jwt.get_unverified_header(token) == {
        "alg": "RS256",
        "typ": "JWT",
        "kid": keys.keyring().signing_kid,
    }
    assert claims_of(token) == {"sub": "someone"}
