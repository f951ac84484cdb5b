"""Takedowns from the Django admin: staff write a reason, the owner sees it, visitors get nothing."""

import pytest
from django.contrib.auth.models import User
from django.test import Client

from hosting.models import Site

PASSWORD = "a long admin passphrase"


@pytest.fixture
def admin(db):
    client = Client()
    client.force_login(User.objects.create_superuser("root", "root@example.com", PASSWORD))
    return client


def change_url(site) -> str:
    return f"/admin/hosting/site/{site['id']}/change/"


def take_down(admin, site, reason: str):
    return admin.post(change_url(site), {"disabled_reason": reason})


@pytest.mark.parametrize("model", ["site", "deployment", "domain"])
def test_the_changelists_open(admin, site, published, model):
    assert admin.get(f"/admin/hosting/{model}/").status_code == 200


@pytest.mark.parametrize("model", ["site", "deployment", "domain"])
def test_nothing_can_be_added_in_the_admin(admin, model):
    assert admin.get(f"/admin/hosting/{model}/add/").status_code == 403


def test_staff_take_a_site_down_with_a_reason_the_owner_sees(admin, api, site, published, site_store):
    response = take_down(admin, site, "Phishing page reported by a bank.")

    assert response.status_code == 302
    body = api.get(f"/api/v1/sites/{site['id']}/").json()
    assert body["status"] == "disabled"
    assert body["disabled_reason"] == "Phishing page reported by a bank."
    assert site_store.is_disabled("my-site")
    assert (site_store.root / "disabled" / "my-site").read_text() == "Phishing page reported by a bank."
    assert site_store.live_target("my-site") is None


@pytest.mark.parametrize(
    ("action", "body"),
    [("deployments/", {}), ("rollback/", {"deployment": "{deployment}"}), ("republish/", None)],
)
def test_a_disabled_site_cannot_be_published_again_by_its_owner(
    admin, api, site, published, site_store, action, body
):
    take_down(admin, site, "Malware.")
    if body:
        body = {key: value.format(deployment=published["id"]) for key, value in body.items()}

    response = api.post(f"/api/v1/sites/{site['id']}/{action}", body, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "site_disabled"
    assert response.json()["error"]["details"] == {"reason": "Malware."}
    assert site_store.live_target("my-site") is None


def test_emptying_the_reason_restores_the_site(admin, api, site, published, site_store):
    take_down(admin, site, "Mistaken report.")

    take_down(admin, site, "")

    assert api.get(f"/api/v1/sites/{site['id']}/").json()["status"] == "live"
    assert not site_store.is_disabled("my-site")
    assert site_store.live_target("my-site") == published["id"]


def test_a_restored_site_that_was_unpublished_stays_unpublished(admin, api, site, published, site_store):
    api.post(f"/api/v1/sites/{site['id']}/unpublish/")
    take_down(admin, site, "Spam.")

    take_down(admin, site, "")

    assert Site.objects.get().status == "unpublished"
    assert site_store.live_target("my-site") is None
