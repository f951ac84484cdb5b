"""Refresh-token families: reusing a rotated refresh token revokes every token of its sign-in."""

from datetime import timedelta

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from oasis_common.testing import clear_cache
from tests.helpers import claims_of, error_of, me, refresh, sign_in, verify
from tokens import keys
from tokens.models import TokenFamily
from tokens.pairs import RefreshToken


def rotate(api, token: str) -> dict:
    response = refresh(api, token)
    assert response.status_code == 200, response.content
    return response.json()


@pytest.fixture
def chain(api, tokens) -> list[dict]:
    """One sign-in and two rotations: three pairs of one family, oldest first."""
    second = rotate(api, tokens["refresh"])
    return [tokens, second, rotate(api, second["refresh"])]


def test_every_token_of_a_sign_in_names_the_same_family(chain):
    families = {claims_of(pair[kind])["fam"] for pair in chain for kind in ("access", "refresh")}

    assert families == {claims_of(chain[0]["refresh"])["jti"]}


def test_each_sign_in_starts_its_own_family(api, tokens):
    again = sign_in(api).json()

    assert claims_of(again["refresh"])["fam"] != claims_of(tokens["refresh"])["fam"]


def test_reusing_a_rotated_refresh_token_revokes_the_refresh_tokens_issued_after_it(api, chain):
    error_of(refresh(api, chain[0]["refresh"]), 401, "token_reused")

    error_of(refresh(api, chain[-1]["refresh"]), 401, "token_revoked")


@pytest.mark.parametrize("generation", [0, 1, 2], ids=["from-sign-in", "from-first-rotation", "newest"])
def test_reusing_a_rotated_refresh_token_revokes_the_access_tokens_of_its_family(api, chain, generation):
    access = chain[generation]["access"]
    assert verify(api, access).status_code == 200

    refresh(api, chain[1]["refresh"])

    error_of(verify(api, access), 401, "not_authenticated")
    error_of(me(api, access), 401)


def test_a_reuse_leaves_the_users_other_sign_ins_alone(api, chain):
    elsewhere = sign_in(api).json()

    refresh(api, chain[0]["refresh"])

    assert verify(api, elsewhere["access"]).status_code == 200
    assert refresh(api, elsewhere["refresh"]).status_code == 200


def test_the_revocation_is_recorded_in_the_database(api, chain):
    refresh(api, chain[0]["refresh"])

    family = TokenFamily.objects.get(pk=claims_of(chain[0]["refresh"])["fam"])
    assert family.revoked_at is not None


def test_the_revocation_survives_losing_the_cache(api, chain):
    refresh(api, chain[0]["refresh"])
    clear_cache()

    error_of(verify(api, chain[-1]["access"]), 401, "not_authenticated")
    error_of(refresh(api, chain[-1]["refresh"]), 401, "token_revoked")


def test_a_reuse_of_a_logged_out_refresh_token_revokes_its_family_too(api, authed, tokens):
    rotated = rotate(api, tokens["refresh"])
    authed.post("/api/v1/auth/logout/", {"refresh": rotated["refresh"]}, format="json")

    error_of(refresh(api, rotated["refresh"]), 401, "token_reused")

    assert TokenFamily.objects.get(pk=claims_of(tokens["refresh"])["fam"]).revoked_at is not None


def test_a_refresh_token_from_before_families_heads_its_own(api, user):
    token = RefreshToken.for_user(user)
    del token.payload["fam"]
    old = keys.sign({**token.payload, "aud": "oasis-api", "iss": "imagi-oasis"})

    rotated = rotate(api, old)

    assert claims_of(rotated["access"])["fam"] == claims_of(old)["jti"]
    error_of(refresh(api, old), 401, "token_reused")
    error_of(verify(api, rotated["access"]), 401, "not_authenticated")


def test_a_family_row_is_kept_only_while_its_newest_refresh_token_lives(api, chain):
    family = TokenFamily.objects.get()
    assert family.newest.jti == claims_of(chain[-1]["refresh"])["jti"]
    yesterday = timezone.now() - timedelta(days=1)
    OutstandingToken.objects.exclude(pk=family.newest_id).update(expires_at=yesterday)

    call_command("flushexpiredtokens")
    assert TokenFamily.objects.filter(pk=family.pk).exists()

    OutstandingToken.objects.update(expires_at=yesterday)
    call_command("flushexpiredtokens")
    assert not TokenFamily.objects.exists()


def test_a_family_that_never_rotated_needs_no_row(api, tokens):
    assert verify(api, tokens["access"]).status_code == 200

    assert not TokenFamily.objects.exists()
    assert cache.get(f"token-family-revoked:{claims_of(tokens['access'])['fam']}") == 0
