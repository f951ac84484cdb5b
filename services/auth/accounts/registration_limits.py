"""Sign-up limits: a token bucket per address and one per network, kept in the database.

Each bucket holds a burst of sign-ups and refills at a steady rate, so a classroom or an
office behind one address can sign up together, and whoever runs it dry waits minutes,
not an hour. The network bucket (a /24, or an IPv6 /56) stops one party from spreading
its sign-ups over the addresses around it. An IPv6 host picks any address in its /64, so
there the /64 counts as one address. Every attempt counts, successful or not: otherwise
the limit would not slow down guessing which emails have accounts.
"""

from __future__ import annotations

import ipaddress
import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from rest_framework.throttling import BaseThrottle

from accounts.models import RegistrationBucket

# Expired buckets removed by each sign-up, so the table holds only recent senders.
SWEEP_BATCH = 100


@dataclass(frozen=True)
class Limit:
    key: str
    interval: timedelta  # one sign-up's worth of refill
    burst: int


def _limits(address: str) -> list[Limit]:
    oasis = settings.OASIS
    count, seconds = oasis["REGISTER_RATE"]
    network_count, network_seconds = oasis["REGISTER_NETWORK_RATE"]
    try:
        ip = ipaddress.ip_address(address.strip())
    except ValueError:
        # Not an address (only possible when the gateway is bypassed): one bucket for all of them.
        ip = None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if ip is None:
        own = network = "unknown"
    elif ip.version == 4:
        own = str(ip)
        network = str(ipaddress.ip_network(f"{ip}/{oasis['REGISTER_IPV4_PREFIX']}", strict=False))
    else:
        own = str(ipaddress.ip_network(f"{ip}/64", strict=False))
        network = str(ipaddress.ip_network(f"{ip}/{oasis['REGISTER_IPV6_PREFIX']}", strict=False))
    return [
        Limit(f"address:{own}", timedelta(seconds=seconds / count), oasis["REGISTER_BURST"]),
        Limit(
            f"network:{network}",
            timedelta(seconds=network_seconds / network_count),
            oasis["REGISTER_NETWORK_BURST"],
        ),
    ]


def _wait(limit: Limit, full_at: datetime, now: datetime) -> timedelta:
    """How long until the bucket holds one more sign-up (zero or less: it holds one now)."""
    owed = max(full_at - now, timedelta(0)) + limit.interval
    return owed - limit.interval * limit.burst


@transaction.atomic
def registration_admit(*, address: str, now: datetime | None = None) -> float:
    """Count a sign-up attempt from `address`: 0 when admitted, else the seconds to wait (nothing counted)."""
    now = now or timezone.now()
    limits = sorted(_limits(address), key=lambda limit: limit.key)  # one lock order for everyone
    buckets = {}
    for limit in limits:
        bucket, _ = RegistrationBucket.objects.select_for_update().get_or_create(
            key=limit.key, defaults={"full_at": now}
        )
        buckets[limit.key] = bucket
    wait = max(_wait(limit, buckets[limit.key].full_at, now) for limit in limits)
    if wait > timedelta(0):
        return math.ceil(wait.total_seconds())
    for limit in limits:
        bucket = buckets[limit.key]
        bucket.full_at = max(bucket.full_at, now) + limit.interval
        bucket.save(update_fields=["full_at"])
    _sweep(now=now, keep=[limit.key for limit in limits])
    return 0


def _sweep(*, now: datetime, keep: list[str]) -> None:
    # SKIP LOCKED: a bucket another sign-up holds is left for later, so sweeping never waits
    # on (or deadlocks with) that sign-up.
    expired = (
        RegistrationBucket.objects.select_for_update(skip_locked=True)
        .filter(full_at__lt=now)
        .exclude(key__in=keep)
        .values_list("key", flat=True)[:SWEEP_BATCH]
    )
    keys = list(expired)
    if keys:
        RegistrationBucket.objects.filter(key__in=keys).delete()


class RegistrationThrottle(BaseThrottle):
    """DRF's throttle interface over the buckets: a refused attempt is a 429 with Retry-After."""

    def allow_request(self, request, view) -> bool:
        self.seconds = registration_admit(address=self.get_ident(request))
        return self.seconds == 0

    def wait(self) -> float:
        return self.seconds
