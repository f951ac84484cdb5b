"""Published sites from an S3-compatible bucket, through the real gateway and a real sites service.

A system of its own (auth, projects, sites) with `OASIS_SITES_BUCKET` set: blobs go to an S3
server (moto's, over HTTP), what is live is the sites database's, and the gateway asks the sites
service for each file behind its cache (1 s here), serving custom domains on a port of their own.
"""

from __future__ import annotations

import json
import uuid

import pytest
import requests

from tests.e2e.buckets import bucket_system, s3_server
from tests.e2e.conftest import Client, bearer, eventually, fresh_ip, register
from tests.e2e.system import System, free_port
from tests.e2e.test_sites import FILES, STYLE, edit, project_with, publish, site_for, takedown

BUCKET = "oasis-sites-e2e"
CACHE_SECONDS = 1


@pytest.fixture(scope="module")
def s3():
    with s3_server(BUCKET) as server:
        yield server


@pytest.fixture(scope="module")
def system(tmp_path_factory, s3):
    custom_domains_port = free_port()
    running = System(
        root=tmp_path_factory.mktemp("bucket-system"),
        services=("auth", "projects", "sites"),
        **bucket_system(s3, cache_seconds=CACHE_SECONDS, custom_domains_port=custom_domains_port),
    )
    running.custom_domains_url = f"http://127.0.0.1:{custom_domains_port}"
    with running.running():
        yield running


@pytest.fixture
def gateway(system) -> Client:
    return Client(system.url, source_ip=fresh_ip())


@pytest.fixture
def auth(gateway) -> dict:
    return bearer(register(gateway)["access"])


@pytest.fixture
def published(gateway, auth) -> dict:
    project = project_with(gateway, auth, FILES)
    site = site_for(gateway, auth, project)
    return {"project": project, "site": site, "deployment": publish(gateway, auth, site)}


def visit(url: str, path: str, host: str | None = None, **headers) -> requests.Response:
    headers = {"Accept-Encoding": "identity", **headers}
    if host:
        headers["Host"] = host
    return requests.get(f"{url}{path}", headers=headers, allow_redirects=False, timeout=10)


def until(system, path: str, accept, host: str | None = None, what: str = "", **headers) -> requests.Response:
    """What a visitor gets once the gateway's cached answer has run out (within its cache time)."""
    return eventually(
        lambda: visit(system.url, path, host, **headers),
        accept,
        timeout=CACHE_SECONDS + 5,
        what=what or path,
    )


def test_a_publish_writes_blobs_to_the_bucket_and_visitors_get_the_files(system, s3, published):
    slug = published["site"]["slug"]

    page = visit(system.url, f"/s/{slug}/")
    style = visit(system.url, f"/s/{slug}/style.css", host=None, **{"Accept-Encoding": "gzip"})
    own_host = visit(system.url, "/about/", host=f"{slug}.{system.sites_domain}")
    keys = {entry["Key"] for entry in s3.client.list_objects_v2(Bucket=BUCKET)["Contents"]}

    assert page.status_code == 200
    assert page.text == FILES["index.html"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Content-Security-Policy"].startswith("sandbox")
    assert "Set-Cookie" not in page.headers
    assert page.headers["Cache-Control"].startswith("public, max-age=60")
    assert style.headers["Content-Encoding"] == "gzip"
    assert style.text == STYLE  # requests undoes the gzip
    assert own_host.text == FILES["about/index.html"]
    assert "Content-Security-Policy" not in own_host.headers
    assert len([key for key in keys if not key.endswith(".gz")]) >= len(FILES)


def test_files_revalidate_to_304_and_missing_pages_are_the_sites_own_404(system, published):
    slug = published["site"]["slug"]
    first = visit(system.url, f"/s/{slug}/style.css")

    again = visit(system.url, f"/s/{slug}/style.css", **{"If-None-Match": first.headers["ETag"]})
    lost = visit(system.url, f"/s/{slug}/no-such-page")
    unknown = visit(system.url, "/s/no-such-site-here/")
    dot = visit(system.url, f"/s/{slug}/.env")
    post = requests.post(f"{system.url}/s/{slug}/", timeout=10)

    assert first.headers["ETag"].startswith('"')  # strong: not W/
    assert again.status_code == 304
    assert (lost.status_code, lost.text) == (404, FILES["404.html"])
    assert unknown.status_code == 404
    assert "There is no published site" in unknown.text
    assert dot.status_code == 404
    assert post.status_code == 405


def test_edits_wait_for_a_publish_and_rollback_unpublish_and_takedown_reach_visitors(
    system, gateway, auth, published
):
    site, project = published["site"], published["project"]
    path = f"/s/{site['slug']}/"
    edit(gateway, auth, project, {"index.html": "<!doctype html><h1>Second edition</h1>"})

    unchanged = visit(system.url, path)
    second = publish(gateway, auth, site)
    until(system, path, lambda r: "Second edition" in r.text, what="the second deployment")
    first = {"deployment": published["deployment"]["id"]}
    rolled = gateway.post(f"/api/v1/sites/{site['id']}/rollback/", json=first, headers=auth)
    until(system, path, lambda r: "First edition" in r.text, what="the rollback")
    gateway.post(f"/api/v1/sites/{site['id']}/unpublish/", headers=auth)
    until(system, path, lambda r: r.status_code == 404, what="unpublished")
    gateway.post(f"/api/v1/sites/{site['id']}/republish/", headers=auth)
    until(system, path, lambda r: r.status_code == 200, what="republished")
    takedown(system, site, "disable")
    taken_down = until(system, path, lambda r: r.status_code == 451, what="taken down")
    takedown(system, site, "enable")
    until(system, path, lambda r: r.status_code == 200, what="restored")

    assert "First edition" in unchanged.text
    assert second["id"] != published["deployment"]["id"]
    assert rolled.status_code == 200, rolled.text
    assert "taken down" in taken_down.text


def test_a_custom_domain_is_served_on_its_port_only_once_verified_and_stops_when_removed(
    system, gateway, auth, dns, published
):
    site = published["site"]
    hostname = f"www.shop-{uuid.uuid4().hex[:8]}.example"
    domain = gateway.post(f"/api/v1/sites/{site['id']}/domains/", json={"hostname": hostname}, headers=auth)
    txt = next(record for record in domain.json()["records"] if record["type"] == "TXT")
    domains = system.custom_domains_url

    before = visit(domains, "/", host=hostname)
    dns.set(txt["name"], txt["value"])
    verified = gateway.post(f"/api/v1/sites/{site['id']}/domains/{domain.json()['id']}/verify/", headers=auth)
    served = eventually(
        lambda: visit(domains, "/", host=hostname),
        lambda r: r.status_code == 200,
        timeout=CACHE_SECONDS + 5,
        what="the verified domain",
    )
    no_api = visit(domains, "/api/v1/sites/", host=hostname, Authorization=auth["Authorization"])
    gateway.delete(f"/api/v1/sites/{site['id']}/domains/{domain.json()['id']}/", headers=auth)
    removed = eventually(
        lambda: visit(domains, "/", host=hostname),
        lambda r: r.status_code == 404,
        timeout=CACHE_SECONDS + 5,
        what="the removed domain",
    )

    assert before.status_code == 404
    assert verified.json()["status"] == "verified"
    assert served.text == FILES["index.html"]
    assert no_api.status_code == 404
    assert no_api.headers["Content-Type"].startswith("text/html")
    assert "There is no published site" in removed.text


def test_the_gateway_asks_the_service_once_per_file_and_cache_time_not_per_visitor(system, published):
    path = f"/s/{published['site']['slug']}/about/"
    visit(system.url, path)
    log = system.logs / "sites.log"
    before = len(_serve_lines(log))

    for _ in range(200):
        assert visit(system.url, path).status_code == 200

    asked = len(_serve_lines(log)) - before
    # One request of the cache's, at most, for each cache time the loop lasted (a few seconds).
    assert asked <= 10, f"{asked} requests reached the sites service for 200 visits"


def _serve_lines(log) -> list[dict]:
    lines = []
    for line in log.read_text(errors="replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if str(record.get("path", "")).startswith("/serve/"):
            lines.append(record)
    return lines
