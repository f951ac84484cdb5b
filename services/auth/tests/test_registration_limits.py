"""accounts/registration_limits.py: sign-ups limited per address and per network, bursts that refill."""

from datetime import timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from accounts.models import RegistrationBucket, User
from accounts.registration_limits import SWEEP_BATCH, registration_admit
from config.variables import rate as _rate
from tests.helpers import PASSWORD, error_of

URL = "/api/v1/auth/register/"
# Small numbers so each test reads in a glance: an address may sign up 3 at once and then one
# a minute; its network 5 at once and then one every 30 seconds.
LIMITS = {
    "REGISTER_RATE": (60, 3600),
    "REGISTER_BURST": 3,
    "REGISTER_NETWORK_RATE": (120, 3600),
    "REGISTER_NETWORK_BURST": 5,
    "REGISTER_IPV4_PREFIX": 24,
    "REGISTER_IPV6_PREFIX": 56,
}


@pytest.fixture
def limits(db, settings):
    settings.OASIS = {**settings.OASIS, **LIMITS}


def sign_up(api, address: str, email: str | None = None):
    email = email or f"{User.objects.count()}-{address.replace(':', '.')}@example.com"
    return api.post(URL, {"email": email, "password": PASSWORD}, format="json", HTTP_X_FORWARDED_FOR=address)


def admitted(address: str, now) -> bool:
    return registration_admit(address=address, now=now) == 0


def test_the_defaults_let_a_classroom_of_thirty_sign_up_from_one_address(api, db):
    for _ in range(30):
        response = sign_up(api, "198.51.100.4")
        assert response.status_code == 201, response.content


def test_an_address_signs_up_a_burst_at_once_then_is_told_when_to_come_back(api, limits):
    for _ in range(3):
        assert sign_up(api, "198.51.100.4").status_code == 201

    response = sign_up(api, "198.51.100.4")

    error = error_of(response, 429, "too_many_requests")
    assert 0 < int(response["Retry-After"]) <= 60
    assert error["details"] == {"retry_after": int(response["Retry-After"])}


def test_room_comes_back_at_the_steady_rate_not_an_hour_later(limits):
    now = timezone.now()
    assert all(admitted("198.51.100.4", now) for _ in range(3))
    assert registration_admit(address="198.51.100.4", now=now) == 60

    a_minute_later = now + timedelta(seconds=60)

    assert admitted("198.51.100.4", a_minute_later)
    assert not admitted("198.51.100.4", a_minute_later)


def test_a_quiet_address_gets_its_whole_burst_back(limits):
    now = timezone.now()
    for _ in range(3):
        admitted("198.51.100.4", now)

    later = now + timedelta(minutes=3)

    assert all(admitted("198.51.100.4", later) for _ in range(3))
    assert not admitted("198.51.100.4", later)


def test_a_refused_attempt_costs_nothing(limits):
    now = timezone.now()
    for _ in range(3):
        admitted("198.51.100.4", now)
    for _ in range(10):
        assert not admitted("198.51.100.4", now)

    assert admitted("198.51.100.4", now + timedelta(seconds=60))


def test_failed_sign_ups_count_too(api, limits, user):
    for _ in range(3):
        error_of(sign_up(api, "198.51.100.4", email="ada@example.com"), 400, "validation_error")

    error_of(sign_up(api, "198.51.100.4"), 429, "too_many_requests")


def test_another_network_is_not_held_back(api, limits):
    for _ in range(3):
        sign_up(api, "198.51.100.4")

    assert sign_up(api, "203.0.113.9").status_code == 201


def test_the_network_limit_catches_sign_ups_spread_over_neighbouring_addresses(limits):
    now = timezone.now()
    neighbours = [f"198.51.100.{host}" for host in range(1, 6)]
    assert all(admitted(address, now) for address in neighbours)

    assert not admitted("198.51.100.200", now)
    assert admitted("198.51.101.1", now)


@pytest.mark.parametrize(
    ("first", "second", "shared"),
    [
        ("2001:db8:0:1::1", "2001:db8:0:1:ffff::2", "address"),
        ("2001:db8:0:1::1", "2001:db8:0:2::1", "network"),
        ("2001:db8:0:1::1", "2001:db8:0:100::1", None),
        ("::ffff:198.51.100.4", "198.51.100.4", "address"),
        ("198.51.100.4", "198.51.100.5", "network"),
    ],
    ids=["same-ipv6-64", "same-ipv6-56", "other-ipv6-56", "ipv4-mapped", "same-ipv4-24"],
)
def test_which_bucket_two_addresses_share(settings, db, first, second, shared):
    # Only the bucket under test is small, so a refusal says which one the two addresses share.
    small = {"REGISTER_BURST": 3, "REGISTER_NETWORK_BURST": 3}
    if shared == "address":
        small["REGISTER_NETWORK_BURST"] = 100
    elif shared == "network":
        small["REGISTER_BURST"] = 100
    settings.OASIS = {**settings.OASIS, **LIMITS, **small}
    now = timezone.now()
    for _ in range(3):
        admitted(first, now)

    assert admitted(second, now) is (shared is None)


def test_the_prefixes_are_configurable(db, settings):
    settings.OASIS = {**settings.OASIS, **LIMITS, "REGISTER_IPV4_PREFIX": 16}
    now = timezone.now()
    for host in range(5):
        admitted(f"198.51.{host}.1", now)

    assert not admitted("198.51.200.1", now)


def test_a_throttled_registration_creates_no_account(api, limits):
    for _ in range(3):
        sign_up(api, "198.51.100.4")

    error_of(sign_up(api, "198.51.100.4", email="late@example.com"), 429, "too_many_requests")

    assert not User.objects.filter(email="late@example.com").exists()


def test_the_limit_keys_on_the_address_the_gateway_appended(api, limits):
    for index in range(3):
        sign_up(api, f"10.0.0.{index}, 198.51.100.4")

    error_of(sign_up(api, "10.9.9.9, 198.51.100.4"), 429, "too_many_requests")


def test_something_that_is_not_an_address_is_limited_too(api, limits):
    for _ in range(3):
        sign_up(api, "not-an-address")

    error_of(sign_up(api, "also not one"), 429, "too_many_requests")


def test_buckets_that_filled_up_again_are_swept_away(limits):
    now = timezone.now()
    for host in range(1, 4):
        admitted(f"192.0.2.{host}", now)
    assert RegistrationBucket.objects.count() == 4

    admitted("203.0.113.9", now + timedelta(hours=1))

    assert set(RegistrationBucket.objects.values_list("key", flat=True)) == {
        "address:203.0.113.9",
        "network:203.0.113.0/24",
    }
    assert SWEEP_BATCH >= 100


@pytest.mark.parametrize(
    ("raw", "parsed"),
    [("30/hour", (30, 3600)), ("5/minute", (5, 60)), ("100/day", (100, 86400)), ("2/s", (2, 1))],
)
def test_rates_read_as_drf_writes_them(raw, parsed):
    assert _rate(raw) == parsed


@pytest.mark.parametrize("raw", ["30", "hour", "0/hour", "-1/hour", "30/fortnight", "x/hour"])
def test_a_malformed_rate_stops_the_service_from_starting(raw):
    with pytest.raises(ImproperlyConfigured):
        _rate(raw)
