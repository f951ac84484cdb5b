"""Publishing: a revision becomes an immutable deployment, made live at once, all or nothing."""

import pytest

import hosting.store
from hosting.models import Deployment, DeploymentFile, Site
from hosting.store import FilesystemStore, blob_mtime
from tests.conftest import SITE_FILES
from tests.peers import sha

SITES = "/api/v1/sites/"


def deployments_url(site) -> str:
    return f"{SITES}{site['id']}/deployments/"


def publish(api, site, **body):
    return api.post(deployments_url(site), body, format="json")


def served(site_store, slug: str) -> dict[str, bytes]:
    """What a visitor of `slug` gets, file by file, following the live link as the gateway would."""
    root = site_store.live_path(slug)
    return {
        str(path.relative_to(root)): path.read_bytes()
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.name.endswith(".gz")
    }


def test_publishing_copies_the_current_revision_and_makes_it_live(api, site, site_store, user_id):
    response = publish(api, site)

    assert response.status_code == 201
    body = response.json()
    assert body["revision"] == 1
    assert body["file_count"] == len(SITE_FILES)
    assert body["size"] == sum(len(data) for data in SITE_FILES.values())
    assert body["published_by"] == str(user_id)
    assert body["live"] is True
    assert served(site_store, "my-site") == SITE_FILES
    assert site_store.live_target("my-site") == body["id"]
    assert api.get(f"{SITES}{site['id']}/").json()["status"] == "live"


def test_publishing_the_same_revision_again_gives_the_same_deployment(api, site, published):
    again = publish(api, site)
    explicit = publish(api, site, revision=1)

    assert again.status_code == explicit.status_code == 200
    assert again.json()["id"] == explicit.json()["id"] == published["id"]
    assert Deployment.objects.count() == 1


def test_a_deployment_never_changes_when_the_project_does(
    api, site, published, projects, project_id, site_store
):
    projects.commit(project_id, {**SITE_FILES, "index.html": b"<h1>Changed</h1>"})

    assert served(site_store, "my-site") == SITE_FILES
    assert api.get(f"{SITES}{site['id']}/").json()["live_revision"] == 1


def test_publishing_a_new_revision_fetches_only_the_files_the_store_lacks(
    api, site, published, projects, project_id, site_store
):
    changed = {**SITE_FILES, "index.html": b"<h1>Version two</h1>"}
    projects.commit(project_id, changed)
    projects.blob_requests.clear()

    response = publish(api, site)

    assert response.status_code == 201
    assert response.json()["revision"] == 2
    assert projects.blob_requests == [[sha(b"<h1>Version two</h1>")]]
    assert served(site_store, "my-site") == changed
    assert site_store.deployment_path(published["id"]).is_dir()


def test_an_earlier_revision_can_be_published(api, site, projects, project_id, site_store):
    projects.commit(project_id, {"index.html": b"two"})

    response = publish(api, site, revision=1)

    assert response.status_code == 201
    assert response.json()["revision"] == 1
    assert served(site_store, "my-site") == SITE_FILES


def test_files_are_fetched_in_bounded_batches(api, site, projects, settings, site_store):
    settings.SITES = {**settings.SITES, "FETCH_BATCH_FILES": 2, "FETCH_BATCH_BYTES": 1}

    response = publish(api, site)

    assert response.status_code == 201
    assert [len(batch) for batch in projects.blob_requests] == [2, 2, 1]
    assert served(site_store, "my-site") == SITE_FILES


def test_a_revision_that_does_not_exist_is_not_found(api, site):
    response = publish(api, site, revision=7)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "revision_not_found"
    assert not Deployment.objects.exists()


def test_a_project_deleted_since_the_site_was_made_is_not_found(api, site, projects, project_id):
    del projects.projects[project_id]

    response = publish(api, site)

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "project_not_found"


@pytest.mark.parametrize("body", [{"revision": 0}, {"revision": "two"}, {"revision": -1}])
def test_a_bad_revision_is_refused(api, site, body):
    response = publish(api, site, **body)

    assert response.status_code == 400
    assert "revision" in response.json()["error"]["details"]


def test_projects_down_during_a_publish_is_a_503_and_the_previous_deployment_stays_live(
    api, site, published, projects, project_id, site_store
):
    projects.commit(project_id, {"index.html": b"two"})
    projects.down = True

    response = publish(api, site)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert site_store.live_target("my-site") == published["id"]


def test_a_store_write_failing_midway_leaves_the_previous_deployment_live_and_no_broken_row(
    api, site, published, projects, project_id, site_store, monkeypatch
):
    projects.commit(project_id, {"index.html": b"two", "about.html": b"about", "more.html": b"more"})
    writes = []
    original = FilesystemStore.blob_put

    def failing_second_write(self, **kwargs):
        writes.append(kwargs["sha256"])
        if len(writes) == 2:
            raise OSError(28, "No space left on device")
        return original(self, **kwargs)

    monkeypatch.setattr(FilesystemStore, "blob_put", failing_second_write)

    response = publish(api, site)

    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert site_store.live_target("my-site") == published["id"]
    assert served(site_store, "my-site") == SITE_FILES
    assert [path.name for path in (site_store.root / "deployments").iterdir()] == [published["id"]]


def test_a_failure_while_linking_the_tree_leaves_no_partial_tree(
    api, site, published, projects, project_id, site_store, monkeypatch
):
    projects.commit(project_id, {"index.html": b"two", "about.html": b"about"})
    calls = []
    original = hosting.store.os.link

    def failing_link(source, destination):
        calls.append(destination)
        if len(calls) == 2:
            raise OSError(5, "Input/output error")
        return original(source, destination)

    monkeypatch.setattr(hosting.store.os, "link", failing_link)

    response = publish(api, site)

    assert response.status_code == 500
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert [path.name for path in (site_store.root / "deployments").iterdir()] == [published["id"]]
    assert site_store.live_target("my-site") == published["id"]


def test_a_failure_recording_the_deployment_removes_its_tree_and_keeps_the_old_one_live(
    api, site, published, projects, project_id, site_store, monkeypatch
):
    projects.commit(project_id, {"index.html": b"two"})

    def broken_bulk_create(*args, **kwargs):
        raise RuntimeError("the database went away")

    monkeypatch.setattr(DeploymentFile.objects, "bulk_create", broken_bulk_create)

    response = publish(api, site)

    assert response.status_code == 500
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert [path.name for path in (site_store.root / "deployments").iterdir()] == [published["id"]]
    assert site_store.live_target("my-site") == published["id"]


def test_a_failed_link_switch_rolls_the_deployment_back(
    api, site, published, projects, project_id, site_store, monkeypatch
):
    projects.commit(project_id, {"index.html": b"two"})

    def broken_switch(self, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(FilesystemStore, "live_point", broken_switch)

    response = publish(api, site)

    assert response.status_code == 500
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert Site.objects.get().live_deployment_id is not None
    assert str(Site.objects.get().live_deployment_id) == published["id"]
    assert site_store.live_target("my-site") == published["id"]


def test_too_many_files_are_refused_before_anything_is_copied(api, site, projects, settings, site_store):
    settings.SITES = {**settings.SITES, "MAX_FILES_PER_DEPLOYMENT": 2}

    response = publish(api, site)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "deployment_too_many_files"
    assert response.json()["error"]["details"] == {"limit": 2, "files": 3}
    assert projects.blob_requests == []
    assert not Deployment.objects.exists()


def test_too_many_bytes_are_refused_before_anything_is_copied(api, site, projects, settings):
    settings.SITES = {**settings.SITES, "MAX_BYTES_PER_DEPLOYMENT": 100}

    response = publish(api, site)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "deployment_too_large"
    assert projects.blob_requests == []


def test_only_the_newest_deployments_are_kept(api, site, projects, project_id, settings, site_store):
    settings.SITES = {**settings.SITES, "DEPLOYMENTS_KEPT_PER_SITE": 2}
    first = publish(api, site).json()
    for number in (2, 3):
        projects.commit(project_id, {"index.html": f"version {number}".encode()})
        publish(api, site)

    assert set(Deployment.objects.values_list("revision", flat=True)) == {2, 3}
    assert not site_store.deployment_path(first["id"]).exists()
    assert served(site_store, "my-site") == {"index.html": b"version 3"}


def test_deployments_are_listed_newest_first_in_a_fixed_number_of_queries(
    api, site, projects, project_id, user_id, django_assert_num_queries
):
    publish(api, site)
    projects.commit(project_id, {"index.html": b"two"})
    publish(api, site)

    with django_assert_num_queries(3):
        response = api.get(deployments_url(site))

    assert response.status_code == 200
    rows = response.json()["results"]
    assert [(row["revision"], row["live"]) for row in rows] == [(2, True), (1, False)]
    assert rows[1]["file_count"] == 3
    assert rows[1]["published_by"] == str(user_id)
    assert set(rows[0]) == {"id", "revision", "file_count", "size", "published_by", "created_at", "live"}


def test_one_deployment_is_read_with_every_file_it_serves_in_a_fixed_number_of_queries(
    api, site, published, django_assert_num_queries
):
    with django_assert_num_queries(3):
        response = api.get(f"{deployments_url(site)}{published['id']}/")

    assert response.status_code == 200, response.content
    body = response.json()
    assert {key: body[key] for key in ("id", "revision", "file_count", "live")} == {
        "id": published["id"],
        "revision": 1,
        "file_count": 3,
        "live": True,
    }
    index = SITE_FILES["index.html"]
    assert [file["path"] for file in body["files"]] == ["css/site.css", "img/dot.png", "index.html"]
    assert body["files"][2] == {
        "path": "index.html",
        "size": len(index),
        "content_type": "text/html",
        "sha256": sha(index),
        "etag": f'"{blob_mtime(sha(index)):x}-{len(index):x}"',
    }


def test_the_etag_of_a_file_is_the_one_its_stored_bytes_are_served_with(api, site, published, site_store):
    """nginx's ETag is `"<mtime hex>-<size hex>"` of the file it sends: the linked blob."""
    response = api.get(f"{deployments_url(site)}{published['id']}/")

    for file in response.json()["files"]:
        stat = (site_store.deployment_path(published["id"]) / file["path"]).stat()
        assert file["etag"] == f'"{int(stat.st_mtime):x}-{stat.st_size:x}"'


def test_an_earlier_deployment_is_read_as_not_live(api, site, published, projects, project_id):
    projects.commit(project_id, {"index.html": b"two"})
    publish(api, site)

    response = api.get(f"{deployments_url(site)}{published['id']}/")

    assert response.json()["live"] is False
    assert len(response.json()["files"]) == 3


def test_a_deployment_that_does_not_exist_is_not_found(api, site, published):
    response = api.get(f"{deployments_url(site)}00000000-0000-4000-8000-000000000001/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deployment_not_found"


def test_a_deployment_of_another_of_your_sites_is_not_found_on_this_one(api, site, published, project_id):
    other = api.post(SITES, {"project_id": project_id, "slug": "other-site"}, format="json").json()

    response = api.get(f"{deployments_url(other)}{published['id']}/")

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "deployment_not_found"


def test_a_project_without_files_has_nothing_to_publish(api, projects, user_id):
    empty = projects.add(user_id)
    site = api.post(SITES, {"project_id": empty, "slug": "empty-site"}, format="json").json()

    response = publish(api, site)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "nothing_to_publish"
    assert not Deployment.objects.exists()


def test_projects_dying_midway_through_the_files_leaves_nothing_half_published(
    api, site, published, projects, project_id, settings, site_store
):
    projects.commit(project_id, {"a.html": b"a", "b.html": b"b", "c.html": b"c"})
    settings.SITES = {**settings.SITES, "FETCH_BATCH_FILES": 1}
    projects.blob_requests.clear()
    projects.blobs_fail_after = 2

    response = publish(api, site)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "service_unavailable"
    assert list(Deployment.objects.values_list("revision", flat=True)) == [1]
    assert [path.name for path in (site_store.root / "deployments").iterdir()] == [published["id"]]
    assert site_store.live_target("my-site") == published["id"]

    projects.blobs_fail_after = None
    retried = publish(api, site)

    assert retried.status_code == 201
    # The blobs the failed attempt stored are not fetched again.
    assert len(projects.blob_requests) == 2 + 1
    assert served(site_store, "my-site") == {"a.html": b"a", "b.html": b"b", "c.html": b"c"}


@pytest.mark.parametrize("path", ["../escape.html", "/etc/passwd", "a//b.html", "a/./b.html", "x\\y.html"])
def test_a_path_from_projects_that_could_escape_the_store_is_refused(
    api, site, projects, project_id, site_store, path
):
    projects.commit(project_id, {path: b"sneaky", "index.html": b"ok"})

    response = publish(api, site)

    assert response.status_code == 503
    assert not Deployment.objects.exists()
    assert list((site_store.root / "deployments").iterdir()) == []
    assert not list(site_store.root.parent.glob("**/escape.html"))
