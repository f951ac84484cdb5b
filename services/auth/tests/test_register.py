"""POST /api/v1/auth/register/: creating an account."""

import uuid

import pytest
from django.contrib.auth.hashers import identify_hasher

from accounts.models import User
from tests.helpers import ACCESS_CLAIMS, PASSWORD, claims_of, error_of, me, refresh, sign_in, verify

URL = "/api/v1/auth/register/"


def register(api, email="grace@example.com", password=PASSWORD, **fields):
    return api.post(URL, {"email": email, "password": password, **fields}, format="json")


def test_register_creates_an_account_that_can_sign_in(api, db):
    response = register(api, name="Grace Hopper")

    assert response.status_code == 201, response.content
    body = response.json()
    assert set(body) == {
        "id",
        "email",
        "name",
        "date_joined",
        "access",
        "refresh",
        "token_type",
        "expires_in",
    }
    assert body["email"] == "grace@example.com"
    assert body["name"] == "Grace Hopper"
    assert User.objects.get(pk=uuid.UUID(body["id"])).email == "grace@example.com"
    assert sign_in(api, "grace@example.com").status_code == 200


def test_register_signs_the_new_account_in_with_a_pair_shaped_like_sign_ins(api, db):
    body = register(api).json()

    signed_in = sign_in(api, "grace@example.com").json()
    pair = {name: body[name] for name in signed_in}
    assert pair["token_type"] == signed_in["token_type"] == "Bearer"
    assert pair["expires_in"] == signed_in["expires_in"]
    assert set(claims_of(pair["access"])) == ACCESS_CLAIMS
    assert claims_of(pair["access"])["sub"] == body["id"]
    assert me(api, pair["access"]).json()["id"] == body["id"]
    assert verify(api, pair["access"]).status_code == 200


def test_the_refresh_token_from_register_rotates_like_any_other(api, db):
    body = register(api).json()

    rotated = refresh(api, body["refresh"])

    assert rotated.status_code == 200, rotated.content
    error_of(refresh(api, body["refresh"]), 401, "token_reused")


def test_a_refused_registration_returns_no_tokens(api, user):
    body = register(api, email="ada@example.com").json()

    assert "access" not in body
    assert "refresh" not in body


def test_register_normalises_the_email(api, db):
    response = register(api, email="  Grace.Hopper@Example.COM ")

    assert response.status_code == 201, response.content
    assert response.json()["email"] == "grace.hopper@example.com"
    assert User.objects.get().email == "grace.hopper@example.com"


def test_register_stores_the_password_hashed(api, db):
    register(api)

    stored = User.objects.get().password
    assert PASSWORD not in stored
    assert identify_hasher(stored)


def test_name_is_optional(api, db):
    response = register(api)

    assert response.status_code == 201, response.content
    assert response.json()["name"] == ""


@pytest.mark.parametrize(
    "email", ["ada@example.com", "ADA@EXAMPLE.COM", "Ada@Example.com", " ada@example.com "]
)
def test_an_email_already_registered_in_any_case_is_refused(api, user, email):
    response = register(api, email=email)

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"email"}
    assert User.objects.count() == 1


@pytest.mark.parametrize(
    ("password", "fields", "complaint"),
    [
        ("Sh0rt!", {}, "too short"),
        ("password123", {}, "too common"),
        ("8305619274153", {}, "entirely numeric"),
        ("gracehopper1906", {"email": "gracehopper@example.com"}, "too similar to the email"),
        ("Grace Hopper Navy", {"name": "Grace Hopper Navy"}, "too similar to the name"),
    ],
    ids=["short", "common", "numeric", "similar-to-email", "similar-to-name"],
)
def test_a_weak_password_is_refused(api, db, password, fields, complaint):
    response = register(api, password=password, **fields)

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == {"password"}
    assert any(complaint in message for message in error["details"]["password"]), error
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"email", "password"}),
        ({"email": "grace@example.com"}, {"password"}),
        ({"password": PASSWORD}, {"email"}),
        ({"email": "", "password": ""}, {"email", "password"}),
        ({"email": None, "password": None}, {"email", "password"}),
    ],
    ids=["empty", "no-password", "no-email", "blank", "null"],
)
def test_missing_fields_are_named(api, db, body, fields):
    response = api.post(URL, body, format="json")

    error = error_of(response, 400, "validation_error")
    assert set(error["details"]) == fields


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": 42, "password": PASSWORD}, "email"),
        ({"email": ["grace@example.com"], "password": PASSWORD}, "email"),
        ({"email": "not-an-email", "password": PASSWORD}, "email"),
        ({"email": "grace@example.com", "password": ["a", "list"]}, "password"),
        ({"email": "grace@example.com", "password": {"an": "object"}}, "password"),
        ({"email": "grace@example.com", "password": True}, "password"),
        ({"email": "grace@example.com", "password": PASSWORD, "name": {"an": "object"}}, "name"),
        ({"email": "grace@example.com", "password": PASSWORD, "name": "x" * 151}, "name"),
        ({"email": f"{'x' * 250}@example.com", "password": PASSWORD}, "email"),
    ],
    ids=[
        "email-number",
        "email-list",
        "email-malformed",
        "password-list",
        "password-object",
        "password-bool",
        "name-object",
        "name-too-long",
        "email-too-long",
    ],
)
def test_wrong_types_are_refused_by_field(api, db, body, field):
    response = api.post(URL, body, format="json")

    error = error_of(response, 400, "validation_error")
    assert field in error["details"]
    assert not User.objects.exists()


def test_register_needs_no_token_and_ignores_a_bad_one(api, db):
    response = api.post(
        URL,
        {"email": "grace@example.com", "password": PASSWORD},
        format="json",
        HTTP_AUTHORIZATION="Bearer not-a-token",
    )

    assert response.status_code == 201, response.content


def test_register_cannot_set_privileges(api, db):
    response = register(api, is_staff=True, is_superuser=True, id=str(uuid.uuid4()))

    assert response.status_code == 201, response.content
    created = User.objects.get()
    assert not created.is_staff
    assert not created.is_superuser
    assert str(created.pk) == response.json()["id"]
