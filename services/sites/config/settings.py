"""Settings of the sites service: published sites, immutable deployments, the site store, custom domains."""

from django.core.exceptions import ImproperlyConfigured

from config import variables
from oasis_common import env
from oasis_common.conf import read
from oasis_common.service_settings import *  # noqa: F403
from oasis_common.service_settings import OASIS, OASIS_VAR_DIR

_production = env.is_production()

OASIS = {**OASIS, **read(variables.PEERS)}

SITES = read(
    variables.SITES,
    defaults={
        "STORE": str(OASIS_VAR_DIR / "sites" / "store"),
        "SITE_SCHEME": "https" if _production else "http",
    },
)

if SITES["BUCKET"] and env.get_str("OASIS_SITES_STORE"):
    # Two stores would split what is live between them.
    raise ImproperlyConfigured("Set OASIS_SITES_STORE or OASIS_SITES_BUCKET, not both")

if _production:
    # The development defaults would publish addresses nobody can reach.
    for _name in ("OASIS_SITES_DOMAIN", "OASIS_PUBLIC_URL"):
        if not env.get_str(_name):
            raise ImproperlyConfigured(f"Set {_name} in production (see services/sites/.env.example)")
