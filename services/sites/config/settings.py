"""Settings of the sites service: published sites, immutable deployments, the site store, custom domains."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common import env
from oasis_common.settings import common_settings, peer_url

BASE_DIR = Path(__file__).resolve().parent.parent

globals().update(common_settings(service="sites", base_dir=BASE_DIR, apps=["hosting"]))

MiB = 1024 * 1024


def _positive(name: str, default: int) -> int:
    value = env.get_int(name, default)
    if value <= 0:
        raise ImproperlyConfigured(f"{name} must be positive, not {value}")
    return value


OASIS.update(  # noqa: F821
    {
        "PROJECTS_URL": peer_url("projects"),
    }
)

_production = env.is_production()

SITES = {
    # The tree the gateway serves visitors from (blobs/, deployments/, live/, hosts/, disabled/).
    "STORE": Path(env.get_str("OASIS_SITES_STORE") or OASIS_VAR_DIR / "sites" / "store"),  # noqa: F821
    # Sites answer at <slug>.<DOMAIN>; custom domains point their CNAME there.
    "DOMAIN": env.get_str("OASIS_SITES_DOMAIN", "sites.localhost").lower().strip("."),
    # Where the gateway serves /s/<slug>/ (the path form of a site's address).
    "PUBLIC_URL": env.get_str("OASIS_PUBLIC_URL", "http://localhost:8080").rstrip("/"),
    "SITE_SCHEME": env.get_str("OASIS_SITES_SCHEME", "https" if _production else "http"),
    "MAX_SITES_PER_USER": _positive("OASIS_MAX_SITES_PER_USER", 10),
    "MAX_FILES_PER_DEPLOYMENT": _positive("OASIS_MAX_FILES_PER_DEPLOYMENT", 5000),
    "MAX_BYTES_PER_DEPLOYMENT": _positive("OASIS_MAX_BYTES_PER_DEPLOYMENT", 200 * MiB),
    # Older deployments beyond this many (never the live one) are removed after a publish.
    "DEPLOYMENTS_KEPT_PER_SITE": _positive("OASIS_DEPLOYMENTS_KEPT_PER_SITE", 20),
    # One batch of file contents fetched from projects: at most this many files and about this many bytes.
    "FETCH_BATCH_FILES": _positive("OASIS_SITES_FETCH_BATCH_FILES", 200),
    "FETCH_BATCH_BYTES": _positive("OASIS_SITES_FETCH_BATCH_BYTES", 8 * MiB),
    # Custom domains are checked against these (`ip` or `ip:port`); empty: the system's resolvers.
    "DNS_NAMESERVERS": env.get_list("OASIS_SITES_DNS_NAMESERVERS", []),
    "DNS_TIMEOUT_SECONDS": env.get_float("OASIS_SITES_DNS_TIMEOUT", 5.0),
    "MAX_DOMAINS_PER_SITE": _positive("OASIS_MAX_DOMAINS_PER_SITE", 5),
}

if SITES["SITE_SCHEME"] not in ("http", "https"):
    raise ImproperlyConfigured(f"OASIS_SITES_SCHEME is http or https, not {SITES['SITE_SCHEME']!r}")
if _production:
    # The development defaults would publish addresses nobody can reach.
    for _name in ("OASIS_SITES_DOMAIN", "OASIS_PUBLIC_URL"):
        if not env.get_str(_name):
            raise ImproperlyConfigured(f"Set {_name} in production (see services/sites/.env.example)")
