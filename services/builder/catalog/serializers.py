"""Shapes of the public model catalog."""

from rest_framework import serializers

from catalog.models import LanguageModel
from catalog.registry import OPTIONS


class LanguageModelSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="slug")
    input_price = serializers.IntegerField(help_text="Credits per million input tokens.")
    output_price = serializers.IntegerField(help_text="Credits per million output tokens.")
    default = serializers.BooleanField(source="is_default")
    options = serializers.ListField(
        child=serializers.ChoiceField(choices=OPTIONS),
        help_text="The options a generation may set for this model; any other is refused.",
    )

    class Meta:
        model = LanguageModel
        fields = [
            "id",
            "display_name",
            "context_window",
            "max_output_tokens",
            "input_price",
            "output_price",
            "default",
            "options",
        ]
        read_only_fields = fields
