"""Request and response shapes of the API key endpoints."""

from rest_framework import serializers

from apikeys import scopes
from apikeys.models import ApiKey


class ApiKeySerializer(serializers.ModelSerializer):
    prefix = serializers.SerializerMethodField(help_text="The key's first characters, to recognise it.")

    class Meta:
        model = ApiKey
        fields = ["id", "name", "prefix", "scope", "created_at", "last_used_at"]
        read_only_fields = fields

    def get_prefix(self, key: ApiKey) -> str:
        return f"oak_{key.prefix}"


class ApiKeyCreateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    scope = serializers.ChoiceField(
        choices=scopes.CHOICES,
        default=scopes.FULL,
        help_text="What the key may do: `read`, `build` or `full` (the default). No key manages API keys "
        "or the account's credentials.",
    )


class ApiKeyUpdateSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=100)


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The secret. It is shown only this once.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]
        read_only_fields = fields
