"""Request and response shapes of the balance, ledger and hold endpoints."""

from django.conf import settings
from rest_framework import serializers

from credits.models import MAX_CREDITS, EntryKind, Hold, LedgerEntry


class BalanceSerializer(serializers.Serializer):
    balance = serializers.IntegerField(help_text="Credits owned; below zero after a refund of spent credits.")
    held = serializers.IntegerField(help_text="Credits reserved by work in progress.")
    available = serializers.IntegerField(help_text="balance - held: what new work may reserve.")


class AccountBalanceSerializer(BalanceSerializer):
    user_id = serializers.UUIDField()


class LedgerQuerySerializer(serializers.Serializer):
    kind = serializers.MultipleChoiceField(
        choices=EntryKind.choices, required=False, help_text="Only these kinds; repeat for several."
    )
    since = serializers.DateTimeField(required=False, help_text="Entries at or after this time (ISO 8601).")
    until = serializers.DateTimeField(required=False, help_text="Entries before this time (ISO 8601).")

    def validate(self, attrs):
        since, until = attrs.get("since"), attrs.get("until")
        if since and until and since >= until:
            raise serializers.ValidationError({"until": ["Must be later than since."]})
        return attrs


class LedgerEntrySerializer(serializers.ModelSerializer):
    hold_id = serializers.UUIDField(allow_null=True, read_only=True)

    class Meta:
        model = LedgerEntry
        fields = [
            "id",
            "kind",
            "amount",
            "held_change",
            "balance_after",
            "held_after",
            "hold_id",
            "generation_id",
            "stripe_object_id",
            "reason",
            "created_at",
        ]
        read_only_fields = fields
        extra_kwargs = {
            "amount": {"help_text": "Signed change to the balance."},
            "held_change": {"help_text": "Signed change to the held credits."},
        }


def _max_ttl() -> int:
    return settings.PAYMENTS["HOLD_MAX_TTL_SECONDS"]


class HoldCreateSerializer(serializers.Serializer):
    user_id = serializers.UUIDField()
    amount = serializers.IntegerField(min_value=1, max_value=MAX_CREDITS)
    reason = serializers.CharField(max_length=200)
    generation_id = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    ttl_seconds = serializers.IntegerField(
        min_value=1,
        required=False,
        help_text="How long the hold lasts before the sweeper releases it (default OASIS_HOLD_TTL_SECONDS).",
    )

    def validate_ttl_seconds(self, value):
        if value > _max_ttl():
            raise serializers.ValidationError(f"Ensure this value is less than or equal to {_max_ttl()}.")
        return value


class HoldCaptureSerializer(serializers.Serializer):
    amount = serializers.IntegerField(
        min_value=0, max_value=MAX_CREDITS, help_text="Credits to charge, at most the held amount."
    )


class HoldSerializer(serializers.ModelSerializer):
    hold_id = serializers.UUIDField(source="id", read_only=True)
    user_id = serializers.UUIDField(source="account.user_id", read_only=True)
    released_amount = serializers.IntegerField(read_only=True)

    class Meta:
        model = Hold
        fields = [
            "hold_id",
            "user_id",
            "amount",
            "status",
            "captured_amount",
            "released_amount",
            "reason",
            "generation_id",
            "expires_at",
            "created_at",
            "closed_at",
        ]
        read_only_fields = fields
