"""Races on committed transactions: two requests at once never make two of what there must be one of."""

import threading

import pytest
from django.db import connection, transaction

from hosting.models import Deployment, Site
from hosting.reconcile import store_reconcile
from oasis_common.testing import run_concurrently
from tests.conftest import SITE_FILES, client_for

pytestmark = [pytest.mark.concurrency, pytest.mark.django_db(transaction=True)]


def test_publishing_one_revision_twice_at_once_makes_one_deployment(projects, user_id, site_store):
    project_id = projects.add(user_id, SITE_FILES)
    site = client_for(user_id).post(
        "/api/v1/sites/", {"project_id": project_id, "slug": "racy-site"}, format="json"
    )
    url = f"/api/v1/sites/{site.json()['id']}/deployments/"

    responses = run_concurrently(
        6, lambda index: client_for(user_id).post(url, {}, format="json"), raise_errors=True
    )

    assert sorted(response.status_code for response in responses) == [200] * 5 + [201]
    assert len({response.json()["id"] for response in responses}) == 1
    assert Deployment.objects.count() == 1
    assert [path.name for path in (site_store.root / "deployments").iterdir()] == [responses[0].json()["id"]]
    assert site_store.live_target("racy-site") == responses[0].json()["id"]


def test_one_slug_claimed_twice_at_once_goes_to_one_site(projects, user_id, other_user_id):
    owners = [user_id, other_user_id]
    projects_of = [projects.add(owner, SITE_FILES) for owner in owners]

    def claim(index):
        body = {"project_id": projects_of[index], "slug": "wanted-name"}
        return client_for(owners[index]).post("/api/v1/sites/", body, format="json")

    responses = run_concurrently(2, claim, raise_errors=True)

    assert sorted(response.status_code for response in responses) == [201, 409]
    assert Site.objects.count() == 1


def test_the_site_limit_holds_under_concurrent_creations(projects, user_id, settings):
    settings.SITES = {**settings.SITES, "MAX_SITES_PER_USER": 2}
    project_id = projects.add(user_id, SITE_FILES)

    def create(index):
        body = {"project_id": project_id, "slug": f"site-number-{index}"}
        return client_for(user_id).post("/api/v1/sites/", body, format="json")

    responses = run_concurrently(4, create, raise_errors=True)

    assert sorted(response.status_code for response in responses) == [201, 201, 409, 409]
    assert Site.objects.count() == 2


def test_reconciling_while_a_publish_commits_leaves_the_new_deployment_live(projects, user_id, site_store):
    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL's row locks")
    project_id = projects.add(user_id, SITE_FILES)
    client = client_for(user_id)
    site_id = client.post("/api/v1/sites/", {"project_id": project_id, "slug": "busy-site"}, format="json")
    site_id = site_id.json()["id"]
    first = client.post(f"/api/v1/sites/{site_id}/deployments/", {}, format="json").json()["id"]
    switched, commit = threading.Event(), threading.Event()

    def publish_in_progress():
        # What a publish does: lock the row, switch the link, then commit the row.
        with transaction.atomic():
            site = Site.objects.select_for_update().get(pk=site_id)
            deployment = Deployment.objects.create(
                site=site, revision=99, file_count=0, size=0, published_by=user_id
            )
            site_store.deployment_put(deployment_id=str(deployment.pk), files=[])
            site_store.live_point(slug="busy-site", deployment_id=str(deployment.pk))
            site.live_deployment = deployment
            site.save(update_fields=["live_deployment"])
            switched.set()
            commit.wait(timeout=10)
        connection.close()
        return str(deployment.pk)

    results = []
    publisher = threading.Thread(target=lambda: results.append(publish_in_progress()))
    publisher.start()
    assert switched.wait(timeout=10)
    threading.Timer(0.3, commit.set).start()

    store_reconcile(files=site_store, grace_seconds=3600)
    publisher.join(timeout=10)

    assert results
    assert results[0] != first
    assert site_store.live_target("busy-site") == results[0]
