"""Checkout's return URLs: only plain http(s) URLs, and only to the allowed origins.

Stripe sends the buyer's browser to these URLs, and a browser reads a URL by the WHATWG
URL standard, not by RFC 3986 as urllib does. The two disagree on backslashes, userinfo,
stripped tabs and newlines, percent-encoded and non-ASCII hosts and a missing `//`:
`http://evil.example\\@localhost:3000/` is localhost to urllib and evil.example to a
browser. So a URL with any of these is refused outright, and what is left means the
same origin to both.
"""

from __future__ import annotations

import ipaddress
import re
import unicodedata
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from purchases.errors import RedirectNotAllowed

DEFAULT_PORTS = {"http": 80, "https": 443}
# Letters, digits, dots, hyphens and underscores: what a browser leaves as it is. It would
# percent-decode `%`, map non-ASCII through IDNA, and refuse or rewrite the rest.
PLAIN_HOST = re.compile(r"^[a-z0-9._-]+$")


class UnsafeReturnUrl(ValueError):
    """The URL is malformed, or a browser could read it differently; the message says why."""


def _refuse_invisible_characters(url: str) -> None:
    # Browsers drop tabs and newlines anywhere and trim controls and spaces at the ends
    # (so does urllib, partly); format characters such as U+202E hide what a person reads.
    for char in url:
        if unicodedata.category(char)[0] in "CZ":
            raise UnsafeReturnUrl("Must not contain whitespace or control characters.")


def _normalised_host(netloc: str, hostname: str) -> str:
    if "%" in hostname or not (PLAIN_HOST.match(hostname) or netloc.startswith("[")):
        raise UnsafeReturnUrl(
            "Its host must be plain ASCII letters, digits, dots and hyphens (the punycode form of "
            "an international name), without percent-encoding."
        )
    if not netloc.startswith("["):
        return hostname
    try:
        return f"[{ipaddress.IPv6Address(hostname).compressed}]"
    except ValueError:
        raise UnsafeReturnUrl("Its host is not a valid IPv6 address.") from None


def return_url_origin(url: str) -> str:
    """The origin a browser goes to from `url`: `scheme://host[:port]`, lowercase, no default port.

    Raises UnsafeReturnUrl for anything but a plain absolute http(s) URL. A host with a
    trailing dot stays as written: to a browser it is another origin, with its own cookies
    and storage, so it matches only an allowed origin written the same way.
    """
    _refuse_invisible_characters(url)
    if "\\" in url:
        raise UnsafeReturnUrl("Must not contain a backslash.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeReturnUrl("Is not a valid URL: check its host and port.") from None
    scheme = parts.scheme.lower()
    if scheme not in DEFAULT_PORTS:
        raise UnsafeReturnUrl("Must be an http or https URL.")
    if not url[len(scheme) :].startswith("://") or not parts.netloc:
        raise UnsafeReturnUrl("Must be an absolute URL with a host, such as https://example.com/.")
    if "@" in parts.netloc:
        raise UnsafeReturnUrl("Must not contain a user name or password.")
    if not parts.netloc.isascii() or not parts.hostname:
        raise UnsafeReturnUrl("Its host must be plain ASCII (the punycode form of an international name).")
    host = _normalised_host(parts.netloc, parts.hostname)
    if port in (None, DEFAULT_PORTS[scheme]):
        return f"{scheme}://{host}"
    return f"{scheme}://{host}:{port}"


def allowed_origins() -> set[str]:
    """OASIS_CHECKOUT_REDIRECT_ORIGINS, each normalised as a return URL's origin is."""
    origins = set()
    for origin in settings.PAYMENTS["CHECKOUT_REDIRECT_ORIGINS"]:
        try:
            origins.add(return_url_origin(origin))
        except UnsafeReturnUrl as exc:
            raise ImproperlyConfigured(
                f"OASIS_CHECKOUT_REDIRECT_ORIGINS has {origin!r}, which is not a plain origin: {exc}"
            ) from None
    return origins


def return_url_check(*, field: str, url: str) -> None:
    """Raise RedirectNotAllowed (422) unless `url` returns to an allowed origin."""
    allowed = allowed_origins()
    origin = return_url_origin(url)
    if origin not in allowed:
        raise RedirectNotAllowed(
            details={field: [f"{origin} is not an allowed origin."], "allowed": sorted(allowed)}
        )
