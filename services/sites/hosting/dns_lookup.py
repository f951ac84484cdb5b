"""DNS lookups for custom domain verification, against the configured nameservers, with a time limit."""

from __future__ import annotations

import dns.exception
import dns.nameserver
import dns.resolver
from django.conf import settings

from oasis_common.errors import PeerUnavailable


def _resolver() -> dns.resolver.Resolver:
    configured = settings.SITES["DNS_NAMESERVERS"]
    resolver = dns.resolver.Resolver(configure=not configured)
    if configured:
        servers = []
        for entry in configured:
            host, _, port = entry.rpartition(":") if entry.count(":") == 1 else (entry, "", "53")
            servers.append(dns.nameserver.Do53Nameserver(host, int(port or 53)))
        resolver.nameservers = servers
    resolver.lifetime = settings.SITES["DNS_TIMEOUT_SECONDS"]
    # A stale cache would answer "not verified" for minutes after the record is fixed.
    resolver.cache = None
    return resolver


def _answers(name: str, record_type: str) -> list[str]:
    try:
        answer = _resolver().resolve(name, record_type, search=False)
    except (dns.resolver.NXDOMAIN, dns.resolver.NoAnswer):
        return []
    except (dns.exception.Timeout, dns.resolver.NoNameservers) as exc:
        raise PeerUnavailable(
            "DNS could not be reached to check the domain. Try again shortly.",
            code="dns_unavailable",
            details={"name": name},
        ) from exc
    if record_type == "TXT":
        return [b"".join(record.strings).decode("utf-8", "replace") for record in answer]
    return [record.to_text().rstrip(".").lower() for record in answer]


def txt_records(name: str) -> list[str]:
    return _answers(name, "TXT")


def cname_target(name: str) -> str | None:
    targets = _answers(name, "CNAME")
    return targets[0] if targets else None
