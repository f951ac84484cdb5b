"""Stream tickets: what a browser's EventSource, which cannot send a header, brings to open a run's events.

A ticket is a random token, valid for one generation of one user for TICKET_SECONDS and spent by
the first stream it opens. Only its SHA-256 is stored (the token has 256 random bits: a slow hash
would add nothing), so the table never holds a usable credential.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone
from rest_framework import status

from generations.models import Generation, StreamTicket
from oasis_common.errors import ServiceError

# Long enough to open a stream after asking for the ticket, short enough that a leaked one is spent.
TICKET_SECONDS = 60
TICKET_BYTES = 32


class InvalidTicket(ServiceError):
    status_code = status.HTTP_401_UNAUTHORIZED
    code = "invalid_ticket"
    message = "This stream ticket is unknown, expired, already used or for another generation."


@dataclass(frozen=True)
class IssuedTicket:
    generation_id: uuid.UUID
    ticket: str  # shown once, to the caller; never stored
    expires_at: datetime


def ticket_hash(ticket: str) -> str:
    return hashlib.sha256(ticket.encode()).hexdigest()


def ticket_create(*, user_id, generation: Generation) -> IssuedTicket:
    """A ticket for the caller's `generation` (loaded for its owner, so ownership is already settled)."""
    now = timezone.now()
    ticket = secrets.token_urlsafe(TICKET_BYTES)
    expires_at = now + timedelta(seconds=TICKET_SECONDS)
    with transaction.atomic():
        # Expired tickets are worth nothing: forgetting them here keeps the table small.
        StreamTicket.objects.filter(expires_at__lt=now).delete()
        StreamTicket.objects.create(
            hash=ticket_hash(ticket), generation=generation, user_id=user_id, expires_at=expires_at
        )
    return IssuedTicket(generation_id=generation.id, ticket=ticket, expires_at=expires_at)


def ticket_redeem(*, ticket: str, generation_id) -> str:
    """Spend `ticket` on `generation_id`'s events and return its user's id; InvalidTicket if it cannot be.

    One conditional UPDATE decides: of two streams opened with the same ticket at once, one wins.
    """
    digest = ticket_hash(ticket)
    now = timezone.now()
    spent = StreamTicket.objects.filter(
        hash=digest, generation_id=generation_id, used_at__isnull=True, expires_at__gt=now
    ).update(used_at=now)
    if not spent:
        raise InvalidTicket()
    return str(StreamTicket.objects.values_list("user_id", flat=True).get(hash=digest))
