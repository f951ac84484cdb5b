"""oasis_common.pagination: page numbers, a client-chosen page size, and a ceiling on it."""

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
