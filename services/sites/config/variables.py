"""The sites service's settings, `settings.SITES`, and its peer in `settings.OASIS`: tables read by
config/settings.py."""

from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

from oasis_common.conf import Setting, peer, positive, url

MiB = 1024 * 1024


def path(setting: Setting, value: str) -> Path:
    return Path(value)


def domain(setting: Setting, value: str) -> str:
    return value.lower().strip(".")


def scheme(setting: Setting, value: str) -> str:
    if value not in ("http", "https"):
        raise ImproperlyConfigured(f"{setting.env_var} is http or https, not {value!r}")
    return value


PEERS = (peer("projects"),)

SITES = (
    # The tree the gateway serves visitors from (blobs/, deployments/, live/, hosts/, disabled/).
    Setting(
        "STORE",
        "OASIS_SITES_STORE",
        "",
        help="the site store it writes",
        clean=path,
        derived="<OASIS_VAR_DIR>/sites/store",
    ),
    # An S3-compatible bucket instead of the tree: the store of production fleets without a shared volume.
    Setting("BUCKET", "OASIS_SITES_BUCKET", "", help="the bucket it writes instead of the store"),
    Setting("S3_ENDPOINT_URL", "OASIS_SITES_S3_ENDPOINT_URL", "", help="an S3-compatible server; empty: AWS"),
    Setting("S3_REGION", "OASIS_SITES_S3_REGION", "", help="the bucket's region; empty: the SDK's default"),
    Setting(
        "S3_ACCESS_KEY_ID",
        "OASIS_SITES_S3_ACCESS_KEY_ID",
        "",
        help="the bucket's key; empty: the SDK's own chain (a role, AWS_* variables)",
    ),
    Setting("S3_SECRET_ACCESS_KEY", "OASIS_SITES_S3_SECRET_ACCESS_KEY", "", help="its secret"),
    # Sites answer at <slug>.<DOMAIN>; custom domains point their CNAME there.
    Setting("DOMAIN", "OASIS_SITES_DOMAIN", "sites.localhost", clean=domain),
    # Where the gateway serves /s/<slug>/ (the path form of a site's address).
    Setting("PUBLIC_URL", "OASIS_PUBLIC_URL", "http://localhost:8080", clean=url),
    Setting(
        "SITE_SCHEME",
        "OASIS_SITES_SCHEME",
        "http",
        help="scheme of the site addresses",
        clean=scheme,
        derived="https in production, else http",
    ),
    Setting("MAX_SITES_PER_USER", "OASIS_MAX_SITES_PER_USER", 10, int, clean=positive),
    Setting("MAX_FILES_PER_DEPLOYMENT", "OASIS_MAX_FILES_PER_DEPLOYMENT", 5000, int, clean=positive),
    Setting("MAX_BYTES_PER_DEPLOYMENT", "OASIS_MAX_BYTES_PER_DEPLOYMENT", 200 * MiB, int, clean=positive),
    # Older deployments beyond this many (never the live one) are removed after a publish.
    Setting("DEPLOYMENTS_KEPT_PER_SITE", "OASIS_DEPLOYMENTS_KEPT_PER_SITE", 20, int, clean=positive),
    # One batch of file contents fetched from projects: at most this many files and about this many bytes.
    Setting("FETCH_BATCH_FILES", "OASIS_SITES_FETCH_BATCH_FILES", 200, int, clean=positive),
    Setting("FETCH_BATCH_BYTES", "OASIS_SITES_FETCH_BATCH_BYTES", 8 * MiB, int, clean=positive),
    # Custom domains are checked against these (`ip` or `ip:port`); empty: the system's resolvers.
    Setting("DNS_NAMESERVERS", "OASIS_SITES_DNS_NAMESERVERS", [], list),
    Setting("DNS_TIMEOUT_SECONDS", "OASIS_SITES_DNS_TIMEOUT", 5.0, float),
    Setting("MAX_DOMAINS_PER_SITE", "OASIS_MAX_DOMAINS_PER_SITE", 5, int, clean=positive),
)
