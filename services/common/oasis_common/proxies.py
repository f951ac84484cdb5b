"""What the client called, and from where, as our proxies tell it: its origin and its address.

A service is reached through the gateway, whose `Host` names the upstream (`projects`), not
the address the client used. The gateway overwrites `X-Forwarded-Host` and
`X-Forwarded-Proto` on every request; those headers are believed only when the connection
comes from a network in `OASIS["TRUSTED_PROXIES"]`, since anyone else could send them too.
The client's address is read as DRF's throttles read it, from `X-Forwarded-For` behind
`REST_FRAMEWORK["NUM_PROXIES"]` proxies (the gateway overwrites that header too).
"""

from __future__ import annotations

import ipaddress
from functools import lru_cache

from django.http.request import split_domain_port
from rest_framework.throttling import BaseThrottle

from oasis_common.conf import oasis_settings

SCHEMES = ("http", "https")


@lru_cache(maxsize=8)
def _networks(configured: tuple[str, ...]) -> tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, ...]:
    return tuple(ipaddress.ip_network(network, strict=False) for network in configured)


def is_trusted_proxy(address: str) -> bool:
    """Whether the peer at `address` (REMOTE_ADDR) is one of our proxies, such as the gateway."""
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        return False
    if ip.version == 6 and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    return any(ip in network for network in _networks(tuple(oasis_settings.TRUSTED_PROXIES)))


def _forwarded(value: str) -> str:
    # A proxy that appends rather than overwrites leaves a list; the first entry is the client's.
    return value.split(",")[0].strip()


def public_origin(request) -> str:
    """`scheme://host[:port]` as the client called it."""
    scheme = request.META.get("wsgi.url_scheme", "http")
    if is_trusted_proxy(request.META.get("REMOTE_ADDR", "")):
        proto = _forwarded(request.headers.get("X-Forwarded-Proto", "")).lower()
        host = _forwarded(request.headers.get("X-Forwarded-Host", ""))
        if proto in SCHEMES:
            scheme = proto
        domain, _port = split_domain_port(host)
        if domain:
            # The public host is the gateway's to vouch for; ALLOWED_HOSTS guards this service's own name.
            return f"{scheme}://{host.lower()}"
    return f"{scheme}://{request.get_host()}"


def public_url(request) -> str:
    """The full URL of `request` as the client called it, query string included."""
    return public_origin(request) + request.get_full_path()


def client_ip(request) -> str:
    """The address the request came from: the one DRF's throttles count it under."""
    return BaseThrottle().get_ident(request)
