"""Request and response shapes of the generation endpoints."""

from urllib.parse import urlencode

from django.conf import settings
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generations.models import Generation, Message, Mode


class GenerationCreateSerializer(serializers.Serializer):
    prompt = serializers.CharField(help_text="What to build or change, in plain words.")
    model = serializers.SlugField(
        required=False, help_text="A model id from /models/; the default if omitted."
    )
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.BUILD)
    max_credits = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000_000, help_text="Never spend more than this."
    )

    def validate_prompt(self, prompt: str) -> str:
        limit = settings.OASIS["PROMPT_MAX_CHARS"]
        if len(prompt) > limit:
            raise serializers.ValidationError(f"Keep the prompt under {limit} characters.")
        if "\x00" in prompt:
            raise serializers.ValidationError("The prompt may not contain NUL characters.")
        return prompt


class EstimateRequestSerializer(GenerationCreateSerializer):
    project_id = serializers.UUIDField()


class EstimateSerializer(serializers.Serializer):
    model = serializers.CharField()
    input_tokens = serializers.IntegerField(help_text="Estimated input tokens of the first model call.")
    ceiling = serializers.IntegerField(help_text="Credits held while the run goes: the most it may cost.")


class ErrorSummarySerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()


class GenerationSerializer(serializers.ModelSerializer):
    model = serializers.CharField(source="model.slug")
    error = serializers.SerializerMethodField()
    events_url = serializers.SerializerMethodField()

    class Meta:
        model = Generation
        fields = [
            "id",
            "project_id",
            "model",
            "mode",
            "prompt",
            "status",
            "max_credits",
            "ceiling",
            "cost",
            "input_tokens",
            "output_tokens",
            "base_revision",
            "revision",
            "summary",
            "error",
            "cancel_requested",
            "created_at",
            "started_at",
            "finished_at",
            "events_url",
        ]
        read_only_fields = fields

    @extend_schema_field(ErrorSummarySerializer(allow_null=True))
    def get_error(self, generation: Generation) -> dict | None:
        if not generation.error_code:
            return None
        return {"code": generation.error_code, "message": generation.error_message}

    def get_events_url(self, generation: Generation) -> str:
        return reverse("generation-events", kwargs={"generation_id": generation.id})


class MessageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Message
        fields = ["id", "role", "content", "generation_id", "created_at"]
        read_only_fields = fields


class StreamTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Opaque; shown once. Opens this generation's events one time.")
    expires_at = serializers.DateTimeField(help_text="Unused after this, the ticket opens nothing.")
    events_url = serializers.SerializerMethodField(
        help_text="The events URL with the ticket: EventSource opens it as it is (add `&last_event_id=`)."
    )

    def get_events_url(self, issued) -> str:
        path = reverse("generation-events", kwargs={"generation_id": issued.generation_id})
        return f"{path}?{urlencode({'ticket': issued.ticket})}"
