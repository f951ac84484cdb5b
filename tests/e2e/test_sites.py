"""Published sites through the real gateway: publishing, visiting, custom domains, takedowns, caching."""

from __future__ import annotations

import uuid

import pytest
import requests

from tests.e2e.conftest import bearer, register, sign_in
from tests.e2e.system import SERVICES

pytestmark = pytest.mark.skipif(
    not {"projects", "sites"} <= set(SERVICES), reason="the projects and sites services are not started"
)

PROJECTS = "/api/v1/projects/"
SITES = "/api/v1/sites/"
SANDBOX = "sandbox allow-scripts allow-forms allow-popups allow-modals"
# Over 1 KiB of text: the store keeps a gzip form of it beside it.
STYLE = "".join(f".rule-{n} {{ color: #{n:06x}; margin: {n % 17}px; }}\n" for n in range(400))
FILES = {
    "index.html": "<!doctype html><h1>First edition</h1>",
    "about/index.html": "<!doctype html><h1>About us</h1>",
    "style.css": STYLE,
    "404.html": "<!doctype html><h1>Our own lost page</h1>",
}


@pytest.fixture
def auth(account) -> dict:
    return bearer(account["access"])


def visit(system, path: str, host: str | None = None, **headers) -> requests.Response:
    """What a visitor gets: no credentials, no cookies, no redirects followed."""
    headers = {"Accept-Encoding": "identity", **headers}
    if host:
        headers["Host"] = host
    return requests.get(f"{system.url}{path}", headers=headers, allow_redirects=False, timeout=10)


def subdomain(system, site: dict) -> str:
    return f"{site['slug']}.{system.sites_domain}"


def project_with(gateway, auth, files: dict[str, str]) -> dict:
    project = gateway.post(PROJECTS, json={"name": "Shop"}, headers=auth)
    assert project.status_code == 201, project.text
    edit(gateway, auth, project.json(), files)
    return project.json()


def edit(gateway, auth, project: dict, files: dict[str, str]) -> int:
    writes = [{"path": path, "text": text} for path, text in files.items()]
    response = gateway.post(f"{PROJECTS}{project['id']}/changes/", json={"writes": writes}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()["number"]


def site_for(gateway, auth, project: dict) -> dict:
    slug = f"shop-{uuid.uuid4().hex[:10]}"
    response = gateway.post(SITES, json={"project_id": project["id"], "slug": slug}, headers=auth)
    assert response.status_code == 201, response.text
    return response.json()


def publish(gateway, auth, site: dict, **body) -> dict:
    response = gateway.post(f"{SITES}{site['id']}/deployments/", json=body, headers=auth)
    assert response.status_code in (200, 201), response.text
    return response.json()


@pytest.fixture
def published(gateway, auth) -> dict:
    """A live site of a project with a home page, a folder page, a large stylesheet and its own 404 page."""
    project = project_with(gateway, auth, FILES)
    site = site_for(gateway, auth, project)
    deployment = publish(gateway, auth, site)
    return {"project": project, "site": site, "deployment": deployment}


def takedown(system, site: dict, action: str) -> None:
    """As staff do it from the admin: through the sites service's own takedown functions."""
    call = (
        f"site_disable(site_id='{site['id']}', reason='Phishing')"
        if action == "disable"
        else (f"site_enable(site_id='{site['id']}')")
    )
    system.manage("sites", "shell", "-c", f"from hosting.takedowns import site_disable, site_enable; {call}")


# ---- publishing and visiting ----


def test_a_published_site_is_served_at_its_path_and_at_its_own_host(system, published):
    site = published["site"]

    at_path = visit(system, f"/s/{site['slug']}/")
    at_host = visit(system, "/", host=subdomain(system, site))
    folder = visit(system, f"/s/{site['slug']}/about/")
    bare = visit(system, f"/s/{site['slug']}")

    assert at_path.status_code == 200
    assert "First edition" in at_path.text
    assert at_path.headers["Content-Type"].startswith("text/html")
    assert at_path.headers["Content-Security-Policy"].startswith(SANDBOX)
    assert "allow-same-origin" not in at_path.headers["Content-Security-Policy"]
    assert at_host.status_code == 200
    assert at_host.text == at_path.text
    assert "Content-Security-Policy" not in at_host.headers
    assert "About us" in folder.text
    assert bare.status_code == 301
    assert bare.headers["Location"] == f"/s/{site['slug']}/"
    assert site["urls"][-2:] == [
        f"http://{subdomain(system, site)}:{system.gateway_port}/",
        f"{system.url}/s/{site['slug']}/",
    ]


def test_edits_wait_for_the_next_publish_and_a_rollback_brings_back_the_first(
    system, gateway, auth, published
):
    site, first = published["site"], published["deployment"]
    edit(gateway, auth, published["project"], {"index.html": "<!doctype html><h1>Second edition</h1>"})

    before = visit(system, f"/s/{site['slug']}/")
    second = publish(gateway, auth, site)
    after = visit(system, "/", host=subdomain(system, site))
    rolled_back = gateway.post(
        f"{SITES}{site['id']}/rollback/", json={"deployment": first["id"]}, headers=auth
    )
    restored = visit(system, f"/s/{site['slug']}/")

    assert "First edition" in before.text
    assert second["id"] != first["id"]
    assert "Second edition" in after.text
    assert rolled_back.status_code == 200, rolled_back.text
    assert "First edition" in restored.text


def test_an_unpublished_site_is_a_404_page_until_it_is_republished(system, gateway, auth, published):
    site = published["site"]

    unpublished = gateway.post(f"{SITES}{site['id']}/unpublish/", headers=auth)
    gone = visit(system, f"/s/{site['slug']}/")
    gone_at_host = visit(system, "/", host=subdomain(system, site))
    republished = gateway.post(f"{SITES}{site['id']}/republish/", headers=auth)
    back = visit(system, f"/s/{site['slug']}/")

    assert unpublished.status_code == 200, unpublished.text
    assert gone.status_code == 404
    assert gone.headers["Content-Type"].startswith("text/html")
    assert "First edition" not in gone.text
    assert gone_at_host.status_code == 404
    assert republished.status_code == 200, republished.text
    assert "First edition" in back.text


def test_a_renamed_site_answers_at_its_new_address_only(system, gateway, auth, published):
    site = published["site"]
    slug = f"renamed-{uuid.uuid4().hex[:8]}"

    renamed = gateway.patch(f"{SITES}{site['id']}/", json={"slug": slug}, headers=auth)

    assert renamed.status_code == 200, renamed.text
    assert "First edition" in visit(system, f"/s/{slug}/").text
    assert "First edition" in visit(system, "/", host=f"{slug}.{system.sites_domain}").text
    assert visit(system, f"/s/{site['slug']}/").status_code == 404


def test_a_missing_page_is_the_sites_own_404_page_and_an_unknown_site_is_ours(system, published):
    site = published["site"]

    missing = visit(system, f"/s/{site['slug']}/no-such-page.css")
    unknown = visit(system, "/s/no-such-site-here/")
    unknown_host = visit(system, "/", host=f"no-such-site-here.{system.sites_domain}")

    assert missing.status_code == 404
    assert "Our own lost page" in missing.text
    for response in (unknown, unknown_host):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "<html" in response.text
        assert response.headers["X-Content-Type-Options"] == "nosniff"


def test_dot_files_and_other_methods_are_refused(system, gateway, auth, published):
    site = published["site"]
    edit(gateway, auth, published["project"], {".env": "SECRET=1"})
    publish(gateway, auth, site)

    dotted = visit(system, f"/s/{site['slug']}/.env")
    posted = requests.post(f"{system.url}/s/{site['slug']}/", data=b"x", timeout=10)

    assert dotted.status_code == 404
    assert "SECRET" not in dotted.text
    assert posted.status_code == 405
    assert posted.headers["Allow"] == "GET, HEAD"


# ---- what a visitor never gets ----


def test_visitors_get_no_cookie_no_identity_and_never_the_api(system, account, published):
    site = published["site"]
    signed_in = {"Authorization": f"Bearer {account['access']}"}

    responses = [
        visit(system, f"/s/{site['slug']}/", **signed_in),
        visit(system, "/", host=subdomain(system, site), **signed_in),
        visit(system, f"/s/{site['slug']}/api/v1/sites/", **signed_in),
        visit(system, "/api/v1/sites/", host=subdomain(system, site), **signed_in),
        visit(system, "/api/v1/auth/.well-known/jwks.json", host=subdomain(system, site)),
    ]

    for response in responses:
        assert "Set-Cookie" not in response.headers
        assert "X-User-Id" not in response.headers
        assert "Access-Control-Allow-Origin" not in response.headers
        assert "application/json" not in response.headers["Content-Type"]
        assert account["access"] not in response.text
    assert [response.status_code for response in responses] == [200, 200, 404, 404, 404]


# ---- caching ----


def test_files_have_strong_etags_and_revalidate_to_304(system, published):
    url = f"/s/{published['site']['slug']}/style.css"

    plain = visit(system, url)
    packed = visit(system, url, **{"Accept-Encoding": "gzip"})
    again = visit(system, url, **{"If-None-Match": plain.headers["ETag"]})
    page = visit(system, f"/s/{published['site']['slug']}/")

    assert plain.status_code == 200
    assert plain.text == STYLE
    assert plain.headers["Content-Type"].startswith("text/css")
    assert not plain.headers["ETag"].startswith("W/")
    assert packed.headers["Content-Encoding"] == "gzip"
    assert not packed.headers["ETag"].startswith("W/")
    assert packed.headers["ETag"] != plain.headers["ETag"]
    assert packed.content == STYLE.encode()  # requests undoes the gzip
    assert again.status_code == 304
    assert "Accept-Encoding" in plain.headers["Vary"]
    assert plain.headers["Cache-Control"].startswith("public, max-age=")
    assert page.headers["Cache-Control"] == "public, max-age=60, stale-while-revalidate=300"


def test_the_same_content_keeps_its_etag_across_deployments(system, gateway, auth, published):
    site = published["site"]
    url = f"/s/{site['slug']}/style.css"
    before = visit(system, url).headers["ETag"]
    edit(gateway, auth, published["project"], {"index.html": "<!doctype html><h1>Changed</h1>"})
    publish(gateway, auth, site)

    assert visit(system, url).headers["ETag"] == before


# ---- custom domains ----


def test_a_custom_domain_is_served_only_once_verified_and_stops_when_removed(
    system, gateway, auth, dns, published
):
    site = published["site"]
    hostname = f"www.shop-{uuid.uuid4().hex[:8]}.example"
    domain = gateway.post(f"{SITES}{site['id']}/domains/", json={"hostname": hostname}, headers=auth)
    assert domain.status_code == 201, domain.text
    verify = f"{SITES}{site['id']}/domains/{domain.json()['id']}/verify/"
    txt = next(record for record in domain.json()["records"] if record["type"] == "TXT")

    unproved = gateway.post(verify, headers=auth)
    before = visit(system, "/", host=hostname)
    dns.set(txt["name"], txt["value"])
    proved = gateway.post(verify, headers=auth)
    served = visit(system, "/", host=hostname)
    no_api = visit(system, "/api/v1/sites/", host=hostname, Authorization=auth["Authorization"])
    removed = gateway.delete(f"{SITES}{site['id']}/domains/{domain.json()['id']}/", headers=auth)
    after = visit(system, "/", host=hostname)

    assert unproved.status_code == 422, unproved.text
    assert "First edition" not in before.text
    assert proved.status_code == 200, proved.text
    assert proved.json()["status"] == "verified"
    assert served.status_code == 200
    assert "First edition" in served.text
    assert "Content-Security-Policy" not in served.headers
    assert no_api.status_code == 404
    assert no_api.headers["Content-Type"].startswith("text/html")
    assert removed.status_code == 204
    assert "First edition" not in after.text


def test_a_custom_domain_of_an_unpublished_or_taken_down_site_never_reaches_the_api(
    system, gateway, auth, dns, published
):
    site = published["site"]
    hostname = f"www.quiet-{uuid.uuid4().hex[:8]}.example"
    domain = gateway.post(f"{SITES}{site['id']}/domains/", json={"hostname": hostname}, headers=auth)
    txt = next(record for record in domain.json()["records"] if record["type"] == "TXT")
    dns.set(txt["name"], txt["value"])
    assert gateway.post(f"{SITES}{site['id']}/domains/{domain.json()['id']}/verify/", headers=auth).ok

    gateway.post(f"{SITES}{site['id']}/unpublish/", headers=auth)
    unpublished = visit(system, "/", host=hostname)
    unpublished_api = visit(system, "/api/v1/sites/", host=hostname, Authorization=auth["Authorization"])
    takedown(system, site, "disable")
    taken_down = visit(system, "/", host=hostname)
    takedown(system, site, "enable")
    gateway.post(f"{SITES}{site['id']}/republish/", headers=auth)
    back = visit(system, "/", host=hostname)

    for response in (unpublished, unpublished_api):
        assert response.status_code == 404
        assert response.headers["Content-Type"].startswith("text/html")
        assert "First edition" not in response.text
    assert taken_down.status_code == 451
    assert "taken down" in taken_down.text
    assert back.status_code == 200
    assert "First edition" in back.text


# ---- takedowns ----


def test_a_taken_down_site_is_a_451_page_until_staff_restore_it(system, gateway, auth, published):
    site = published["site"]

    takedown(system, site, "disable")
    at_path = visit(system, f"/s/{site['slug']}/")
    at_host = visit(system, "/style.css", host=subdomain(system, site))
    seen_by_owner = gateway.get(f"{SITES}{site['id']}/", headers=auth).json()
    refused = gateway.post(f"{SITES}{site['id']}/deployments/", json={}, headers=auth)
    takedown(system, site, "enable")
    restored = visit(system, f"/s/{site['slug']}/")

    for response in (at_path, at_host):
        assert response.status_code == 451
        assert response.headers["Content-Type"].startswith("text/html")
        assert "taken down" in response.text
    assert seen_by_owner["status"] == "disabled"
    assert seen_by_owner["disabled_reason"] == "Phishing"
    assert refused.status_code == 409
    assert restored.status_code == 200
    assert "First edition" in restored.text


# ---- other users ----


def test_another_users_site_deployment_and_project_are_not_found(system, gateway, published):
    stranger = bearer(sign_in(gateway, register(gateway)["email"])["access"])
    site = published["site"]
    own_project = project_with(gateway, stranger, {"index.html": "mine"})
    own_site = site_for(gateway, stranger, own_project)

    attempts = [
        gateway.get(f"{SITES}{site['id']}/", headers=stranger),
        gateway.get(f"{SITES}{site['id']}/deployments/", headers=stranger),
        gateway.post(f"{SITES}{site['id']}/deployments/", json={}, headers=stranger),
        gateway.post(f"{SITES}{site['id']}/unpublish/", headers=stranger),
        gateway.delete(f"{SITES}{site['id']}/", headers=stranger),
        gateway.post(
            f"{SITES}{own_site['id']}/rollback/",
            json={"deployment": published["deployment"]["id"]},
            headers=stranger,
        ),
        gateway.post(
            SITES,
            json={"project_id": published["project"]["id"], "slug": f"theirs-{uuid.uuid4().hex[:8]}"},
            headers=stranger,
        ),
    ]

    assert [response.status_code for response in attempts] == [404] * len(attempts)
    assert all(response.json()["error"]["code"].endswith("not_found") for response in attempts)
    assert "First edition" in visit(system, f"/s/{site['slug']}/").text
