"""Sites: made for your project with a free, valid name; listed, read, renamed and deleted by you alone."""

import pytest

from hosting.models import Deployment, Site

SITES = "/api/v1/sites/"


def create(api, project_id, slug="my-site"):
    return api.post(SITES, {"project_id": str(project_id), "slug": slug}, format="json")


def test_a_site_is_created_unpublished_for_your_project(api, project_id):
    response = create(api, project_id)

    assert response.status_code == 201
    body = response.json()
    assert body["slug"] == "my-site"
    assert body["project_id"] == str(project_id)
    assert body["status"] == "unpublished"
    assert body["live_deployment"] is None
    assert body["live_revision"] is None
    assert body["urls"] == ["https://my-site.sites.example.com/", "https://oasis.example.com/s/my-site/"]


def test_a_site_for_another_users_project_is_refused_as_not_found(api, projects, other_user_id):
    theirs = projects.add(other_user_id, {"index.html": b"theirs"})

    response = create(api, theirs)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"
    assert not Site.objects.exists()


def test_creating_a_site_while_projects_is_down_is_a_503_and_creates_nothing(api, projects, project_id):
    projects.down = True

    response = create(api, project_id)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert not Site.objects.exists()


def test_a_taken_site_name_is_a_conflict(api, other_api, projects, project_id, other_user_id):
    assert create(api, project_id).status_code == 201
    theirs = projects.add(other_user_id, {"index.html": b"theirs"})

    response = create(other_api, theirs)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "slug_taken"
    assert "slug" in response.json()["error"]["details"]


def test_the_number_of_sites_per_user_is_limited(api, project_id, settings):
    settings.SITES = {**settings.SITES, "MAX_SITES_PER_USER": 2}
    for slug in ("one-site", "two-site"):
        assert create(api, project_id, slug).status_code == 201

    response = create(api, project_id, "three-site")

    assert response.status_code == 409
    assert response.json()["error"] == {
        "code": "site_limit_reached",
        "message": "You have as many sites as you may. Delete one before creating another.",
        "details": {"limit": 2},
        "request_id": response.json()["error"]["request_id"],
    }


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"slug": "my-site"}, "project_id"),
        ({"project_id": "not-a-uuid", "slug": "my-site"}, "project_id"),
        ({"project_id": "{project_id}"}, "slug"),
        ({"project_id": "{project_id}", "slug": "www"}, "slug"),
        ({"project_id": "{project_id}", "slug": "No Spaces"}, "slug"),
        ({"project_id": "{project_id}", "slug": 42}, "slug"),
    ],
)
def test_bad_input_names_the_field_and_creates_nothing(api, project_id, body, field):
    body = {
        key: value.format(project_id=project_id) if isinstance(value, str) else value
        for key, value in body.items()
    }

    response = api.post(SITES, body, format="json")

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "validation_error"
    assert field in response.json()["error"]["details"]
    assert not Site.objects.exists()


def test_you_list_only_your_sites_in_a_fixed_number_of_queries(
    api, other_api, projects, project_id, other_user_id, django_assert_num_queries
):
    for slug in ("site-one", "site-two", "site-three"):
        create(api, project_id, slug)
    site_id = Site.objects.get(slug="site-two").pk
    api.post(f"{SITES}{site_id}/deployments/", {}, format="json")
    create(other_api, projects.add(other_user_id, {"a.html": b"a"}), "their-site")

    with django_assert_num_queries(3):
        response = api.get(SITES)

    assert response.status_code == 200
    assert [site["slug"] for site in response.json()["results"]] == ["site-three", "site-two", "site-one"]
    assert response.json()["results"][1]["live_revision"] == 1


def test_renaming_a_site_moves_its_address_and_its_live_link(api, site, published, site_store):
    response = api.patch(f"{SITES}{site['id']}/", {"slug": "new-name"}, format="json")

    assert response.status_code == 200
    assert response.json()["slug"] == "new-name"
    assert response.json()["urls"][0] == "https://new-name.sites.example.com/"
    assert site_store.live_target("new-name") == published["id"]
    assert site_store.live_target("my-site") is None


def test_renaming_to_a_taken_or_bad_name_changes_nothing(api, project_id, site, site_store):
    create(api, project_id, "other-site")

    taken = api.patch(f"{SITES}{site['id']}/", {"slug": "other-site"}, format="json")
    bad = api.patch(f"{SITES}{site['id']}/", {"slug": "-bad-"}, format="json")

    assert (taken.status_code, taken.json()["error"]["code"]) == (409, "slug_taken")
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "validation_error")
    assert Site.objects.get(pk=site["id"]).slug == "my-site"


def test_renaming_to_the_same_name_is_harmless(api, site):
    response = api.patch(f"{SITES}{site['id']}/", {"slug": "my-site"}, format="json")

    assert response.status_code == 200
    assert response.json()["slug"] == "my-site"


def test_deleting_a_site_takes_it_offline_and_removes_its_deployments(api, site, published, site_store):
    response = api.delete(f"{SITES}{site['id']}/")

    assert response.status_code == 204
    assert not Site.objects.exists()
    assert not Deployment.objects.exists()
    assert site_store.live_target("my-site") is None
    assert not site_store.deployment_path(published["id"]).exists()


def test_a_deleted_sites_name_can_be_used_again(api, project_id, site):
    api.delete(f"{SITES}{site['id']}/")

    assert create(api, project_id).status_code == 201


def test_one_site_is_read_with_its_status(api, site, published):
    response = api.get(f"{SITES}{site['id']}/")

    assert response.status_code == 200
    assert response.json()["status"] == "live"
    assert response.json()["live_deployment"]["id"] == published["id"]
    assert response.json()["live_revision"] == 1


# ---- rolling back, unpublishing, republishing ----


def two_deployments(api, site, projects, project_id):
    first = api.post(f"{SITES}{site['id']}/deployments/", {}, format="json").json()
    projects.commit(project_id, {"index.html": b"two"})
    second = api.post(f"{SITES}{site['id']}/deployments/", {}, format="json").json()
    return first, second


def test_rolling_back_points_the_site_at_an_earlier_deployment_in_one_request(
    api, site, projects, project_id, site_store
):
    first, second = two_deployments(api, site, projects, project_id)

    response = api.post(f"{SITES}{site['id']}/rollback/", {"deployment": first["id"]}, format="json")

    assert response.status_code == 200
    assert response.json()["live_deployment"]["id"] == first["id"]
    assert response.json()["live_revision"] == 1
    assert site_store.live_target("my-site") == first["id"]
    assert site_store.deployment_path(second["id"]).is_dir()


def test_rolling_back_to_another_sites_deployment_is_not_found(api, project_id, site, projects):
    other = create(api, project_id, "other-site").json()
    theirs = api.post(f"{SITES}{other['id']}/deployments/", {}, format="json").json()

    response = api.post(f"{SITES}{site['id']}/rollback/", {"deployment": theirs["id"]}, format="json")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deployment_not_found"


@pytest.mark.parametrize("body", [{}, {"deployment": "nope"}, {"deployment": None}])
def test_rolling_back_without_a_deployment_id_is_refused(api, site, published, body):
    response = api.post(f"{SITES}{site['id']}/rollback/", body, format="json")

    assert response.status_code == 400
    assert "deployment" in response.json()["error"]["details"]


def test_unpublishing_stops_serving_and_republishing_serves_the_same_deployment(
    api, site, published, site_store
):
    unpublished = api.post(f"{SITES}{site['id']}/unpublish/")

    assert unpublished.status_code == 200
    assert unpublished.json()["status"] == "unpublished"
    assert site_store.live_target("my-site") is None
    assert not site_store.live_path("my-site").exists()

    republished = api.post(f"{SITES}{site['id']}/republish/")

    assert republished.status_code == 200
    assert republished.json()["status"] == "live"
    assert site_store.live_target("my-site") == published["id"]


def test_unpublishing_twice_is_harmless(api, site, published):
    api.post(f"{SITES}{site['id']}/unpublish/")

    response = api.post(f"{SITES}{site['id']}/unpublish/")

    assert response.status_code == 200
    assert response.json()["status"] == "unpublished"


def test_republishing_a_site_never_published_is_not_found(api, site):
    response = api.post(f"{SITES}{site['id']}/republish/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deployment_not_found"


def test_publishing_an_unpublished_site_makes_it_live_again(api, site, published, site_store):
    api.post(f"{SITES}{site['id']}/unpublish/")

    response = api.post(f"{SITES}{site['id']}/deployments/", {}, format="json")

    assert response.status_code == 200
    assert site_store.live_target("my-site") == published["id"]


def test_a_gateway_on_its_own_port_puts_the_port_in_every_address(api, project_id, settings):
    settings.SITES = {**settings.SITES, "PUBLIC_URL": "http://localhost:8080", "SITE_SCHEME": "http"}

    body = api.post("/api/v1/sites/", {"project_id": project_id, "slug": "my-site"}, format="json").json()

    assert body["urls"] == ["http://my-site.sites.example.com:8080/", "http://localhost:8080/s/my-site/"]
