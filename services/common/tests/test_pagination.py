"""oasis_common.pagination: page numbers, a client-chosen page size, a ceiling on it, links to follow."""

import pytest

from oasis_common.testing import user_token
from tests.testapp.models import Widget

WIDGETS = "/api/v1/testapp/widgets/"
OWNER = "5b1c6c1e-8f0b-4e43-9d1a-2f7f3c1d9a10"


@pytest.fixture
def owner_api(api, db):
    Widget.objects.bulk_create(Widget(owner=OWNER, name=f"w{n}", quantity=n) for n in range(205))
    Widget.objects.create(owner="someone-else", name="not yours", quantity=1)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(OWNER)}")
    return api


@pytest.mark.parametrize(("query", "size"), [("", 50), ("?page_size=10", 10), ("?page_size=1000", 200)])
def test_the_page_size_is_the_clients_within_a_ceiling(owner_api, query, size):
    body = owner_api.get(f"{WIDGETS}{query}").json()
    assert body["count"] == 205
    assert len(body["results"]) == size
    assert body["next"]


def test_a_page_costs_two_queries_however_large(owner_api, django_assert_num_queries):
    with django_assert_num_queries(2):
        owner_api.get(f"{WIDGETS}?page_size=200")


def test_a_page_past_the_end_is_a_404(owner_api):
    response = owner_api.get(f"{WIDGETS}?page=99")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# What the gateway sends: Host names the upstream, the X-Forwarded headers what the client called.
THROUGH_THE_GATEWAY = {
    "HTTP_HOST": "projects",
    "HTTP_X_FORWARDED_HOST": "oasis.example.test:8443",
    "HTTP_X_FORWARDED_PROTO": "https",
    "REMOTE_ADDR": "10.42.0.7",
}


@pytest.mark.parametrize(
    ("page", "previous", "next_"),
    [
        (1, None, "page=2&page_size=10"),
        (2, "page_size=10", "page=3&page_size=10"),
        (3, "page=2&page_size=10", "page=4&page_size=10"),
        (21, "page=20&page_size=10", None),
    ],
)
def test_links_lead_to_the_neighbouring_pages_on_the_clients_address(owner_api, page, previous, next_):
    body = owner_api.get(WIDGETS, {"page": page, "page_size": 10}, **THROUGH_THE_GATEWAY).json()

    origin = "https://oasis.example.test:8443/api/v1/testapp/widgets/"
    assert body["previous"] == (previous and f"{origin}?{previous}")
    assert body["next"] == (next_ and f"{origin}?{next_}")


def test_links_keep_the_ordering_and_the_other_parameters(owner_api):
    body = owner_api.get(WIDGETS, {"ordering": "-name", "page_size": 10}, **THROUGH_THE_GATEWAY).json()

    origin = "https://oasis.example.test:8443/api/v1/testapp/widgets/"
    assert body["next"] == f"{origin}?ordering=-name&page=2&page_size=10"


def test_links_ignore_forwarded_headers_from_an_untrusted_peer(owner_api):
    body = owner_api.get(
        WIDGETS, {"page_size": 10}, **{**THROUGH_THE_GATEWAY, "REMOTE_ADDR": "203.0.113.7"}
    ).json()

    assert body["next"] == "http://projects/api/v1/testapp/widgets/?page=2&page_size=10"
