"""Custom domains: added with the DNS records to create, verified by TXT record, served only once verified."""

import os

import pytest

from hosting.models import Domain

SITES = "/api/v1/sites/"


def domains_url(site) -> str:
    return f"{SITES}{site['id']}/domains/"


def add(api, site, hostname="www.example.org"):
    return api.post(domains_url(site), {"hostname": hostname}, format="json")


def verify(api, site, domain):
    return api.post(f"{domains_url(site)}{domain['id']}/verify/")


def prove(dns, domain) -> None:
    record = next(record for record in domain["records"] if record["type"] == "TXT")
    dns.txt(record["name"], record["value"])


def test_adding_a_domain_answers_the_dns_records_to_create(api, site):
    response = add(api, site)

    assert response.status_code == 201
    body = response.json()
    assert (body["hostname"], body["status"], body["verified_at"]) == ("www.example.org", "pending", None)
    txt, cname = body["records"]
    assert txt["type"] == "TXT"
    assert txt["name"] == "_oasis-challenge.www.example.org"
    assert txt["value"].startswith("oasis-site-verification=")
    assert cname == {"type": "CNAME", "name": "www.example.org", "value": "my-site.sites.example.com"}


def test_a_pending_domain_is_not_served(api, site, published, site_store):
    add(api, site)

    assert not site_store.host_path("www.example.org").exists()


def test_a_domain_with_its_txt_record_is_verified_and_served(api, site, published, site_store, dns):
    domain = add(api, site).json()
    prove(dns, domain)

    response = verify(api, site, domain)

    assert response.status_code == 200
    assert response.json()["status"] == "verified"
    assert response.json()["verified_at"]
    link = site_store.host_path("www.example.org")
    assert os.readlink(link) == "../live/my-site"
    assert (link / "index.html").read_bytes().startswith(b"<!doctype html>")


def test_verifying_again_is_harmless(api, site, published, dns):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)

    response = verify(api, site, domain)

    assert response.status_code == 200
    assert response.json()["status"] == "verified"


@pytest.mark.parametrize("records", [[], ["oasis-site-verification=wrong"], ["v=spf1 -all"]])
def test_a_domain_without_the_right_txt_record_stays_pending(api, site, site_store, dns, records):
    domain = add(api, site).json()
    if records:
        dns.txt(domain["records"][0]["name"], *records)

    response = verify(api, site, domain)

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "domain_not_verified"
    assert error["details"]["expected"] == domain["records"][0]["value"]
    assert error["details"]["found"] == records
    assert Domain.objects.get().verified_at is None
    assert not site_store.host_path("www.example.org").exists()


def test_an_unreachable_dns_server_is_a_503(api, site, settings):
    domain = add(api, site).json()
    settings.SITES = {**settings.SITES, "DNS_NAMESERVERS": ["127.0.0.1:9"], "DNS_TIMEOUT_SECONDS": 0.3}

    response = verify(api, site, domain)

    assert response.status_code == 503
    assert response.json()["error"]["code"] == "dns_unavailable"


def test_a_domain_verified_by_one_site_cannot_be_added_to_another(
    api, other_api, site, projects, other_user_id, dns
):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)
    theirs = projects.add(other_user_id, {"index.html": b"theirs"})
    their_site = other_api.post(SITES, {"project_id": theirs, "slug": "their-site"}, format="json").json()

    response = add(other_api, their_site)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "domain_taken"


def test_a_pending_claim_does_not_block_the_real_owner(api, other_api, site, projects, other_user_id, dns):
    squat = add(api, site).json()
    theirs = projects.add(other_user_id, {"index.html": b"theirs"})
    their_site = other_api.post(SITES, {"project_id": theirs, "slug": "their-site"}, format="json").json()
    domain = add(other_api, their_site).json()
    prove(dns, domain)

    assert verify(other_api, their_site, domain).json()["status"] == "verified"
    # The unproved claim is gone: it could never be verified now.
    assert api.get(f"{domains_url(site)}{squat['id']}/").status_code == 404


def test_the_same_domain_twice_on_one_site_is_a_conflict(api, site):
    add(api, site)

    response = add(api, site)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "domain_taken"


def test_the_number_of_domains_per_site_is_limited(api, site, settings):
    settings.SITES = {**settings.SITES, "MAX_DOMAINS_PER_SITE": 1}
    add(api, site, "one.example.org")

    response = add(api, site, "two.example.org")

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "domain_limit_reached"


@pytest.mark.parametrize(
    ("hostname", "stored"),
    [
        ("WWW.Example.ORG", "www.example.org"),
        ("example.org.", "example.org"),
        ("bücher.example", "xn--bcher-kva.example"),
    ],
)
def test_hostnames_are_stored_in_lowercase_ascii_form(api, site, hostname, stored):
    response = add(api, site, hostname)

    assert response.status_code == 201
    assert response.json()["hostname"] == stored


@pytest.mark.parametrize(
    "hostname",
    ["localhost", "example", "10.0.0.1", "-bad.example.org", "a..b.org", "x" * 64 + ".org",
     "my-site.sites.example.com", "sites.example.com", "under_score.example.org", "example.123", ""],
)  # fmt: skip
def test_a_hostname_that_cannot_be_served_is_refused(api, site, hostname):
    response = add(api, site, hostname)

    assert response.status_code == 400
    assert "hostname" in response.json()["error"]["details"]
    assert not Domain.objects.exists()


def test_removing_a_domain_stops_serving_it_at_once(api, site, published, site_store, dns):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)

    response = api.delete(f"{domains_url(site)}{domain['id']}/")

    assert response.status_code == 204
    assert not Domain.objects.exists()
    assert not os.path.lexists(site_store.host_path("www.example.org"))


def test_renaming_the_site_keeps_its_domains_served(api, site, published, site_store, dns):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)

    api.patch(f"{SITES}{site['id']}/", {"slug": "renamed"}, format="json")

    assert os.readlink(site_store.host_path("www.example.org")) == "../live/renamed"
    assert (site_store.host_path("www.example.org") / "index.html").is_file()
    records = api.get(f"{domains_url(site)}{domain['id']}/").json()["records"]
    assert records[1]["value"] == "renamed.sites.example.com"


def test_deleting_the_site_removes_its_domain_links(api, site, published, site_store, dns):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)

    api.delete(f"{SITES}{site['id']}/")

    assert not os.path.lexists(site_store.host_path("www.example.org"))


def test_domains_are_listed_in_a_fixed_number_of_queries(api, site, django_assert_num_queries):
    for hostname in ("a.example.org", "b.example.org", "c.example.org"):
        add(api, site, hostname)

    with django_assert_num_queries(3):
        response = api.get(domains_url(site))

    assert [domain["hostname"] for domain in response.json()["results"]] == [
        "a.example.org",
        "b.example.org",
        "c.example.org",
    ]


def test_a_verified_domain_is_the_sites_first_address(api, site, published, dns):
    domain = add(api, site).json()
    prove(dns, domain)
    verify(api, site, domain)
    add(api, site, "pending.example.org")

    urls = api.get(f"{SITES}{site['id']}/").json()["urls"]
    listed = api.get(SITES).json()["results"][0]["urls"]

    assert (
        urls
        == listed
        == [
            "https://www.example.org/",
            "https://my-site.sites.example.com/",
            "https://oasis.example.com/s/my-site/",
        ]
    )
