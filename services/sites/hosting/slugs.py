"""Site slugs: the name in a site's address (`<slug>.<domain>`, `/s/<slug>/`), one DNS label."""

from __future__ import annotations

import re

# One DNS label, lowercase: letters, digits and inner hyphens, 3 to 63 characters.
SLUG_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,61})[a-z0-9]$")

# Names a visitor could mistake for the product itself, or that the platform's own hosts use.
RESERVED = frozenset(
    {
        "about", "account", "accounts", "admin", "administrator", "api", "app", "apps", "assets",
        "auth", "billing", "blog", "builder", "cdn", "dashboard", "dev", "docs", "email", "ftp",
        "help", "hostmaster", "imagi", "internal", "login", "mail", "media", "ns1", "ns2", "oasis",
        "payments", "postmaster", "preview", "previews", "projects", "root", "s", "security",
        "signup", "site", "sites", "smtp", "staging", "static", "status", "studio", "support",
        "test", "webmaster", "www",
    }
)  # fmt: skip


def slug_problem(slug: str) -> str | None:
    """Why `slug` cannot name a site, for a person; None when it can."""
    if not 3 <= len(slug) <= 63:
        return "A site name has 3 to 63 characters."
    if not SLUG_PATTERN.match(slug):
        return "Use lowercase letters, digits and hyphens, not starting or ending with a hyphen."
    if "--" in slug[2:4]:
        # `xn--` and the like are reserved for internationalised names in DNS.
        return "A site name may not have two hyphens in its third and fourth characters."
    if slug in RESERVED:
        return "This site name is reserved."
    return None
