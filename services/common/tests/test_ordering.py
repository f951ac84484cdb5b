"""oasis_common.ordering: a list sorts by the orderings it offers and refuses any other with a 400."""

from dataclasses import dataclass

import pytest
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from oasis_common.ordering import OrderingFilter, ordering_choices
from oasis_common.testing import user_token
from tests.testapp.models import Widget

WIDGETS = "/api/v1/testapp/widgets/"
OWNER = "5b1c6c1e-8f0b-4e43-9d1a-2f7f3c1d9a10"
CHOICES = ["name", "-name", "quantity", "-quantity"]


@pytest.fixture
def owner_api(api, db):
    for name, quantity in [("bolt", 3), ("axle", 1), ("cog", 2)]:
        Widget.objects.create(owner=OWNER, name=name, quantity=quantity)
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(OWNER)}")
    return api


def names(response) -> list[str]:
    return [widget["name"] for widget in response.json()["results"]]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["axle", "cog", "bolt"]),
        ("?ordering=", ["axle", "cog", "bolt"]),
        ("?ordering=quantity", ["axle", "cog", "bolt"]),
        ("?ordering=-quantity", ["bolt", "cog", "axle"]),
        ("?ordering=name", ["axle", "bolt", "cog"]),
        ("?ordering=-name", ["cog", "bolt", "axle"]),
    ],
)
def test_a_list_is_sorted_by_an_ordering_it_offers_or_by_its_default(owner_api, query, expected):
    response = owner_api.get(f"{WIDGETS}{query}")

    assert response.status_code == 200
    assert names(response) == expected


@pytest.mark.parametrize(
    "ordering",
    ["size", "owner", "id", "name,-quantity", "--name", "Name", "-"],
)
def test_any_other_ordering_is_a_400_naming_the_ones_offered(owner_api, ordering):
    response = owner_api.get(WIDGETS, {"ordering": ordering})

    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "validation_error"
    assert list(error["details"]) == ["ordering"]
    assert all(choice in error["details"]["ordering"][0] for choice in CHOICES)


def test_rows_that_tie_keep_one_order_so_pages_neither_repeat_nor_skip(api, db):
    Widget.objects.bulk_create(Widget(owner=OWNER, name="same", quantity=1) for _ in range(30))
    api.credentials(HTTP_AUTHORIZATION=f"Bearer {user_token(OWNER)}")

    pages = [api.get(WIDGETS, {"ordering": "-name", "page_size": 10, "page": n}).json() for n in (1, 2, 3)]

    ids = [widget["id"] for page in pages for widget in page["results"]]
    assert ids == sorted(ids, reverse=True)
    assert len(set(ids)) == 30


class Catalog:
    """A list view over objects in memory, in a curated order of its own."""

    ordering_fields = ("name", "price")
    ordering = None


@dataclass
class Item:
    name: str
    price: int


ITEMS = [Item("pro", 30), Item("starter", 10), Item("team", 30)]


def ordered(view, query: str = ""):
    request = Request(APIRequestFactory().get(f"/catalog/{query}"))
    return OrderingFilter().filter_queryset(request, ITEMS, view)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", ["pro", "starter", "team"]),
        ("?ordering=name", ["pro", "starter", "team"]),
        ("?ordering=-name", ["team", "starter", "pro"]),
        ("?ordering=price", ["starter", "pro", "team"]),
        ("?ordering=-price", ["pro", "team", "starter"]),
    ],
)
def test_a_list_of_objects_is_sorted_the_same_way_and_ties_keep_their_order(query, expected):
    assert [item.name for item in ordered(Catalog(), query)] == expected


def test_a_view_that_offers_no_ordering_is_left_alone():
    class Detail:
        pass

    assert ordered(Detail(), "?ordering=anything") is ITEMS
    assert ordering_choices(Detail()) == []
    assert OrderingFilter().get_schema_operation_parameters(Detail()) == []


def test_a_list_in_its_own_order_says_so_and_names_no_default():
    (parameter,) = OrderingFilter().get_schema_operation_parameters(Catalog())

    assert parameter["schema"] == {"type": "string", "enum": ["name", "-name", "price", "-price"]}
    assert "keeps its own order" in parameter["description"]
