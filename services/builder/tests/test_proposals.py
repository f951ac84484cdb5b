"""Review before apply: a reviewed run ends `proposed`; its changes wait to be accepted or dropped."""

from datetime import timedelta

import pytest
from django.utils import timezone

from generations.models import Proposal, Status
from tests.conftest import client_for
from tests.test_runner import run, start

BASE = "/api/v1/builder"
SITE = {
    "index.html": "<!doctype html><title>Crumb</title><h1>Crumb</h1>\n",
    "style.css": "h1 { color: teal; }\n",
}


@pytest.fixture
def reviewed(demo, fakes, user_id):
    """A follow-up build of a project, held for review."""
    projects, _ = fakes
    project_id = projects.add(user_id, SITE)
    generation = run(
        start(user_id, project_id, prompt="change the title to Pastelaria", apply="review")["id"]
    )
    return {"project_id": project_id, "generation": generation, "api": client_for(user_id)}


def url(generation, action: str = "") -> str:
    return f"{BASE}/generations/{generation.id}/proposal/{action}"


def test_a_reviewed_run_ends_proposed_charged_and_applies_nothing(reviewed, fakes):
    projects, payments = fakes
    generation = reviewed["generation"]

    proposal = reviewed["api"].get(url(generation)).json()

    assert generation.status == Status.PROPOSED
    assert generation.revision is None
    assert projects.applied == []
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost > 0
    assert (proposal["state"], proposal["base_revision"], proposal["revision"]) == ("pending", 1, None)
    changed = {file["path"]: file for file in proposal["files"]}
    assert changed["index.html"]["action"] == "modified"
    assert "-<!doctype html><title>Crumb</title>" in changed["index.html"]["diff"]
    assert "Pastelaria" in changed["index.html"]["diff"]


def test_accepting_applies_one_revision_and_accepting_again_answers_the_same(reviewed, fakes):
    projects, _ = fakes
    api, generation = reviewed["api"], reviewed["generation"]

    first = api.post(url(generation, "accept/"), {}, format="json")
    again = api.post(url(generation, "accept/"), {}, format="json")

    assert first.status_code == 201, first.content
    assert again.status_code == 200
    assert first.json()["state"] == again.json()["state"] == "accepted"
    assert first.json()["revision"] == again.json()["revision"] == 2
    assert len(projects.applied) == 1
    assert "Pastelaria" in projects.projects[reviewed["project_id"]].files["index.html"]
    assert api.get(f"{BASE}/generations/{generation.id}/").json()["revision"] == 2


def test_accepting_some_files_applies_only_those(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)
    generation = run(start(user_id, project_id, apply="review")["id"])
    api = client_for(user_id)
    paths = sorted(file["path"] for file in api.get(url(generation)).json()["files"])

    response = api.post(url(generation, "accept/"), {"paths": ["index.html"]}, format="json")

    assert len(paths) >= 2
    assert response.status_code == 201
    assert response.json()["accepted_paths"] == ["index.html"]
    assert sorted(projects.projects[project_id].files) == ["index.html"]


def test_unknown_paths_are_a_400_and_apply_nothing(reviewed, fakes):
    projects, _ = fakes

    response = reviewed["api"].post(
        url(reviewed["generation"], "accept/"), {"paths": ["nope.html"]}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["error"]["details"] == {"paths": ["nope.html"]}
    assert projects.applied == []


def test_a_file_changed_meanwhile_is_a_409_naming_it_and_the_other_files_can_be_accepted(reviewed, fakes):
    projects, _ = fakes
    api, generation = reviewed["api"], reviewed["generation"]
    projects.user_writes(reviewed["project_id"], "index.html", "<h1>Changed by hand</h1>")

    stale = api.post(url(generation, "accept/"), {}, format="json")

    assert stale.status_code == 409
    assert stale.json()["error"]["code"] == "stale_base_revision"
    assert stale.json()["error"]["details"]["paths"] == ["index.html"]
    assert api.get(url(generation)).json()["state"] == "pending"
    assert projects.projects[reviewed["project_id"]].files["index.html"] == "<h1>Changed by hand</h1>"


def test_dismissing_keeps_the_charge_and_refuses_a_later_accept(reviewed, fakes):
    projects, payments = fakes
    api, generation = reviewed["api"], reviewed["generation"]

    dismissed = api.post(url(generation, "dismiss/"))
    accepted = api.post(url(generation, "accept/"), {}, format="json")

    assert dismissed.json()["state"] == "dismissed"
    assert accepted.status_code == 409
    assert accepted.json()["error"]["code"] == "proposal_dismissed"
    assert projects.applied == []
    assert payments.hold_for(generation.id)["captured_amount"] == generation.cost


def test_an_accepted_proposal_cannot_be_dismissed(reviewed):
    api, generation = reviewed["api"], reviewed["generation"]
    api.post(url(generation, "accept/"), {}, format="json")

    response = api.post(url(generation, "dismiss/"))

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "proposal_accepted"


def test_an_old_proposal_has_expired(reviewed, fakes):
    projects, _ = fakes
    api, generation = reviewed["api"], reviewed["generation"]
    Proposal.objects.filter(pk=generation.id).update(expires_at=timezone.now() - timedelta(seconds=1))

    shown = api.get(url(generation)).json()
    response = api.post(url(generation, "accept/"), {}, format="json")

    assert shown["state"] == "expired"
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "proposal_expired"
    assert projects.applied == []


def test_a_run_applied_at_once_has_no_proposal(demo, fakes, user_id):
    projects, _ = fakes
    generation = run(
        start(user_id, projects.add(user_id, SITE), prompt="change the title to Pastelaria")["id"]
    )

    response = client_for(user_id).get(url(generation))

    assert generation.status == Status.DONE
    assert response.status_code == 404


def test_another_users_proposal_is_not_found(reviewed, fakes, other_user_id):
    projects, _ = fakes
    stranger = client_for(other_user_id)
    generation = reviewed["generation"]

    for response in (
        stranger.get(url(generation)),
        stranger.post(url(generation, "accept/"), {}, format="json"),
        stranger.post(url(generation, "dismiss/")),
    ):
        assert response.status_code == 404
    assert projects.applied == []
    assert Proposal.objects.get().state == "pending"


def test_a_proposal_whose_project_is_gone_is_a_409(reviewed, fakes):
    projects, _ = fakes
    del projects.projects[reviewed["project_id"]]

    response = reviewed["api"].post(url(reviewed["generation"], "accept/"), {}, format="json")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "proposal_base_gone"
    assert Proposal.objects.get().state == "pending"
