"""Publication: the sites service tells projects what each site serves; the project API shows it."""

import uuid

import pytest

from oasis_common.testing import error_of, service_token_for
from tests.conftest import client_for
from tests.helpers import PROJECTS, create_project, project_url, text

SITE_ID = "5a1e0000-0000-4000-8000-000000000001"
OTHER_SITE_ID = "5a1e0000-0000-4000-8000-000000000002"


@pytest.fixture
def sites(db):
    return client_for(service_token_for("sites", "projects"))


def publication_url(project: dict, owner_id) -> str:
    return f"/internal/v1/projects/{project['id']}/publication?owner_id={owner_id}"


def state(*, slug="my-site", revision: int | None = 1, status="live") -> dict:
    return {
        "slug": slug,
        "url": f"https://{slug}.sites.example.com/",
        "live_revision": revision,
        "status": status,
    }


def tell(sites, project, owner_id, *, site_id=SITE_ID, version=1, **overrides):
    body = {"site_id": site_id, "version": version, "state": state(**overrides)}
    return sites.put(publication_url(project, owner_id), body, format="json")


def site_summary(*, site_id=SITE_ID, slug="my-site", revision: int | None = 1, status="live") -> dict:
    return {"id": site_id, **state(slug=slug, revision=revision, status=status)}


def test_a_project_with_no_site_shows_an_empty_publication(ada, project):
    assert ada.get(project_url(project)).json()["publication"] == {"sites": []}


def test_the_project_shows_the_site_and_revision_sites_said_are_live(ada, sites, landing):
    response = tell(sites, landing, ada.user_id)

    assert response.status_code == 200, response.content
    assert response.json() == {"sites": [site_summary()]}
    assert ada.get(project_url(landing)).json()["publication"] == {"sites": [site_summary()]}
    assert ada.get(PROJECTS).json()["results"][0]["publication"] == {"sites": [site_summary()]}


def test_a_newer_version_replaces_the_state_and_an_older_one_changes_nothing(ada, sites, landing):
    tell(sites, landing, ada.user_id, version=1, revision=1)
    tell(sites, landing, ada.user_id, version=3, revision=3)

    late = tell(sites, landing, ada.user_id, version=2, revision=2)

    assert late.status_code == 200
    assert late.json() == {"sites": [site_summary(revision=3)]}


def test_repeating_a_message_is_harmless(ada, sites, landing):
    first = tell(sites, landing, ada.user_id, version=4)
    again = tell(sites, landing, ada.user_id, version=4)

    assert first.json() == again.json() == {"sites": [site_summary()]}


def test_an_unpublished_or_disabled_site_has_no_live_revision(ada, sites, landing):
    tell(sites, landing, ada.user_id, version=1, revision=1)
    tell(sites, landing, ada.user_id, site_id=OTHER_SITE_ID, slug="other", version=1, revision=1)

    tell(sites, landing, ada.user_id, version=2, revision=1, status="unpublished")
    tell(
        sites,
        landing,
        ada.user_id,
        site_id=OTHER_SITE_ID,
        slug="other",
        version=2,
        revision=1,
        status="disabled",
    )

    assert ada.get(project_url(landing)).json()["publication"] == {
        "sites": [
            site_summary(revision=None, status="unpublished"),
            site_summary(site_id=OTHER_SITE_ID, slug="other", revision=None, status="disabled"),
        ]
    }


def test_a_deleted_site_disappears_and_a_late_older_message_does_not_bring_it_back(ada, sites, landing):
    tell(sites, landing, ada.user_id, version=1)
    removed = sites.put(
        publication_url(landing, ada.user_id),
        {"site_id": SITE_ID, "version": 2, "state": None},
        format="json",
    )

    late = tell(sites, landing, ada.user_id, version=1)

    assert removed.json() == late.json() == {"sites": []}
    assert ada.get(project_url(landing)).json()["publication"] == {"sites": []}


def test_another_owners_project_is_not_found_before_the_body_is_read(sites, grace, landing):
    response = sites.put(publication_url(landing, grace.user_id), {"nonsense": True}, format="json")

    error_of(response, 404, "not_found")


def test_a_bad_state_is_refused_with_its_fields(ada, sites, landing):
    body = {"site_id": "x", "version": 0, "state": {**state(), "status": "removed"}}

    error = error_of(sites.put(publication_url(landing, ada.user_id), body, format="json"), 400)

    assert {"site_id", "version", "state"} <= set(error["details"])


def test_only_a_service_may_tell_projects_what_a_site_serves(ada, landing):
    response = ada.put(
        publication_url(landing, ada.user_id),
        {"site_id": SITE_ID, "version": 1, "state": state()},
        format="json",
    )

    error_of(response, 401)


def test_deleting_the_project_drops_its_copy(ada, sites, landing):
    tell(sites, landing, ada.user_id)

    assert ada.delete(project_url(landing)).status_code == 204

    error_of(tell(sites, landing, ada.user_id, version=2), 404)


def test_the_list_costs_the_same_queries_with_sites_on_every_project(ada, sites, django_assert_num_queries):
    for index in range(10):
        project = create_project(ada, f"p{index}")
        tell(sites, project, ada.user_id, site_id=str(uuid.uuid4()), slug=f"site-{index}")
        tell(sites, project, ada.user_id, site_id=str(uuid.uuid4()), slug=f"more-{index}")

    with django_assert_num_queries(3):  # count + page + every page's sites
        response = ada.get(PROJECTS)

    assert all(len(item["publication"]["sites"]) == 2 for item in response.json()["results"])


def test_the_builder_learns_the_publication_when_it_lands_a_revision(ada, sites, builder, landing):
    tell(sites, landing, ada.user_id, revision=1)

    response = builder.post(
        f"/internal/v1/projects/{landing['id']}/changes",
        {
            "owner_id": str(ada.user_id),
            "generation_id": "gen-publication",
            "base_revision": 1,
            "message": "A new page",
            "writes": [text("about.html", "<h1>About</h1>")],
        },
        format="json",
        HTTP_IDEMPOTENCY_KEY="generation:gen-publication",
    )

    assert response.status_code == 201, response.content
    assert response.json()["number"] == 2
    assert response.json()["publication"] == {"sites": [site_summary(revision=1)]}


def test_the_snapshot_carries_the_publication(ada, sites, builder, landing):
    tell(sites, landing, ada.user_id, revision=1)

    response = builder.get(f"/internal/v1/projects/{landing['id']}/snapshot", {"owner_id": str(ada.user_id)})

    assert response.json()["publication"] == {"sites": [site_summary(revision=1)]}
