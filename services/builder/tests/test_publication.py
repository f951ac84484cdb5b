"""A finished run tells its client whether the project is published and whether its revision is live."""

import pytest

from generations.models import Event, Status
from generations.publication import publication_summary
from tests.test_runner import run, start


def done_event(generation) -> dict:
    return Event.objects.get(generation=generation, type="done").data


def test_a_build_on_a_published_project_says_which_revision_is_live_and_that_its_own_is_not(
    demo, fakes, user_id
):
    projects, _ = fakes
    project_id = projects.add(user_id, {"index.html": "<!doctype html><html lang='en'><h1>Hi</h1></html>"})
    site = projects.publish(project_id, revision=1)

    generation = run(start(user_id, project_id, prompt="make the background dark")["id"])

    assert generation.status == Status.DONE, generation.error_message
    done = done_event(generation)
    assert done["revision"] == 2
    assert done["publication"] == {"sites": [site]}
    assert done["published_revision"] == 1
    assert done["revision_is_live"] is False


def test_a_build_on_an_unpublished_project_has_no_published_revision(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id)

    done = done_event(run(start(user_id, project_id)["id"]))

    assert done["publication"] == {"sites": []}
    assert done["published_revision"] is None
    assert done["revision_is_live"] is False


def test_a_chat_run_reports_the_publication_it_started_from(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id, {"index.html": "<!doctype html><html lang='en'><h1>Hi</h1></html>"})
    site = projects.publish(project_id, revision=1)

    done = done_event(
        run(start(user_id, project_id, prompt="what colours does my site use?", mode="chat")["id"])
    )

    assert done["revision"] is None
    assert done["publication"] == {"sites": [site]}
    assert done["published_revision"] == 1
    assert done["revision_is_live"] is False


def test_a_run_that_landed_nothing_ends_without_a_publication(demo, fakes, user_id):
    projects, _ = fakes
    project_id = projects.add(user_id, {"index.html": "<!doctype html><html lang='en'><main></main></html>"})
    projects.publish(project_id, revision=1)
    generation_id = start(user_id, project_id, prompt="add a contact section")["id"]
    projects.user_writes(project_id, "index.html", "<!doctype html><html lang='en'><main>mine</main></html>")

    generation = run(generation_id)

    assert generation.status == Status.CONFLICT
    assert "publication" not in Event.objects.get(generation=generation, type="conflict").data


@pytest.mark.parametrize(
    ("sites", "revision", "published", "is_live"),
    [
        ([], 3, None, False),
        ([{"status": "live", "live_revision": 3}], 3, 3, True),
        ([{"status": "live", "live_revision": 2}, {"status": "live", "live_revision": 4}], 3, 4, False),
        ([{"status": "unpublished", "live_revision": None}], 3, None, False),
        ([{"status": "disabled", "live_revision": None}], None, None, False),
        ([{"status": "live", "live_revision": 3}], None, 3, False),
    ],
)
def test_the_summary_reads_the_live_sites_only(sites, revision, published, is_live):
    summary = publication_summary(publication={"sites": sites}, revision=revision)

    assert summary == {
        "publication": {"sites": sites},
        "published_revision": published,
        "revision_is_live": is_live,
    }


def test_an_answer_without_a_publication_reads_as_no_site():
    assert publication_summary(publication=None, revision=1) == {
        "publication": {"sites": []},
        "published_revision": None,
        "revision_is_live": False,
    }
