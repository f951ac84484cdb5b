"""oasis_common.proxies: the client's origin, believed only from a trusted proxy, and its address."""

import pytest
from django.test import RequestFactory

from oasis_common.proxies import client_ip, is_trusted_proxy, public_origin, public_url

FORWARDED = {"HTTP_X_FORWARDED_HOST": "oasis.example.test:8443", "HTTP_X_FORWARDED_PROTO": "https"}


def request_from(address: str, **headers):
    # As the gateway calls a service: Host names the upstream.
    return RequestFactory().get(
        "/api/v1/testapp/widgets/?page=2", HTTP_HOST="projects", REMOTE_ADDR=address, **headers
    )


@pytest.mark.parametrize(
    ("address", "trusted"),
    [
        ("127.0.0.1", True),
        ("::1", True),
        ("10.42.0.7", True),
        ("172.18.0.3", True),
        ("192.168.1.20", True),
        ("fd12:3456::1", True),
        ("::ffff:10.0.0.9", True),
        ("172.32.0.1", False),
        ("203.0.113.7", False),
        ("2001:db8::1", False),
        ("", False),
        ("gateway", False),
    ],
)
def test_loopback_and_private_networks_are_trusted_by_default(address, trusted):
    assert is_trusted_proxy(address) is trusted


def test_the_trusted_networks_are_a_setting(oasis_settings):
    oasis_settings(TRUSTED_PROXIES=["203.0.113.0/24"])

    assert is_trusted_proxy("203.0.113.7")
    assert not is_trusted_proxy("10.42.0.7")


def test_the_gateway_names_the_clients_scheme_host_and_port():
    request = request_from("10.42.0.7", **FORWARDED)

    assert public_origin(request) == "https://oasis.example.test:8443"
    assert public_url(request) == "https://oasis.example.test:8443/api/v1/testapp/widgets/?page=2"


def test_anyone_else_cannot_move_the_links_elsewhere():
    assert public_origin(request_from("203.0.113.7", **FORWARDED)) == "http://projects"


@pytest.mark.parametrize(
    ("headers", "origin"),
    [
        ({}, "http://projects"),
        ({"HTTP_X_FORWARDED_PROTO": "https"}, "https://projects"),
        ({"HTTP_X_FORWARDED_HOST": "Oasis.Example.TEST"}, "http://oasis.example.test"),
        ({"HTTP_X_FORWARDED_HOST": "[::1]:8080"}, "http://[::1]:8080"),
        (
            {"HTTP_X_FORWARDED_HOST": "a.test, b.test", "HTTP_X_FORWARDED_PROTO": "https, http"},
            "https://a.test",
        ),
        ({"HTTP_X_FORWARDED_HOST": "evil.test/path?"}, "http://projects"),
        ({"HTTP_X_FORWARDED_HOST": "user@evil.test"}, "http://projects"),
        ({"HTTP_X_FORWARDED_PROTO": "javascript"}, "http://projects"),
    ],
)
def test_what_a_trusted_proxy_sends_is_used_only_when_well_formed(headers, origin):
    assert public_origin(request_from("127.0.0.1", **headers)) == origin


@pytest.fixture
def proxies_in_front(settings):
    def set_count(count: int) -> None:
        settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "NUM_PROXIES": count}

    return set_count


def test_the_client_address_is_the_peer_when_nothing_was_forwarded():
    assert client_ip(request_from("203.0.113.7")) == "203.0.113.7"


def test_the_client_address_is_the_one_the_gateway_forwarded(proxies_in_front):
    proxies_in_front(1)
    request = request_from("10.42.0.7", HTTP_X_FORWARDED_FOR="198.51.100.23")

    assert client_ip(request) == "198.51.100.23"


def test_an_address_the_client_put_in_front_of_the_forwarded_one_is_ignored(proxies_in_front):
    proxies_in_front(1)
    request = request_from("10.42.0.7", HTTP_X_FORWARDED_FOR="192.0.2.1, 198.51.100.23")

    assert client_ip(request) == "198.51.100.23"


def test_with_no_proxy_in_front_the_forwarded_address_is_ignored(proxies_in_front):
    proxies_in_front(0)
    request = request_from("203.0.113.7", HTTP_X_FORWARDED_FOR="198.51.100.23")

    assert client_ip(request) == "203.0.113.7"
