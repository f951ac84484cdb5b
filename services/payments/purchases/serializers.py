"""Request and response shapes of the pack, checkout and webhook endpoints."""

from rest_framework import serializers

from purchases.models import CheckoutSession
from purchases.packs import pack_get
from purchases.return_urls import UnsafeReturnUrl, return_url_origin

MAX_URL_LENGTH = 2048


class PackSerializer(serializers.Serializer):
    id = serializers.CharField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    price = serializers.IntegerField(help_text="In the currency's smallest unit (cents for usd).")
    currency = serializers.CharField(help_text="ISO 4217, lowercase.")
    purchasable = serializers.SerializerMethodField(
        help_text="Whether it can be bought now: false while payments are not available."
    )

    def get_purchasable(self, pack) -> bool:
        return self.context["purchasable"]


def return_url_validate(value: str) -> None:
    try:
        return_url_origin(value)
    except UnsafeReturnUrl as exc:
        raise serializers.ValidationError(str(exc)) from None


def redirect_url_field(help_text: str) -> serializers.CharField:
    # Untrimmed: whitespace around a URL is refused, not quietly repaired.
    return serializers.CharField(
        max_length=MAX_URL_LENGTH,
        trim_whitespace=False,
        validators=[return_url_validate],
        help_text=help_text,
    )


class CheckoutCreateSerializer(serializers.Serializer):
    pack_id = serializers.CharField(max_length=64)
    success_url = redirect_url_field(
        "Where Stripe sends the buyer after paying: a plain http(s) URL (no backslash, user name, "
        "whitespace or control character) whose origin is allowed. Stripe replaces "
        "{CHECKOUT_SESSION_ID} in it."
    )
    cancel_url = redirect_url_field(
        "Where Stripe sends the buyer who gives up: a plain http(s) URL whose origin is allowed."
    )

    def validate_pack_id(self, value):
        if pack_get(value) is None:
            raise serializers.ValidationError("No such pack.")
        return value

    def validate(self, attrs):
        pack = pack_get(attrs.pop("pack_id"))
        return {**attrs, "pack": pack}


class CheckoutCreatedSerializer(serializers.Serializer):
    session_id = serializers.CharField()
    url = serializers.CharField(help_text="Send the buyer here to pay.")


class CheckoutSessionSerializer(serializers.ModelSerializer):
    amount = serializers.IntegerField(source="amount_total", read_only=True)

    class Meta:
        model = CheckoutSession
        fields = [
            "session_id",
            "pack_id",
            "credits",
            "amount",
            "currency",
            "status",
            "url",
            "created_at",
            "expires_at",
            "paid_at",
        ]
        read_only_fields = fields


class WebhookReceivedSerializer(serializers.Serializer):
    received = serializers.BooleanField()
    duplicate = serializers.BooleanField(help_text="The event was already processed; nothing changed.")
