"""GET and PATCH /api/v1/auth/me/: the caller's own profile."""

import pytest

from accounts.models import User
from oasis_common.testing import mint
from tests.helpers import PASSWORD, error_of, me, sign_in
from tokens import keys
from tokens.pairs import AccessToken

URL = "/api/v1/auth/me/"


def test_me_shows_the_callers_profile(authed, user):
    response = authed.get(URL)

    assert response.status_code == 200
    assert response.json() == {
        "id": str(user.pk),
        "email": "ada@example.com",
        "name": "Ada",
        "date_joined": user.date_joined.isoformat().replace("+00:00", "Z"),
    }


def test_me_shows_each_caller_their_own_profile(authed, other_authed, user, other_user):
    assert authed.get(URL).json()["id"] == str(user.pk)
    assert other_authed.get(URL).json()["id"] == str(other_user.pk)


def test_me_needs_a_token(api, db):
    response = api.get(URL)

    error_of(response, 401, "not_authenticated")
    assert response["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize(
    "authorization",
    ["Bearer garbage", "Bearer ", "Token abc", "Basic YWRhOnB3", "Bearer a b"],
    ids=["garbage", "empty", "other-scheme", "basic", "two-parts"],
)
def test_me_refuses_a_bad_authorization_header(api, user, authorization):
    response = api.get(URL, HTTP_AUTHORIZATION=authorization)

    error_of(response, 401)


def test_me_refuses_a_token_signed_by_someone_else(api, user):
    forged = mint(sub=str(user.pk), headers={"kid": keys.keyring().signing_kid})

    error_of(me(api, forged), 401)


def test_me_refuses_a_deactivated_user(api, user, tokens):
    User.objects.filter(pk=user.pk).update(is_active=False)

    error_of(me(api, tokens["access"]), 401)


def test_me_refuses_a_token_of_a_deleted_user(api, user):
    access = str(AccessToken.for_user(user))
    user.delete()

    error_of(me(api, access), 401)


def test_patch_changes_the_name(authed, user):
    response = authed.patch(URL, {"name": "Ada Lovelace"}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["name"] == "Ada Lovelace"
    user.refresh_from_db()
    assert user.name == "Ada Lovelace"


def test_patch_may_clear_the_name(authed, user):
    assert authed.patch(URL, {"name": ""}, format="json").json()["name"] == ""


def test_an_empty_patch_changes_nothing(authed, user):
    response = authed.patch(URL, {}, format="json")

    assert response.status_code == 200
    assert response.json()["name"] == "Ada"


def test_patch_email_needs_the_current_password(authed, user):
    response = authed.patch(URL, {"email": "ada.lovelace@example.com"}, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"current_password"}
    user.refresh_from_db()
    assert user.email == "ada@example.com"


def test_patch_email_refuses_a_wrong_current_password(authed, user):
    response = authed.patch(
        URL, {"email": "ada.lovelace@example.com", "current_password": "not the password"}, format="json"
    )

    error_of(response, 400, "validation_error")
    user.refresh_from_db()
    assert user.email == "ada@example.com"


def test_patch_email_with_the_current_password_changes_the_sign_in_email(api, authed, user):
    response = authed.patch(
        URL, {"email": "Ada.Lovelace@Example.com", "current_password": PASSWORD}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada.lovelace@example.com"
    assert sign_in(api, "ada.lovelace@example.com").status_code == 200
    error_of(sign_in(api, "ada@example.com"), 401, "invalid_credentials")


def test_patch_with_the_same_email_in_another_case_needs_no_password(authed, user):
    response = authed.patch(URL, {"email": "ADA@example.com", "name": "Ada L."}, format="json")

    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@example.com"
    assert response.json()["name"] == "Ada L."


@pytest.mark.parametrize("email", ["grace@example.com", "GRACE@Example.com"])
def test_patch_email_to_a_taken_address_is_refused(authed, user, other_user, email):
    response = authed.patch(URL, {"email": email, "current_password": PASSWORD}, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"email"}
    user.refresh_from_db()
    assert user.email == "ada@example.com"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x" * 151}, "name"),
        ({"name": ["Ada"]}, "name"),
        ({"email": "not-an-email", "current_password": PASSWORD}, "email"),
        ({"email": None}, "email"),
    ],
    ids=["name-too-long", "name-list", "email-malformed", "email-null"],
)
def test_patch_with_invalid_fields_is_refused(authed, user, body, field):
    error = error_of(authed.patch(URL, body, format="json"), 400, "validation_error")

    assert field in error["details"]


def test_patch_cannot_change_other_fields(authed, user):
    response = authed.patch(
        URL, {"id": "00000000-0000-0000-0000-000000000000", "is_staff": True}, format="json"
    )

    assert response.status_code == 200
    user.refresh_from_db()
    assert not user.is_staff
    assert response.json()["id"] == str(user.pk)


def test_patch_needs_a_token(api, user):
    error_of(api.patch(URL, {"name": "Mallory"}, format="json"), 401, "not_authenticated")
    user.refresh_from_db()
    assert user.name == "Ada"


def test_me_does_not_allow_delete(authed, user):
    error_of(authed.delete(URL), 405, "method_not_allowed")
    assert User.objects.filter(pk=user.pk).exists()


def test_guessing_the_password_through_an_email_change_counts_towards_the_lockout(
    api, authed, user, settings
):
    settings.OASIS = {**settings.OASIS, "LOGIN_MAX_FAILURES_PER_ACCOUNT": 3}
    body = {"email": "ada.lovelace@example.com", "current_password": "a wrong guess"}
    for _ in range(3):
        error_of(authed.patch(URL, body, format="json"), 400, "validation_error")

    response = authed.patch(URL, {**body, "current_password": PASSWORD}, format="json")

    error_of(response, 429, "login_locked")
    error_of(sign_in(api), 429, "login_locked")
    user.refresh_from_db()
    assert user.email == "ada@example.com"
