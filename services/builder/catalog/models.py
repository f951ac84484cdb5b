"""The models a generation may use: how they are named to users, what serves them, what they cost."""

from django.db import models


class LanguageModel(models.Model):
    slug = models.SlugField(max_length=100, unique=True, help_text="The id clients send.")
    display_name = models.CharField(max_length=150)
    upstream_model = models.CharField(max_length=200, help_text="The model name the endpoint expects.")
    base_url = models.URLField(
        blank=True, help_text="An OpenAI-compatible endpoint; blank means OPENAI_BASE_URL (or OpenAI)."
    )
    api_key_env = models.CharField(
        max_length=100,
        blank=True,
        help_text="The environment variable holding this endpoint's key; blank means OPENAI_API_KEY.",
    )
    context_window = models.PositiveIntegerField()
    max_output_tokens = models.PositiveIntegerField()
    input_price = models.PositiveIntegerField(help_text="Credits per million input tokens.")
    output_price = models.PositiveIntegerField(help_text="Credits per million output tokens.")
    options = models.JSONField(
        default=list,
        blank=True,
        help_text='The options a generation may set for it: "temperature", "reasoning_effort".',
    )
    is_default = models.BooleanField(default=False)
    enabled = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=100)
    # Catalog health, for operators: why the endpoint last refused this model, until it next serves it.
    problem = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why the endpoint last refused this model (a key, an unknown model, not the OpenAI "
        "protocol); blank once it serves a run again.",
    )
    problem_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["position", "slug"]
        constraints = [
            models.UniqueConstraint(
                fields=["is_default"], condition=models.Q(is_default=True), name="catalog_one_default_model"
            ),
        ]

    def __str__(self) -> str:
        return self.slug
