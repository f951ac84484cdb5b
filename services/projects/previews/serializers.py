"""Request and response shapes of the preview link endpoint."""

from django.conf import settings
from rest_framework import serializers


class PreviewCreateSerializer(serializers.Serializer):
    revision = serializers.IntegerField(
        min_value=1,
        required=False,
        allow_null=True,
        default=None,
        help_text="Pin a revision; by default the link follows the current one.",
    )
    expires_in = serializers.IntegerField(
        min_value=60,
        required=False,
        allow_null=True,
        default=None,
        help_text="Seconds the link works (OASIS_PREVIEW_DEFAULT_SECONDS by default; capped).",
    )

    def validate_expires_in(self, value):
        ceiling = settings.OASIS["PREVIEW_MAX_SECONDS"]
        if value is not None and value > ceiling:
            raise serializers.ValidationError(f"Ensure this value is less than or equal to {ceiling}.")
        return value


class PreviewLinkSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="The link; on the preview origin when OASIS_PREVIEW_ORIGIN is set.")
    path = serializers.CharField(help_text="The same link without an origin: `/preview/<token>/`.")
    token = serializers.CharField()
    revision = serializers.IntegerField(allow_null=True)
    expires_at = serializers.DateTimeField()
