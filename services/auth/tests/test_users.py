"""The user model and the account operations in accounts/users.py, below the HTTP layer."""

import uuid

import pytest
from django.db import IntegrityError, transaction
from rest_framework.exceptions import ValidationError

from accounts import users
from accounts.models import User
from tests.helpers import PASSWORD


def test_users_have_uuid_primary_keys(user):
    assert isinstance(user.pk, uuid.UUID)


def test_the_database_refuses_an_email_differing_only_in_case(user):
    # Rows written around the manager (raw ORM, data migrations) are still guarded.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="ADA@example.com")


def test_create_user_normalises_the_email(db):
    created = User.objects.create_user(" Ada@Example.COM ", PASSWORD)

    assert created.email == "ada@example.com"


def test_the_natural_key_lookup_ignores_case(user):
    assert User.objects.get_by_natural_key("ADA@Example.com") == user


def test_create_superuser_grants_staff_and_superuser(db):
    admin = User.objects.create_superuser("root@example.com", PASSWORD)

    assert admin.is_staff
    assert admin.is_superuser


def test_user_register_refuses_a_taken_email(user):
    with pytest.raises(ValidationError) as raised:
        users.user_register(email="Ada@Example.com", password=PASSWORD)

    assert "email" in raised.value.detail


def test_user_register_turns_a_lost_race_into_a_validation_error(user, monkeypatch):
    # The existence check passed for both racers; the constraint decides.
    monkeypatch.setattr(User.objects, "filter", lambda **kwargs: User.objects.none())

    with pytest.raises(ValidationError) as raised:
        users.user_register(email="ada@example.com", password=PASSWORD)

    assert "email" in raised.value.detail
    assert User.objects.count() == 1


def test_user_authenticate_returns_the_user_for_the_right_password(user):
    assert users.user_authenticate(email="ADA@example.com", password=PASSWORD) == user


@pytest.mark.parametrize(
    ("email", "password", "active"),
    [
        ("ada@example.com", "wrong password", True),
        ("nobody@example.com", PASSWORD, True),
        ("ada@example.com", PASSWORD, False),
    ],
    ids=["wrong-password", "unknown-email", "inactive"],
)
def test_user_authenticate_returns_none(make_user, email, password, active):
    make_user(is_active=active)

    assert users.user_authenticate(email=email, password=password) is None


def test_user_authenticate_hashes_even_for_an_unknown_email(db, monkeypatch):
    hashed = []
    original = User.set_password
    monkeypatch.setattr(User, "set_password", lambda self, raw: hashed.append(raw) or original(self, raw))

    users.user_authenticate(email="nobody@example.com", password="guess")

    assert hashed == ["guess"]


def test_user_update_changes_only_what_is_given(user):
    users.user_update(user=user, name="Ada Lovelace")

    user.refresh_from_db()
    assert user.name == "Ada Lovelace"
    assert user.email == "ada@example.com"


def test_user_update_refuses_an_email_taken_in_another_case(user, other_user):
    with pytest.raises(ValidationError) as raised:
        users.user_update(user=user, email="GRACE@example.com")

    assert "email" in raised.value.detail
    user.refresh_from_db()
    assert user.email == "ada@example.com"
