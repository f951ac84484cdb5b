"""Credit packs: three built in, or configured as JSON, validated before the service starts."""

import pytest
from django.core.exceptions import ImproperlyConfigured

from purchases.packs import DEFAULT_PACKS, Pack, pack_get, packs_parse
from tests.helpers import error_of

URL = "/api/v1/payments/packs/"


def test_the_built_in_packs_are_for_sale(user, stripe_keys):
    response = user.get(URL)

    assert response.status_code == 200
    assert response.json() == [{**pack, "purchasable": True} for pack in DEFAULT_PACKS]
    assert len(DEFAULT_PACKS) == 3


def test_without_stripe_the_packs_are_listed_as_not_purchasable(user):
    response = user.get(URL)

    assert response.status_code == 200
    assert [pack["purchasable"] for pack in response.json()] == [False, False, False]
    assert "STRIPE" not in response.content.decode()


@pytest.mark.parametrize("missing", ["STRIPE_SECRET_KEY", "STRIPE_WEBHOOK_SECRET"])
def test_half_a_stripe_configuration_makes_nothing_purchasable(user, settings, stripe_keys, missing):
    settings.PAYMENTS = {**settings.PAYMENTS, missing: ""}

    assert {pack["purchasable"] for pack in user.get(URL).json()} == {False}


def test_the_built_in_packs_never_sell_credits_below_list_price():
    for pack in DEFAULT_PACKS:
        # 1 credit = USD 0.001 at list price: a cent buys at least 10 credits.
        assert pack["credits"] >= pack["price"] * 10


def test_configured_packs_replace_the_built_in_ones(user, settings):
    configured = [{"id": "eur-mini", "name": "Mini", "credits": 500, "price": 99, "currency": "eur"}]
    settings.PAYMENTS = {**settings.PAYMENTS, "CREDIT_PACKS": configured}

    assert user.get(URL).json() == [{**configured[0], "purchasable": False}]
    assert pack_get("eur-mini") == Pack(id="eur-mini", name="Mini", credits=500, price=99, currency="eur")
    assert pack_get("starter") is None


def test_packs_need_a_signed_in_user(api, db):
    error_of(api.get(URL), 401)


GOOD = {"id": "p", "name": "P", "credits": 1, "price": 1, "currency": "usd"}


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ([], "non-empty JSON list"),
        ({"id": "p"}, "non-empty JSON list"),
        (["p"], "exactly id, name, credits, price and currency"),
        ([{**GOOD, "extra": 1}], "exactly id"),
        ([{**GOOD, "id": "Has Spaces"}], ".id must be"),
        ([{**GOOD, "name": " "}], ".name must be"),
        ([{**GOOD, "credits": 0}], ".credits must be"),
        ([{**GOOD, "credits": "100"}], ".credits must be"),
        ([{**GOOD, "credits": True}], ".credits must be"),
        ([{**GOOD, "price": -1}], ".price must be"),
        ([{**GOOD, "price": 10.5}], ".price must be"),
        ([{**GOOD, "currency": "USD"}], ".currency must be"),
        ([GOOD, GOOD], "same id"),
    ],
)
def test_a_malformed_pack_configuration_is_refused(raw, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        packs_parse(raw)
