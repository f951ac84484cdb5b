"""Django admin for users and API keys: it opens, and what it changes takes effect at verify at once."""

import pytest

from accounts.models import User
from apikeys.models import ApiKey
from tests.conftest import client_for
from tests.helpers import NEW_PASSWORD, PASSWORD, error_of, refresh, sign_in, verify


@pytest.fixture
def admin(client, db):
    superuser = User.objects.create_superuser("root@example.com", PASSWORD)
    client.force_login(superuser)
    return client


@pytest.fixture
def api_key(tokens, api):
    response = client_for(tokens["access"]).post("/api/v1/auth/api-keys/", {"name": "script"}, format="json")
    assert response.status_code == 201
    created = response.json()
    assert verify(api, created["key"]).status_code == 200  # the owner is now cached
    return created


def change_form(user: User, **changes) -> dict:
    form = {
        "email": user.email,
        "name": user.name,
        "is_active": "on" if user.is_active else "",
        "is_staff": "on" if user.is_staff else "",
        "is_superuser": "on" if user.is_superuser else "",
        **changes,
    }
    return {name: value for name, value in form.items() if value != ""}


def test_the_user_changelist_opens_and_lists_users(admin, user):
    response = admin.get("/admin/accounts/user/")

    assert response.status_code == 200
    assert b"ada@example.com" in response.content


def test_the_user_changelist_searches_by_email(admin, user, other_user):
    response = admin.get("/admin/accounts/user/", {"q": "grace"})

    assert b"grace@example.com" in response.content
    assert b"ada@example.com" not in response.content


def test_the_user_change_page_opens(admin, user):
    response = admin.get(f"/admin/accounts/user/{user.pk}/change/")

    assert response.status_code == 200
    assert b"ada@example.com" in response.content


def test_the_user_add_page_creates_a_user_who_can_sign_in(admin, api, db):
    response = admin.post(
        "/admin/accounts/user/add/",
        {
            "email": "Grace@Example.com",
            "name": "Grace",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )

    assert response.status_code == 302, response.content
    created = User.objects.get(email__iexact="grace@example.com")
    assert created.email == "grace@example.com"
    assert sign_in(api, "grace@example.com").status_code == 200


def test_the_admin_refuses_a_duplicate_email_in_another_case(admin, user):
    response = admin.post(
        "/admin/accounts/user/add/",
        {
            "email": "ADA@example.com",
            "name": "Copy",
            "password1": PASSWORD,
            "password2": PASSWORD,
            "usable_password": "true",
        },
    )

    assert response.status_code == 200
    assert User.objects.count() == 2


def test_the_api_key_changelist_and_change_page_open(admin, api_key):
    assert admin.get("/admin/apikeys/apikey/").status_code == 200
    response = admin.get(f"/admin/apikeys/apikey/{api_key['id']}/change/")

    assert response.status_code == 200
    assert api_key["key"].encode() not in response.content


def test_api_keys_cannot_be_added_in_the_admin(admin, db):
    assert admin.get("/admin/apikeys/apikey/add/").status_code == 403


def test_deleting_an_api_key_in_the_admin_invalidates_it(admin, api, api_key):
    response = admin.post(f"/admin/apikeys/apikey/{api_key['id']}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not ApiKey.objects.filter(pk=api_key["id"]).exists()
    error_of(verify(api, api_key["key"]), 401, "not_authenticated")


def test_bulk_deleting_api_keys_in_the_admin_invalidates_them(admin, api, api_key):
    response = admin.post(
        "/admin/apikeys/apikey/",
        {"action": "delete_selected", "_selected_action": [api_key["id"]], "post": "yes"},
    )

    assert response.status_code == 302
    assert not ApiKey.objects.exists()
    error_of(verify(api, api_key["key"]), 401, "not_authenticated")


def test_deactivating_a_user_in_the_admin_refuses_their_tokens_at_once(admin, api, user, tokens):
    assert verify(api, tokens["access"]).status_code == 200  # a cutoff is cached

    response = admin.post(f"/admin/accounts/user/{user.pk}/change/", change_form(user, is_active=""))

    assert response.status_code == 302, response.content
    error_of(verify(api, tokens["access"]), 401, "not_authenticated")
    error_of(refresh(api, tokens["refresh"]), 401)


def test_reactivating_a_user_does_not_revive_tokens_from_before(admin, api, user, tokens):
    admin.post(f"/admin/accounts/user/{user.pk}/change/", change_form(user, is_active=""))
    user.refresh_from_db()

    admin.post(f"/admin/accounts/user/{user.pk}/change/", change_form(user, is_active="on"))

    error_of(verify(api, tokens["access"]), 401, "not_authenticated")
    error_of(refresh(api, tokens["refresh"]), 401)
    assert sign_in(api).status_code == 200


def test_setting_a_password_in_the_admin_revokes_every_older_token(admin, api, user, tokens):
    assert verify(api, tokens["access"]).status_code == 200

    response = admin.post(
        f"/admin/accounts/user/{user.pk}/password/",
        {"password1": NEW_PASSWORD, "password2": NEW_PASSWORD, "usable_password": "true"},
    )

    assert response.status_code == 302, response.content
    assert sign_in(api, password=NEW_PASSWORD).status_code == 200
    error_of(verify(api, tokens["access"]), 401, "not_authenticated")
    error_of(refresh(api, tokens["refresh"]), 401)


def test_deleting_a_user_in_the_admin_refuses_their_tokens_at_once(admin, api, user, tokens):
    assert verify(api, tokens["access"]).status_code == 200

    response = admin.post(f"/admin/accounts/user/{user.pk}/delete/", {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=user.pk).exists()
    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_bulk_deleting_users_in_the_admin_refuses_their_tokens_at_once(admin, api, user, tokens):
    assert verify(api, tokens["access"]).status_code == 200

    admin.post(
        "/admin/accounts/user/",
        {"action": "delete_selected", "_selected_action": [str(user.pk)], "post": "yes"},
    )

    assert not User.objects.filter(pk=user.pk).exists()
    error_of(verify(api, tokens["access"]), 401, "not_authenticated")


def test_a_user_who_is_not_staff_cannot_open_the_admin(client, user):
    client.force_login(user)

    response = client.get("/admin/accounts/user/")

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_staff_without_permissions_cannot_change_users(client, make_user, user):
    staff = make_user("staff@example.com", is_staff=True)
    client.force_login(staff)

    assert client.get(f"/admin/accounts/user/{user.pk}/change/").status_code == 403
