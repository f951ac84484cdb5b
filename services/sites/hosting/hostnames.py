"""Custom hostnames: which names a site may be served at, in their stored (lowercase ASCII) form."""

from __future__ import annotations

import ipaddress
import re

from django.conf import settings

LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


def hostname_clean(raw: str) -> tuple[str | None, str | None]:
    """(the stored form, None), or (None, why it is refused, for a person)."""
    name = raw.strip().rstrip(".").lower()
    try:
        name = name.encode("idna").decode("ascii")
    except UnicodeError:
        return None, "This is not a valid domain name."
    if len(name) > 253:
        return None, "A domain name has at most 253 characters."
    try:
        ipaddress.ip_address(name)
    except ValueError:
        pass
    else:
        return None, "Use a domain name, not an IP address."
    labels = name.split(".")
    if len(labels) < 2 or not all(LABEL.match(label) for label in labels) or labels[-1].isdigit():
        return None, "This is not a valid domain name (like www.example.com)."
    platform = settings.SITES["DOMAIN"]
    if name == platform or name.endswith(f".{platform}"):
        return None, f"Names under {platform} are the platform's own."
    return name, None
