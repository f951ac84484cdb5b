"""Credit packs for sale: from OASIS_CREDIT_PACKS (JSON), else three built-in packs."""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from credits.models import MAX_CREDITS

# At list price 1 credit is USD 0.001; the larger packs add bonus credits.
DEFAULT_PACKS = [
    {"id": "starter", "name": "Starter", "credits": 10_000, "price": 1_000, "currency": "usd"},
    {"id": "builder", "name": "Builder", "credits": 55_000, "price": 5_000, "currency": "usd"},
    {"id": "studio", "name": "Studio", "credits": 120_000, "price": 10_000, "currency": "usd"},
]
PACK_ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
CURRENCY = re.compile(r"^[a-z]{3}$")
# Stripe's own ceiling for one Checkout line is 8 digits in the smallest unit.
MAX_PRICE = 99_999_999


@dataclass(frozen=True)
class Pack:
    id: str
    name: str
    credits: int
    price: int
    currency: str


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def packs_parse(raw) -> list[Pack]:
    """Validate a list of pack objects; raise ImproperlyConfigured naming the first problem."""
    if not isinstance(raw, list) or not raw:
        raise ImproperlyConfigured("OASIS_CREDIT_PACKS must be a non-empty JSON list of packs")
    packs = []
    for index, item in enumerate(raw):
        where = f"OASIS_CREDIT_PACKS[{index}]"
        if not isinstance(item, dict) or set(item) != {"id", "name", "credits", "price", "currency"}:
            raise ImproperlyConfigured(f"{where} must have exactly id, name, credits, price and currency")
        if not isinstance(item["id"], str) or not PACK_ID.match(item["id"]):
            raise ImproperlyConfigured(f"{where}.id must be lowercase letters, digits, '-' or '_'")
        if not isinstance(item["name"], str) or not 0 < len(item["name"].strip()) <= 100:
            raise ImproperlyConfigured(f"{where}.name must be 1 to 100 characters")
        if not _is_int(item["credits"]) or not 0 < item["credits"] <= MAX_CREDITS:
            raise ImproperlyConfigured(f"{where}.credits must be a positive integer")
        if not _is_int(item["price"]) or not 0 < item["price"] <= MAX_PRICE:
            raise ImproperlyConfigured(f"{where}.price must be a positive integer in the smallest unit")
        if not isinstance(item["currency"], str) or not CURRENCY.match(item["currency"]):
            raise ImproperlyConfigured(f"{where}.currency must be a lowercase ISO 4217 code such as usd")
        packs.append(Pack(**{**item, "name": item["name"].strip()}))
    if len({pack.id for pack in packs}) != len(packs):
        raise ImproperlyConfigured("OASIS_CREDIT_PACKS has two packs with the same id")
    return packs


def pack_list() -> list[Pack]:
    configured = settings.PAYMENTS["CREDIT_PACKS"]
    return packs_parse(DEFAULT_PACKS if configured is None else configured)


def pack_get(pack_id: str) -> Pack | None:
    return next((pack for pack in pack_list() if pack.id == pack_id), None)
