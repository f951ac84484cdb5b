"""The model catalog in the Django admin: operators add, price, order and disable models."""

from django.contrib import admin

from catalog.models import LanguageModel


@admin.register(LanguageModel)
class LanguageModelAdmin(admin.ModelAdmin):
    list_display = [
        "slug",
        "display_name",
        "upstream_model",
        "input_price",
        "output_price",
        "is_default",
        "enabled",
        "problem",
        "problem_at",
    ]
    list_filter = ["enabled", "is_default"]
    readonly_fields = ["problem", "problem_at"]
    search_fields = ["slug", "display_name", "upstream_model"]
