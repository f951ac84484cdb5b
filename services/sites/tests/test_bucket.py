"""A bucket as the site store: blobs there, what is live in rows, the files the gateway asks for."""

import contextlib
import gzip
import io
import uuid

import pytest
from django.core.management import call_command
from django.test import Client
from moto import mock_aws

from hosting import bucket
from hosting.bucket import BucketStore
from hosting.store import StoreNotWritable, blob_etag, store
from hosting.takedowns import site_disable, site_enable
from tests.conftest import SITE_FILES
from tests.peers import sha
from tests.test_domains import add, prove, verify

SITES = "/api/v1/sites/"
BUCKET = "oasis-sites-test"
FILES = {**SITE_FILES, "docs/index.html": b"<!doctype html><h1>Docs</h1>", ".env": b"SECRET=1"}


@pytest.fixture(scope="module")
def _aws():
    """S3 as moto fakes it in process, for the whole module (starting it costs most of a second)."""
    with mock_aws():
        bucket.bucket_store.cache_clear()
        yield
    bucket.bucket_store.cache_clear()


@pytest.fixture
def s3(_aws, settings):
    """An empty bucket as the site store."""
    settings.SITES = {
        **settings.SITES,
        "BUCKET": BUCKET,
        "S3_REGION": "us-east-1",
        "S3_ACCESS_KEY_ID": "test-key",
        "S3_SECRET_ACCESS_KEY": "test-secret",
    }
    files = store()
    with contextlib.suppress(files.client.exceptions.BucketAlreadyOwnedByYou):
        files.client.create_bucket(Bucket=BUCKET)
    for page in files.client.get_paginator("list_objects_v2").paginate(Bucket=BUCKET):
        for entry in page.get("Contents", []):
            files.client.delete_object(Bucket=BUCKET, Key=entry["Key"])
    return files


@pytest.fixture
def projects(s3, projects):
    """Projects faked after the bucket: moto's own request mock must not hide this one."""
    return projects


@pytest.fixture
def project_id(projects, user_id):
    return projects.add(user_id, FILES)


@pytest.fixture
def site(api, project_id, s3):
    response = api.post(SITES, {"project_id": project_id, "slug": "my-site"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def publish(api, site, **body):
    response = api.post(f"{SITES}{site['id']}/deployments/", body, format="json")
    assert response.status_code in (200, 201), response.content
    return response.json()


def visit(path: str, **headers):
    return Client().get(f"/serve/site/my-site/{path}", headers=headers)


def body_of(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def keys(s3: BucketStore) -> set[str]:
    listing = s3.client.list_objects_v2(Bucket=BUCKET, Prefix="blobs/")
    return {entry["Key"] for entry in listing.get("Contents", [])}


def test_the_store_is_the_bucket_when_one_is_named(s3):
    assert isinstance(s3, BucketStore)


def test_publishing_writes_each_blob_once_with_its_gzip_form_where_worth_it(api, site, s3):
    publish(api, site)

    blobs = {f"blobs/{sha(data)}" for data in FILES.values()}
    assert keys(s3) == blobs | {f"blobs/{sha(FILES['index.html'])}.gz"}
    stored = s3.client.get_object(Bucket=BUCKET, Key=f"blobs/{sha(FILES['css/site.css'])}")
    assert stored["Body"].read() == FILES["css/site.css"]


def test_a_visitor_gets_each_live_file_with_its_type_and_strong_etag(api, site):
    publish(api, site)

    for path, content_type in (("css/site.css", "text/css"), ("img/dot.png", "image/png")):
        response = visit(path)
        data = FILES[path]
        assert response.status_code == 200
        assert response["Content-Type"].startswith(content_type)
        assert response["ETag"] == blob_etag(sha(data), len(data))
        assert response["Content-Length"] == str(len(data))
        assert body_of(response) == data


def test_folders_answer_with_their_index_as_try_files_does(api, site):
    publish(api, site)

    assert body_of(visit("")) == FILES["index.html"]
    assert body_of(visit("docs/")) == FILES["docs/index.html"]
    assert body_of(visit("docs")) == FILES["docs/index.html"]


def test_a_current_copy_is_answered_not_modified(api, site):
    publish(api, site)
    etag = visit("css/site.css")["ETag"]

    response = visit("css/site.css", if_none_match=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag
    assert visit("css/site.css", if_none_match='"other"').status_code == 200


def test_a_visitor_taking_gzip_gets_the_stored_gzip_form(api, site):
    publish(api, site)

    response = visit("", accept_encoding="br, gzip")

    assert response["Content-Encoding"] == "gzip"
    packed = body_of(response)
    assert gzip.decompress(packed) == FILES["index.html"]
    assert response["ETag"] == blob_etag(sha(FILES["index.html"]), len(packed))
    # Small files have no gzip form: their bytes as they are.
    small = visit("css/site.css", accept_encoding="gzip")
    assert not small.has_header("Content-Encoding")


@pytest.mark.parametrize("path", ["missing.html", ".env", "docs/../.env", "%2e%2e/secret", "a//b"])
def test_what_the_deployment_does_not_serve_is_an_empty_404(api, site, path):
    publish(api, site)

    response = visit(path)

    assert response.status_code == 404
    assert response.content == b""


def test_only_reading_is_allowed(api, site):
    publish(api, site)

    assert Client().post("/serve/site/my-site/index.html").status_code == 405
    head = Client().head("/serve/site/my-site/css/site.css")
    assert head.status_code == 200
    assert head["Content-Length"] == str(len(FILES["css/site.css"]))


def test_an_edit_changes_nothing_live_until_published_and_a_rollback_brings_back_the_old(
    api, site, projects, project_id
):
    first = publish(api, site)
    projects.commit(project_id, {**FILES, "index.html": b"<h1>Second</h1>"})
    assert body_of(visit("")) == FILES["index.html"]

    publish(api, site)
    assert body_of(visit("")) == b"<h1>Second</h1>"

    response = api.post(f"{SITES}{site['id']}/rollback/", {"deployment": first["id"]}, format="json")
    assert response.status_code == 200
    assert body_of(visit("")) == FILES["index.html"]


def test_unpublished_sites_answer_404_and_taken_down_ones_451(api, site):
    publish(api, site)
    assert visit("").status_code == 200

    api.post(f"{SITES}{site['id']}/unpublish/")
    assert visit("").status_code == 404
    api.post(f"{SITES}{site['id']}/republish/")
    assert visit("").status_code == 200

    site_disable(site_id=uuid.UUID(site["id"]), reason="Phishing")
    assert visit("").status_code == 451
    site_enable(site_id=uuid.UUID(site["id"]))
    assert visit("").status_code == 200
    assert Client().get("/serve/site/no-such-site/").status_code == 404


def test_a_custom_domain_is_served_once_verified_and_no_longer_once_removed(api, site, dns):
    publish(api, site)
    domain = add(api, site).json()

    def host_visit():
        return Client().get("/serve/host/www.example.org/css/site.css")

    assert host_visit().status_code == 404
    prove(dns, domain)
    verify(api, site, domain)
    assert body_of(host_visit()) == FILES["css/site.css"]

    api.delete(f"{SITES}{site['id']}/domains/{domain['id']}/")
    assert host_visit().status_code == 404


def test_a_file_costs_two_queries(api, site, django_assert_num_queries):
    publish(api, site)

    with django_assert_num_queries(2):
        response = visit("docs")
    assert response.status_code == 200


def test_a_blob_the_bucket_lost_is_a_503_until_the_store_is_rebuilt(api, site, s3, projects):
    publish(api, site)
    s3.client.delete_object(Bucket=BUCKET, Key=f"blobs/{sha(FILES['css/site.css'])}")

    lost = visit("css/site.css")
    assert lost.status_code == 503
    assert lost["Retry-After"]

    call_command("rebuild_site_store", stdout=io.StringIO())
    assert body_of(visit("css/site.css")) == FILES["css/site.css"]


def test_pruning_removes_only_blobs_no_deployment_names(api, site, s3):
    publish(api, site)
    s3.client.put_object(Bucket=BUCKET, Key=f"blobs/{'0' * 64}", Body=b"orphan")
    s3.client.put_object(Bucket=BUCKET, Key=f"blobs/{'0' * 64}.gz", Body=b"orphan")

    assert s3.blobs_prune(grace_seconds=3600) == 0
    assert s3.blobs_prune(grace_seconds=0) == 2

    assert f"blobs/{'0' * 64}" not in keys(s3)
    assert body_of(visit("css/site.css")) == FILES["css/site.css"]


def test_a_blob_found_while_publishing_is_touched_so_no_prune_takes_it(s3):
    s3.client.put_object(Bucket=BUCKET, Key=f"blobs/{'1' * 64}", Body=b"kept")
    before = s3.client.head_object(Bucket=BUCKET, Key=f"blobs/{'1' * 64}")

    assert s3.blobs_missing(["1" * 64, "2" * 64]) == {"2" * 64}

    after = s3.client.head_object(Bucket=BUCKET, Key=f"blobs/{'1' * 64}")
    assert after["Metadata"]["touched"]
    assert after["LastModified"] >= before["LastModified"]
    assert s3.client.get_object(Bucket=BUCKET, Key=f"blobs/{'1' * 64}")["Body"].read() == b"kept"


def test_the_bucket_taking_writes_makes_the_service_ready(s3, settings):
    s3.writable_check()

    settings.SITES = {**settings.SITES, "BUCKET": "no-such-bucket"}
    with pytest.raises(StoreNotWritable, match="no-such-bucket"):
        store().writable_check()


def test_reconciling_a_bucket_has_no_links_to_set(api, site, s3):
    publish(api, site)
    out = io.StringIO()

    call_command("reconcile_site_store", stdout=out)

    assert "Set 0 link(s)" in out.getvalue()


def test_revalidating_a_plain_copy_does_not_read_the_bucket(api, site, s3, monkeypatch):
    publish(api, site)
    etag = visit("css/site.css")["ETag"]
    monkeypatch.setattr(type(s3), "blob_stream", lambda *args, **kwargs: pytest.fail("the bucket was read"))

    response = visit("css/site.css", if_none_match=etag)

    assert response.status_code == 304
    assert response["ETag"] == etag
