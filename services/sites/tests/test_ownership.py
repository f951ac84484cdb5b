"""The rule: another user's site, deployment, domain or project is a 404, decided before the body is read."""

import pytest

from hosting.models import Deployment, Domain, Site

# Every route that names a site, with a body that would be invalid: the 404 must come first.
ROUTES = [
    ("get", "{site}/", None),
    ("patch", "{site}/", {"slug": "-invalid-"}),
    ("delete", "{site}/", None),
    ("get", "{site}/deployments/", None),
    ("get", "{site}/deployments/{deployment}/", None),
    ("post", "{site}/deployments/", {"revision": "invalid"}),
    ("post", "{site}/rollback/", {"deployment": "invalid"}),
    ("post", "{site}/rollback/", {"deployment": "{deployment}"}),
    ("post", "{site}/unpublish/", None),
    ("post", "{site}/republish/", None),
    ("get", "{site}/domains/", None),
    ("post", "{site}/domains/", {"hostname": "-invalid-"}),
    ("get", "{site}/domains/{domain}/", None),
    ("delete", "{site}/domains/{domain}/", None),
    ("post", "{site}/domains/{domain}/verify/", None),
]


@pytest.fixture
def domain(api, site):
    response = api.post(
        f"/api/v1/sites/{site['id']}/domains/", {"hostname": "www.example.org"}, format="json"
    )
    return response.json()


@pytest.mark.parametrize(("method", "route", "body"), ROUTES)
def test_another_users_site_is_not_found(other_api, site, published, domain, site_store, method, route, body):
    ids = {"site": site["id"], "deployment": published["id"], "domain": domain["id"]}
    if body:
        body = {key: value.format(**ids) for key, value in body.items()}

    response = getattr(other_api, method)(f"/api/v1/sites/{route.format(**ids)}", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "site_not_found"
    assert Site.objects.get().slug == "my-site"
    assert Deployment.objects.count() == 1
    assert Domain.objects.count() == 1
    assert site_store.live_target("my-site") == published["id"]


@pytest.mark.parametrize(("method", "route", "body"), ROUTES)
def test_a_site_that_does_not_exist_is_not_found_the_same_way(api, method, route, body):
    ids = {
        "site": "00000000-0000-4000-8000-000000000000",
        "deployment": "00000000-0000-4000-8000-000000000001",
        "domain": "00000000-0000-4000-8000-000000000002",
    }
    if body:
        body = {key: value.format(**ids) for key, value in body.items()}

    response = getattr(api, method)(f"/api/v1/sites/{route.format(**ids)}", body, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "site_not_found"


def test_another_users_sites_are_not_listed(other_api, site):
    response = other_api.get("/api/v1/sites/")

    assert response.json()["results"] == []


def test_a_site_cannot_be_made_for_another_users_project(other_api, project_id):
    response = other_api.post("/api/v1/sites/", {"project_id": project_id, "slug": "stolen"}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"


@pytest.mark.parametrize("method", ["get", "delete"])
def test_a_domain_of_another_of_your_sites_is_not_found_on_this_one(api, project_id, site, domain, method):
    other = api.post("/api/v1/sites/", {"project_id": project_id, "slug": "other-site"}, format="json").json()

    response = getattr(api, method)(f"/api/v1/sites/{other['id']}/domains/{domain['id']}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "domain_not_found"
    assert Domain.objects.count() == 1
