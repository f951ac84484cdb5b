"""Request and response shapes of the generation endpoints."""

from urllib.parse import urlencode

from django.conf import settings
from django.db.models import Count, Q
from django.urls import reverse
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from generations import proposals
from generations.models import Apply, Conversation, Event, Generation, Message, Mode, Role, Status

REASONING_EFFORTS = ("minimal", "low", "medium", "high")


class GenerationOptionsSerializer(serializers.Serializer):
    """What a run may ask of its model beyond the prompt; the model's catalog entry says which it takes."""

    temperature = serializers.FloatField(
        required=False, min_value=0, max_value=2, help_text="Sampling temperature, 0 to 2."
    )
    reasoning_effort = serializers.ChoiceField(
        choices=REASONING_EFFORTS, required=False, help_text="How long a reasoning model thinks."
    )

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({name: ["There is no such option."] for name in unknown})
        return super().to_internal_value(data)


class GenerationCreateSerializer(serializers.Serializer):
    prompt = serializers.CharField(help_text="What to build or change, in plain words.")
    model = serializers.SlugField(
        required=False, help_text="A model id from /models/; the default if omitted."
    )
    mode = serializers.ChoiceField(choices=Mode.choices, default=Mode.BUILD)
    apply = serializers.ChoiceField(
        choices=Apply.choices,
        default=Apply.NOW,
        help_text="`review`: the run ends `proposed`, its changes held to accept (all or some) or dismiss.",
    )
    max_credits = serializers.IntegerField(
        required=False, min_value=1, max_value=10_000_000, help_text="Never spend more than this."
    )
    conversation = serializers.UUIDField(
        required=False,
        help_text="The project's conversation to continue (its messages are the model's context); "
        "default: the most recently active one, or a new one.",
    )
    options = GenerationOptionsSerializer(
        required=False, help_text="Only those the model's catalog entry lists (GET /models/: `options`)."
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
            "conversation_id",
            "model",
            "mode",
            "apply",
            "prompt",
            "status",
            "max_credits",
            "options",
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


class GenerationListQuerySerializer(serializers.Serializer):
    status = serializers.MultipleChoiceField(
        choices=Status.choices,
        required=False,
        help_text="Only generations with these statuses; repeat for several.",
    )
    active = serializers.BooleanField(
        required=False,
        allow_null=True,
        default=None,
        help_text="`true`: only the runs going now (queued or running), e.g. to follow one after a reload; "
        "`false`: only finished ones.",
    )


class RunSummarySerializer(serializers.Serializer):
    """What an assistant message's run did: a client renders it beside the answer."""

    status = serializers.ChoiceField(choices=Status.choices)
    cost = serializers.IntegerField(help_text="Credits charged (0 while running, or when not charged).")
    revision = serializers.IntegerField(allow_null=True, help_text="The project revision the run produced.")
    tool_calls = serializers.IntegerField(help_text="How many tools the model called.")
    files_touched = serializers.ListField(
        child=serializers.CharField(), help_text="The paths the run wrote, renamed or deleted, each once."
    )


def run_summaries(*, user_id, generation_ids: set) -> dict:
    """Each of the user's generations' summary by id, in two queries however many there are."""
    if not generation_ids:
        return {}
    rows = (
        Generation.objects.filter(user_id=user_id, pk__in=generation_ids)
        .annotate(tool_calls=Count("events", filter=Q(events__type="tool_call")))
        .values("id", "status", "cost", "revision", "tool_calls")
    )
    summaries = {row["id"]: {**row, "files_touched": []} for row in rows}
    changes = (
        Event.objects.filter(generation_id__in=list(summaries), type="file_changed")
        .order_by("generation_id", "seq")
        .values_list("generation_id", "data")
    )
    for generation_id, data in changes:
        touched = summaries[generation_id]["files_touched"]
        if data.get("path") and data["path"] not in touched:
            touched.append(data["path"])
    return summaries


class MessageListSerializer(serializers.ListSerializer):
    """Loads the runs of a page of messages at once, so a page costs the same queries whatever its size."""

    def to_representation(self, data):
        messages = list(data.all() if hasattr(data, "all") else data)
        self.child.runs = run_summaries(
            user_id=self.context["user_id"], generation_ids={m.generation_id for m in messages if _has_run(m)}
        )
        return super().to_representation(messages)


def _has_run(message: Message) -> bool:
    return message.role == Role.ASSISTANT and message.generation_id is not None


class MessageSerializer(serializers.ModelSerializer):
    run = serializers.SerializerMethodField(
        help_text="On an assistant message, what its run did and cost; null on a prompt."
    )

    class Meta:
        model = Message
        fields = [
            "id",
            "role",
            "content",
            "conversation_id",
            "generation_id",
            "created_at",
            "hidden_at",
            "run",
        ]
        read_only_fields = fields
        list_serializer_class = MessageListSerializer

    @extend_schema_field(RunSummarySerializer(allow_null=True))
    def get_run(self, message: Message) -> dict | None:
        if not _has_run(message):
            return None
        runs = getattr(self, "runs", None)
        if runs is None:
            runs = run_summaries(user_id=self.context["user_id"], generation_ids={message.generation_id})
        summary = runs.get(message.generation_id)
        return RunSummarySerializer(summary).data if summary else None


class ConversationSerializer(serializers.ModelSerializer):
    archived = serializers.SerializerMethodField()

    class Meta:
        model = Conversation
        fields = ["id", "project_id", "title", "archived", "archived_at", "created_at", "last_active_at"]
        read_only_fields = fields

    def get_archived(self, conversation: Conversation) -> bool:
        return conversation.archived_at is not None


class ConversationCreateSerializer(serializers.Serializer):
    title = serializers.CharField(
        required=False, allow_blank=True, max_length=200, help_text="Empty: named after its first prompt."
    )


class ConversationUpdateSerializer(serializers.Serializer):
    title = serializers.CharField(required=False, allow_blank=True, max_length=200)
    archived = serializers.BooleanField(
        required=False, help_text="Archived: out of the list and of new runs; false brings it back."
    )


class ConversationListQuerySerializer(serializers.Serializer):
    archived = serializers.BooleanField(
        required=False, default=False, help_text="`true`: the archived conversations instead."
    )


class ProposedFileSerializer(serializers.Serializer):
    path = serializers.CharField()
    action = serializers.ChoiceField(choices=["created", "modified", "deleted", "renamed"])
    from_path = serializers.CharField(allow_null=True, help_text="A renamed file's old path.")
    diff = serializers.CharField(
        help_text="A unified diff against the run's base revision (empty for a rename)."
    )


class ProposalSerializer(serializers.Serializer):
    generation_id = serializers.UUIDField()
    state = serializers.SerializerMethodField(help_text="pending, accepted, dismissed or expired.")
    base_revision = serializers.IntegerField(help_text="The revision the run started from.")
    expires_at = serializers.DateTimeField(
        help_text="After this a pending proposal can no longer be accepted."
    )
    revision = serializers.IntegerField(allow_null=True, help_text="The revision accepting made.")
    accepted_paths = serializers.ListField(child=serializers.CharField())
    files = serializers.SerializerMethodField()

    @extend_schema_field(serializers.ChoiceField(choices=["pending", "accepted", "dismissed", "expired"]))
    def get_state(self, proposal) -> str:
        return "expired" if proposals.is_expired(proposal) else proposal.state

    @extend_schema_field(ProposedFileSerializer(many=True))
    def get_files(self, proposal) -> list[dict]:
        return proposals.file_diffs(proposal)


class ProposalAcceptSerializer(serializers.Serializer):
    paths = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        allow_empty=False,
        help_text="Only these files of the proposal (a renamed file by its new path); default: all.",
    )


class RewindSerializer(serializers.Serializer):
    prompt = serializers.CharField(help_text="The rewound prompt, to edit and send again.")
    revision = serializers.IntegerField(
        allow_null=True, help_text="The project's revision now: its files as that run found them."
    )
    restored = serializers.BooleanField(
        help_text="A new revision was made (not when the files already matched)."
    )
    hidden = serializers.IntegerField(
        help_text="Messages taken out of the model's context (kept for the record)."
    )


class StreamTicketSerializer(serializers.Serializer):
    ticket = serializers.CharField(help_text="Opaque; shown once. Opens this generation's events one time.")
    expires_at = serializers.DateTimeField(help_text="Unused after this, the ticket opens nothing.")
    events_url = serializers.SerializerMethodField(
        help_text="The events URL with the ticket: EventSource opens it as it is (add `&last_event_id=`)."
    )

    def get_events_url(self, issued) -> str:
        path = reverse("generation-events", kwargs={"generation_id": issued.generation_id})
        return f"{path}?{urlencode({'ticket': issued.ticket})}"
