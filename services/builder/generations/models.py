"""Generations (agent runs), their stored events, and each project's conversation."""

import uuid

from django.db import models
from django.utils import timezone

from catalog.models import LanguageModel


class Mode(models.TextChoices):
    BUILD = "build", "Build: edit the project's files"
    CHAT = "chat", "Chat: answer only"


class Status(models.TextChoices):
    QUEUED = "queued"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"
    CANCELLED = "cancelled"
    CONFLICT = "conflict"
    BUDGET_EXHAUSTED = "budget_exhausted"
    # The model's answer stopped before it was whole (its output limit, a content filter): not a success.
    INCOMPLETE = "incomplete"
    # A build that ended without changing a file: the model's answer is the summary.
    NO_CHANGES = "no_changes"
    # The model asked the user a question (its summary) and stopped; the answer is the next prompt.
    NEEDS_INPUT = "needs_input"
    # A run asked to wait for review: its changes are held as a proposal, applied only when accepted.
    PROPOSED = "proposed"


class Apply(models.TextChoices):
    NOW = "now", "Apply the changes as one revision when the run ends"
    REVIEW = "review", "Hold them as a proposal to accept (all or some files) or dismiss"


ACTIVE = (Status.QUEUED, Status.RUNNING)
TERMINAL = tuple(status for status in Status if status not in ACTIVE)


class Conversation(models.Model):
    """A thread about a project: its prompts, answers and runs. A run's context is its conversation only."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField()
    project_id = models.UUIDField()
    title = models.CharField(max_length=200, blank=True, default="")
    archived_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    last_active_at = models.DateTimeField(
        default=timezone.now, help_text="When a run last started in it: the latest is the default one."
    )

    class Meta:
        ordering = ["-last_active_at"]
        indexes = [models.Index(fields=["user_id", "project_id", "-last_active_at"])]

    def __str__(self) -> str:
        return self.title or str(self.id)


class Generation(models.Model):
    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    user_id = models.UUIDField(db_index=True)
    project_id = models.UUIDField(db_index=True)
    # Set on every run; empty only on rows older than conversations until their migration filled them.
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="generations"
    )
    model = models.ForeignKey(LanguageModel, on_delete=models.PROTECT, related_name="generations")
    mode = models.CharField(max_length=10, choices=Mode.choices, default=Mode.BUILD)
    apply = models.CharField(max_length=10, choices=Apply.choices, default=Apply.NOW)
    prompt = models.TextField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.QUEUED)

    # Money: the ceiling is held at payments before the run starts; `cost` is what was captured.
    max_credits = models.PositiveIntegerField(null=True, blank=True)
    options = models.JSONField(
        default=dict, blank=True, help_text="What the run asks of its model beyond the prompt (temperature…)."
    )
    ceiling = models.PositiveIntegerField(default=0)
    hold_id = models.CharField(max_length=64, blank=True)
    settled = models.BooleanField(default=False)
    input_tokens = models.PositiveIntegerField(default=0)
    output_tokens = models.PositiveIntegerField(default=0)
    cost = models.PositiveIntegerField(default=0)

    # The project revision the run started from, and the one it produced.
    base_revision = models.PositiveIntegerField(null=True, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True)
    summary = models.TextField(blank=True)
    error_code = models.CharField(max_length=50, blank=True)
    error_message = models.TextField(blank=True)

    cancel_requested = models.BooleanField(default=False)
    event_seq = models.PositiveIntegerField(default=0)
    heartbeat_at = models.DateTimeField(null=True, blank=True)
    # Which attempt is running it: a run queued again after losing its worker starts the next one,
    # and only the current attempt may end it.
    attempt = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["user_id", "project_id", "-created_at"]),
            models.Index(fields=["status", "heartbeat_at"]),
        ]
        constraints = [
            # At most one build per project is queued or running; the database decides races.
            models.UniqueConstraint(
                fields=["project_id"],
                condition=models.Q(mode="build", status__in=["queued", "running"]),
                name="generations_one_active_build_per_project",
            ),
            models.CheckConstraint(
                condition=models.Q(cost__lte=models.F("ceiling")), name="generations_cost_within_ceiling"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.id} ({self.status})"

    @property
    def is_terminal(self) -> bool:
        return self.status in TERMINAL


class Event(models.Model):
    """One step of a run, numbered so a client can resume with Last-Event-ID."""

    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="events")
    seq = models.PositiveIntegerField()
    type = models.CharField(max_length=30)
    data = models.JSONField(default=dict)
    # Stamped by the write (not auto_now_add): a retried write finds by it whether its first try landed.
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["generation", "seq"]
        constraints = [
            models.UniqueConstraint(fields=["generation", "seq"], name="events_unique_seq"),
        ]

    def __str__(self) -> str:
        return f"{self.generation_id}#{self.seq} {self.type}"


class Role(models.TextChoices):
    USER = "user"
    ASSISTANT = "assistant"


class Message(models.Model):
    """The conversation about a project: each prompt and each run's answer."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    project_id = models.UUIDField()
    user_id = models.UUIDField()
    conversation = models.ForeignKey(
        Conversation, null=True, blank=True, on_delete=models.CASCADE, related_name="messages"
    )
    generation = models.ForeignKey(
        Generation, null=True, blank=True, on_delete=models.SET_NULL, related_name="messages"
    )
    role = models.CharField(max_length=10, choices=Role.choices)
    content = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    hidden_at = models.DateTimeField(
        null=True, blank=True, help_text="Rewound past: kept for the record, out of the model's context."
    )

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["user_id", "project_id", "created_at"]),
            models.Index(fields=["conversation", "created_at"]),
        ]

    def __str__(self) -> str:
        return f"{self.role}: {self.content[:40]}"


class UserSlot(models.Model):
    """A row to lock per user, so the per-user limit on running generations holds under races."""

    user_id = models.UUIDField(primary_key=True)

    def __str__(self) -> str:
        return str(self.user_id)


class StreamTicket(models.Model):
    """A browser's proof for opening one generation's events once: only the ticket's hash is kept."""

    hash = models.CharField(max_length=64, unique=True)
    generation = models.ForeignKey(Generation, on_delete=models.CASCADE, related_name="stream_tickets")
    user_id = models.UUIDField()
    expires_at = models.DateTimeField(db_index=True)
    used_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"ticket for {self.generation_id} ({'used' if self.used_at else 'unused'})"


class Proposal(models.Model):
    """A reviewed run's changes, held: applied as one revision when accepted (all or some files)."""

    class State(models.TextChoices):
        PENDING = "pending"
        ACCEPTED = "accepted"
        DISMISSED = "dismissed"

    generation = models.OneToOneField(
        Generation, on_delete=models.CASCADE, primary_key=True, related_name="proposal"
    )
    base_revision = models.PositiveIntegerField(help_text="The revision the run started from.")
    changes = models.JSONField(help_text="The change set as projects takes it: writes, deletes, renames.")
    # Each changed file: path, action, from_path, and its text before and after where it is text.
    files = models.JSONField()
    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING)
    expires_at = models.DateTimeField()
    accepted_paths = models.JSONField(default=list, blank=True)
    revision = models.PositiveIntegerField(null=True, blank=True, help_text="The revision accepting made.")
    decided_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"{self.generation_id} {self.state}"
