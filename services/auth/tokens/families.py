"""Refresh-token families: rotation moves a family on; reusing one of its rotated tokens revokes it whole."""

from __future__ import annotations

import uuid

from django.utils import timezone
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from tokens import revocation
from tokens.models import TokenFamily


def family_is_revoked(*, family_id: uuid.UUID) -> bool:
    return TokenFamily.objects.filter(pk=family_id, revoked_at__isnull=False).exists()


def family_advance(*, family_id: uuid.UUID, user: User, newest: OutstandingToken) -> None:
    """Record the family's newest refresh token (the row is created at the first rotation)."""
    TokenFamily.objects.update_or_create(
        pk=family_id, defaults={"newest": newest}, create_defaults={"user": user, "newest": newest}
    )


def family_revoke(*, family_id: uuid.UUID, user: User, member: OutstandingToken) -> None:
    """Every refresh token of the family stops working at once, its access tokens within the
    gateway's cache time (tokens.revocation)."""
    now = timezone.now()
    family, created = TokenFamily.objects.get_or_create(
        pk=family_id, defaults={"user": user, "newest": member, "revoked_at": now}
    )
    if not created and family.revoked_at is None:
        family.revoked_at = now
        family.save(update_fields=["revoked_at"])
    revocation.family_publish_revoked(family_id=family_id)
