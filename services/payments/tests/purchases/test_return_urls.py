"""Return URLs: the origin a browser goes to, and the allowed origins read the same way."""

import pytest
from django.apps import apps
from django.core.exceptions import ImproperlyConfigured

from purchases.return_urls import UnsafeReturnUrl, allowed_origins, return_url_origin


@pytest.mark.parametrize(
    ("url", "origin"),
    [
        ("https://app.example.com/done", "https://app.example.com"),
        ("HTTPS://APP.Example.COM/Done", "https://app.example.com"),
        ("https://app.example.com:443/", "https://app.example.com"),
        ("http://app.example.com:80/", "http://app.example.com"),
        ("https://app.example.com:0443/", "https://app.example.com"),
        ("https://app.example.com:/", "https://app.example.com"),
        ("http://localhost:3000/billing", "http://localhost:3000"),
        ("https://app.example.com:8443/", "https://app.example.com:8443"),
        ("https://app.example.com./", "https://app.example.com."),
        ("https://[0:0:0:0:0:0:0:1]:8080/", "https://[::1]:8080"),
        ("https://xn--bcher-kva.example/", "https://xn--bcher-kva.example"),
        ("https://app.example.com/done?next=https://evil.example#@evil.example", "https://app.example.com"),
    ],
)
def test_the_origin_is_the_one_a_browser_goes_to(url, origin):
    assert return_url_origin(url) == origin


def test_the_reported_backslash_trick_has_no_origin():
    # Without the backslash check this reads as http://localhost:3000; a browser goes to evil.example.
    with pytest.raises(UnsafeReturnUrl, match="backslash"):
        return_url_origin("http://evil.example\\@localhost:3000/")


def test_the_allowed_origins_are_normalised_like_return_urls(settings):
    settings.PAYMENTS = {
        **settings.PAYMENTS,
        "CHECKOUT_REDIRECT_ORIGINS": ["HTTPS://App.Example.com:443", "http://localhost:3000/"],
    }

    assert allowed_origins() == {"https://app.example.com", "http://localhost:3000"}


@pytest.mark.parametrize(
    "origin", ["https://user@app.example.com", "app.example.com", "https://app.example.com\\", "javascript:x"]
)
def test_a_malformed_allowed_origin_stops_the_service_at_start(settings, origin):
    settings.PAYMENTS = {**settings.PAYMENTS, "CHECKOUT_REDIRECT_ORIGINS": ["https://ok.example", origin]}

    with pytest.raises(ImproperlyConfigured, match="OASIS_CHECKOUT_REDIRECT_ORIGINS"):
        apps.get_app_config("purchases").ready()
