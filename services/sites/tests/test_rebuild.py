"""Rebuilding the store from the database: lost blobs fetched again, lost trees and links made again."""

import io
import shutil

import pytest
from django.core.management import CommandError, call_command

from hosting import rebuild as rebuild_module
from hosting.models import Deployment
from hosting.takedowns import site_disable
from tests.conftest import SITE_FILES
from tests.peers import sha

SITES = "/api/v1/sites/"
INTACT = (
    "Checked 1 deployment(s): fetched 0 blob(s), built 0 tree(s), restored 0 file(s). "
    "Set 0 link(s), removed 0, removed 0 unrecorded tree(s).\n"
)


def rebuild(**options) -> str:
    out = io.StringIO()
    call_command("rebuild_site_store", stdout=out, **{"grace": 0, **options})
    return out.getvalue()


def served(site_store, slug: str) -> dict[str, bytes]:
    """What a visitor of `slug` gets, following the live link as the gateway would."""
    root = site_store.live_path(slug)
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".gz")
    }


def test_rebuilding_an_intact_store_changes_nothing_and_asks_projects_nothing(
    published, projects, site_store
):
    requests_before = len(projects.blob_requests)

    assert rebuild() == INTACT

    assert len(projects.blob_requests) == requests_before
    assert served(site_store, "my-site") == SITE_FILES


def test_a_lost_blob_is_fetched_again_from_projects_and_only_it(published, projects, site_store):
    lost = sha(SITE_FILES["css/site.css"])
    site_store.blob_path(lost).unlink()

    output = rebuild()

    assert output.startswith(
        "Checked 1 deployment(s): fetched 1 blob(s), built 0 tree(s), restored 0 file(s)."
    )
    assert projects.blob_requests[-1] == [lost]
    assert site_store.blob_path(lost).read_bytes() == SITE_FILES["css/site.css"]


def test_a_lost_live_tree_and_link_are_made_again(published, projects, site_store):
    site_store.deployment_delete(deployment_id=published["id"])
    site_store.live_remove(slug="my-site")

    output = rebuild()

    assert output == (
        "Checked 1 deployment(s): fetched 0 blob(s), built 1 tree(s), restored 0 file(s). "
        "Set 1 link(s), removed 0, removed 0 unrecorded tree(s).\n"
    )
    assert site_store.live_target("my-site") == published["id"]
    assert served(site_store, "my-site") == SITE_FILES
    # The compressed sibling comes back with the tree, for the gateway's gzip_static.
    assert (site_store.deployment_path(published["id"]) / "index.html.gz").is_file()


def test_files_lost_from_a_tree_are_linked_back_and_the_rest_left_alone(published, projects, site_store):
    tree = site_store.deployment_path(published["id"])
    kept_inode = (tree / "index.html").stat().st_ino
    (tree / "img" / "dot.png").unlink()
    site_store.blob_path(sha(SITE_FILES["img/dot.png"])).unlink()

    output = rebuild()

    assert output.startswith(
        "Checked 1 deployment(s): fetched 1 blob(s), built 0 tree(s), restored 1 file(s)."
    )
    assert served(site_store, "my-site") == SITE_FILES
    assert (tree / "index.html").stat().st_ino == kept_inode


def test_a_store_lost_whole_is_rebuilt_with_every_recorded_deployment(
    api, site, published, projects, project_id, site_store
):
    projects.commit(project_id, {"index.html": b"version two"})
    second = api.post(f"{SITES}{site['id']}/deployments/", {}, format="json").json()
    for folder in site_store.root.iterdir():
        shutil.rmtree(folder)
    for folder in ("blobs", "deployments", "live", "hosts", "disabled", "domains", "domain-takedowns"):
        (site_store.root / folder).mkdir()

    output = rebuild()

    assert output.startswith(
        "Checked 2 deployment(s): fetched 4 blob(s), built 2 tree(s), restored 0 file(s)."
    )
    assert site_store.live_target("my-site") == second["id"]
    assert served(site_store, "my-site") == {"index.html": b"version two"}
    # The earlier deployment is whole again, so rolling back to it serves its files.
    rolled = api.post(f"{SITES}{site['id']}/rollback/", {"deployment": published["id"]}, format="json")
    assert rolled.status_code == 200, rolled.content
    assert served(site_store, "my-site") == SITE_FILES


def test_a_taken_down_sites_marker_comes_back_with_its_files(site, published, projects, site_store):
    site_disable(site_id=site["id"], reason="Phishing")
    site_store.disabled_clear(slug="my-site")
    site_store.deployment_delete(deployment_id=published["id"])

    rebuild()

    assert site_store.is_disabled("my-site")
    assert site_store.deployment_path(published["id"]).is_dir()


def test_a_deployment_projects_cannot_give_back_is_named_and_the_others_are_rebuilt(
    api, published, projects, user_id, site_store
):
    other_project = projects.add(user_id, {"index.html": b"another site"})
    other_site = api.post(SITES, {"project_id": other_project, "slug": "other-site"}, format="json").json()
    other = api.post(f"{SITES}{other_site['id']}/deployments/", {}, format="json").json()
    for deployment_id in (published["id"], other["id"]):
        site_store.deployment_delete(deployment_id=deployment_id)
    site_store.blob_path(sha(b"another site")).unlink()
    del projects.projects[other_project]

    with pytest.raises(CommandError) as failure:
        rebuild()

    assert f"Could not rebuild 1 deployment(s): {other['id']}: projects no longer has" in str(failure.value)
    assert served(site_store, "my-site") == SITE_FILES
    assert not site_store.deployment_path(other["id"]).exists()


def test_projects_down_fails_the_rebuild_loudly_and_a_later_one_completes_it(published, projects, site_store):
    site_store.deployment_delete(deployment_id=published["id"])
    site_store.blob_path(sha(SITE_FILES["index.html"])).unlink()
    projects.down = True

    with pytest.raises(CommandError, match=rf"{published['id']}: projects did not answer"):
        rebuild()
    assert not site_store.deployment_path(published["id"]).exists()

    projects.down = False
    rebuild()

    assert served(site_store, "my-site") == SITE_FILES


def test_a_deployment_pruned_while_it_is_rebuilt_leaves_no_tree(published, projects, site_store, monkeypatch):
    site_store.deployment_delete(deployment_id=published["id"])
    copy = rebuild_module.blobs_copy

    def copy_then_prune(**kwargs):
        # A publish prunes this deployment between the rebuild's read and its write.
        Deployment.objects.filter(pk=published["id"]).delete()
        return copy(**kwargs)

    monkeypatch.setattr(rebuild_module, "blobs_copy", copy_then_prune)

    rebuild()

    assert not site_store.deployment_path(published["id"]).exists()


def test_a_negative_grace_is_refused(db):
    with pytest.raises(CommandError, match="--grace"):
        rebuild(grace=-1)
