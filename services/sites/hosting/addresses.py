"""A site's public addresses: its verified custom domains, its platform subdomain and its path form."""

from __future__ import annotations

from urllib.parse import urlsplit

from django.conf import settings


def site_hostname(slug: str) -> str:
    """The platform subdomain a site answers at, `<slug>.<DOMAIN>`."""
    return f"{slug}.{settings.SITES['DOMAIN']}"


def site_urls(slug: str, hostnames: list[str] = ()) -> list[str]:
    """Verified custom domains first, then the platform's subdomain, then its path form."""
    sites = settings.SITES
    scheme = sites["SITE_SCHEME"]
    port = _gateway_port(sites["PUBLIC_URL"], scheme)
    return [
        *(f"{scheme}://{hostname}{port}/" for hostname in hostnames),
        f"{scheme}://{site_hostname(slug)}{port}/",
        f"{sites['PUBLIC_URL']}/s/{slug}/",
    ]


def _gateway_port(public_url: str, scheme: str) -> str:
    """`:8080` when the gateway that serves sites listens on a port the scheme does not imply."""
    parsed = urlsplit(public_url)
    if parsed.port is None or parsed.scheme != scheme:
        return ""
    return f":{parsed.port}"
