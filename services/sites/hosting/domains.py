"""Custom domains: an owner adds a hostname, proves control of it with a DNS TXT record, and it is served.

Only a verified domain gets its `hosts/<hostname>` link in the store; removing a domain
removes the link at once. A hostname may be claimed by several sites while unproved, but
only one can verify it.
"""

from __future__ import annotations

import secrets
import uuid

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from hosting import dns_lookup
from hosting.addresses import site_hostname
from hosting.errors import DomainLimitReached, DomainNotFound, DomainNotVerified, DomainTaken
from hosting.models import Domain, Site
from hosting.publication_notices import publication_touched
from hosting.sites import site_get
from hosting.store import store

TOKEN_PREFIX = "oasis-site-verification="


def dns_records(domain: Domain) -> list[dict]:
    """What the owner creates at their DNS host: the proof, and where visitors are sent."""
    return [
        {"type": "TXT", "name": domain.challenge_name, "value": f"{TOKEN_PREFIX}{domain.verification_token}"},
        {"type": "CNAME", "name": domain.hostname, "value": site_hostname(domain.site.slug)},
    ]


def domains_of(*, owner_id: uuid.UUID, site_id: uuid.UUID):
    return domains_of_site(site=site_get(owner_id=owner_id, site_id=site_id))


def domains_of_site(*, site: Site):
    """The domains of a site the caller already holds as its owner's."""
    return Domain.objects.filter(site=site).select_related("site")


def domain_get(*, owner_id: uuid.UUID, site_id: uuid.UUID, domain_id: uuid.UUID) -> Domain:
    domain = domains_of(owner_id=owner_id, site_id=site_id).filter(pk=domain_id).first()
    if domain is None:
        raise DomainNotFound()
    return domain


def domain_add(*, owner_id: uuid.UUID, site_id: uuid.UUID, hostname: str) -> Domain:
    limit = settings.SITES["MAX_DOMAINS_PER_SITE"]
    try:
        with transaction.atomic():
            site = site_get(owner_id=owner_id, site_id=site_id, for_update=True)
            if Domain.objects.filter(site=site).count() >= limit:
                raise DomainLimitReached(details={"limit": limit})
            if Domain.objects.filter(hostname=hostname).filter(site=site).exists():
                raise DomainTaken("This site already has this domain.", details={"hostname": hostname})
            if Domain.objects.filter(hostname=hostname, verified_at__isnull=False).exists():
                raise DomainTaken(details={"hostname": hostname})
            return Domain.objects.create(
                site=site, hostname=hostname, verification_token=secrets.token_hex(16)
            )
    except IntegrityError as exc:
        raise DomainTaken(details={"hostname": hostname}) from exc


def domain_verify(*, owner_id: uuid.UUID, site_id: uuid.UUID, domain_id: uuid.UUID) -> Domain:
    """Check the TXT record; once it holds the token, the domain is the site's and is served."""
    domain = domain_get(owner_id=owner_id, site_id=site_id, domain_id=domain_id)
    expected = f"{TOKEN_PREFIX}{domain.verification_token}"
    if domain.verified_at is None:
        found = dns_lookup.txt_records(domain.challenge_name)
        if expected not in found:
            raise DomainNotVerified(
                details={"name": domain.challenge_name, "expected": expected, "found": found[:10]}
            )
        try:
            with transaction.atomic():
                Domain.objects.filter(pk=domain.pk).update(verified_at=timezone.now())
        except IntegrityError as exc:
            raise DomainTaken(details={"hostname": domain.hostname}) from exc
        # Claims other sites made but can no longer prove are dropped.
        Domain.objects.filter(hostname=domain.hostname, verified_at__isnull=True).exclude(
            pk=domain.pk
        ).delete()
        # A verified domain becomes the site's preferred address.
        publication_touched(site_id=domain.site_id)
    domain = domain_get(owner_id=owner_id, site_id=site_id, domain_id=domain_id)
    store().host_point(hostname=domain.hostname, slug=domain.site.slug)
    return domain


def domain_remove(*, owner_id: uuid.UUID, site_id: uuid.UUID, domain_id: uuid.UUID) -> None:
    domain = domain_get(owner_id=owner_id, site_id=site_id, domain_id=domain_id)
    verified = domain.verified_at is not None
    domain.delete()
    if verified:
        store().host_remove(hostname=domain.hostname)
        publication_touched(site_id=domain.site_id)
