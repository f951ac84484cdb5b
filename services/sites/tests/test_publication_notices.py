"""Sites tells projects what each site serves after every change, and repairs what projects missed."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.test import TestCase

from hosting.models import RemovedSite, Site
from hosting.takedowns import site_disable, site_enable
from tests.conftest import SITE_FILES
from tests.test_domains import add, domains_url, prove, verify

SITES = "/api/v1/sites/"


def shown(projects, project_id) -> list[dict]:
    return projects.sites_of(project_id)


def live(site, revision: int | None, *, status="live", slug="my-site") -> dict:
    return {
        "id": site["id"],
        "slug": slug,
        "url": f"https://{slug}.sites.example.com/",
        "live_revision": revision,
        "status": status,
    }


def send(**options) -> str:
    out = io.StringIO()
    call_command("send_site_publications", stdout=out, **options)
    return out.getvalue()


def test_creating_a_site_tells_projects_nothing_yet(projects, project_id, site):
    assert projects.publication_requests == []


def test_publishing_tells_projects_the_site_and_its_live_revision(projects, project_id, site, published):
    assert shown(projects, project_id) == [live(site, 1)]
    assert len(projects.publication_requests) == 1


def test_publishing_a_newer_revision_moves_the_live_revision(api, projects, project_id, site, published):
    projects.commit(project_id, {**SITE_FILES, "about.html": b"<h1>About</h1>"})

    assert api.post(f"{SITES}{site['id']}/deployments/", {}, format="json").status_code == 201

    assert shown(projects, project_id) == [live(site, 2)]


@pytest.mark.parametrize(
    ("action", "expected"),
    [
        ("unpublish", {"live_revision": None, "status": "unpublished"}),
        ("republish", {"live_revision": 2, "status": "live"}),
        ("rollback", {"live_revision": 1, "status": "live"}),
    ],
)
def test_every_change_of_the_live_deployment_reaches_projects(
    api, projects, project_id, site, published, action, expected
):
    projects.commit(project_id, {**SITE_FILES, "about.html": b"<h1>About</h1>"})
    api.post(f"{SITES}{site['id']}/deployments/", {}, format="json")
    if action == "republish":
        api.post(f"{SITES}{site['id']}/unpublish/", {}, format="json")
    body = {"deployment": published["id"]} if action == "rollback" else {}

    assert api.post(f"{SITES}{site['id']}/{action}/", body, format="json").status_code == 200

    assert shown(projects, project_id) == [{**live(site, None), **expected}]


def test_renaming_a_site_tells_projects_its_new_address(api, projects, project_id, site, published):
    assert api.patch(f"{SITES}{site['id']}/", {"slug": "new-name"}, format="json").status_code == 200

    assert shown(projects, project_id) == [live(site, 1, slug="new-name")]


def test_deleting_a_site_removes_it_from_the_project(api, projects, project_id, site, published):
    assert api.delete(f"{SITES}{site['id']}/").status_code == 204

    assert shown(projects, project_id) == []
    assert not RemovedSite.objects.exists()


def test_a_takedown_and_its_lifting_reach_projects(projects, project_id, site, published):
    with TestCase.captureOnCommitCallbacks(execute=True):
        site_disable(site_id=site["id"], reason="Phishing")
    assert shown(projects, project_id) == [live(site, None, status="disabled")]

    with TestCase.captureOnCommitCallbacks(execute=True):
        site_enable(site_id=site["id"])
    assert shown(projects, project_id) == [live(site, 1)]


def test_every_message_carries_a_newer_version(api, projects, project_id, site, published):
    api.post(f"{SITES}{site['id']}/unpublish/", {}, format="json")
    api.post(f"{SITES}{site['id']}/republish/", {}, format="json")

    assert [message["version"] for message in projects.publication_requests] == [1, 2, 3]


# ---- projects unreachable ----


def test_a_publish_succeeds_while_projects_cannot_take_the_news_and_is_repaired_later(
    api, projects, project_id, site
):
    projects.publication_down = True

    response = api.post(f"{SITES}{site['id']}/deployments/", {}, format="json")

    assert response.status_code == 201
    assert shown(projects, project_id) == []
    unsent = Site.objects.get(pk=site["id"])
    assert unsent.publication_sent < unsent.publication_version

    projects.publication_down = False
    assert send() == "Sent 1 site state(s) to projects.\n"

    assert shown(projects, project_id) == [live(site, 1)]
    assert send() == "Sent 0 site state(s) to projects.\n"


def test_unpublishing_while_projects_is_down_succeeds_and_is_repaired_later(
    api, projects, project_id, site, published
):
    projects.down = True

    assert api.post(f"{SITES}{site['id']}/unpublish/", {}, format="json").status_code == 200
    assert shown(projects, project_id) == [live(site, 1)]

    with pytest.raises(CommandError, match="1 could not be sent"):
        send()
    projects.down = False
    send()

    assert shown(projects, project_id) == [live(site, None, status="unpublished")]


def test_a_deletion_projects_missed_is_sent_again(api, projects, project_id, site, published):
    projects.publication_down = True
    assert api.delete(f"{SITES}{site['id']}/").status_code == 204
    assert RemovedSite.objects.filter(pk=site["id"]).exists()

    projects.publication_down = False
    send()

    assert shown(projects, project_id) == []
    assert not RemovedSite.objects.exists()


def test_a_deleted_project_needs_no_news(api, projects, project_id, site, published):
    del projects.projects[project_id]

    assert api.post(f"{SITES}{site['id']}/unpublish/", {}, format="json").status_code == 200

    confirmed = Site.objects.get(pk=site["id"])
    assert confirmed.publication_sent == confirmed.publication_version


def test_all_sends_every_sites_state_again(projects, project_id, site, published):
    projects.publications.clear()

    assert send(everything=True) == "Sent 1 site state(s) to projects.\n"

    assert shown(projects, project_id) == [live(site, 1)]


def test_a_verified_domain_becomes_the_address_projects_shows_and_removing_it_reverts(
    api, projects, project_id, site, published, dns
):
    domain = add(api, site).json()
    prove(dns, domain)

    assert verify(api, site, domain).status_code == 200
    assert shown(projects, project_id) == [{**live(site, 1), "url": "https://www.example.org/"}]

    assert api.delete(f"{domains_url(site)}{domain['id']}/").status_code == 204
    assert shown(projects, project_id) == [live(site, 1)]


def test_the_reconciling_round_also_sends_what_projects_missed(api, site, projects, monkeypatch):
    Site.objects.filter(pk=site["id"]).update(publication_version=5, publication_sent=4)
    out = io.StringIO()

    call_command("reconcile_site_store", stdout=out, grace=0)

    assert "Sent 1 site state(s) to projects, 0 to retry." in out.getvalue()
    assert Site.objects.get(pk=site["id"]).publication_sent == 5
