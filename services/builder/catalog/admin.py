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
    ]
    list_filter = ["enabled", "is_default"]
    search_fields = ["slug", "display_name", "upstream_model"]
