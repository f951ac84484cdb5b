"""The first answer given to each (caller, Idempotency-Key) pair."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models

# The unique (principal, key) pair: what a duplicate request conflicts on.
KEY_CONSTRAINT = "idempotency_unique_key"


class IdempotencyRecord(models.Model):
    principal = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField()
    response_body = models.JSONField(null=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["principal", "key"], name=KEY_CONSTRAINT),
        ]

    def __str__(self) -> str:
        return f"{self.principal} {self.key} -> {self.status_code}"
