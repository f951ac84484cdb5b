"""Refresh-token families: the refresh tokens descended from one sign-in, revoked together on reuse."""

from django.conf import settings
from django.db import models
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken


class TokenFamily(models.Model):
    """A row appears when a family first rotates (or is revoked); until then it is simply active."""

    # The `fam` claim of every token of the family: the `jti` of the refresh token it started with.
    id = models.UUIDField(primary_key=True, editable=False)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="token_families"
    )
    # The family's latest refresh token, the last of them to expire: when flushexpiredtokens
    # deletes it, nothing of the family can be used any more and the row goes with it.
    newest = models.OneToOneField(OutstandingToken, on_delete=models.CASCADE, related_name="family")
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name_plural = "token families"

    def __str__(self) -> str:
        return f"{self.id} ({'revoked' if self.revoked_at else 'active'})"


class RevokedAccessToken(models.Model):
    """A signed-out access token: the durable copy of the cache's mark, refused until it expires.

    Rows past `expires_at` no longer matter (the token itself is refused as expired); each
    revocation deletes them, so the table holds only the last few minutes' sign-outs.
    """

    jti = models.CharField(max_length=255, primary_key=True)
    # The token's `exp` plus the leeway verifiers allow.
    expires_at = models.DateTimeField(db_index=True)

    def __str__(self) -> str:
        return self.jti
