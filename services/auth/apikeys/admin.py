"""Django admin for API keys: staff list and delete them, never create one (its secret is its owner's)."""

from django.contrib import admin

from apikeys import keys
from apikeys.models import ApiKey


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    list_display = ["name", "user", "prefix", "scope", "created_at", "last_used_at"]
    list_filter = ["scope"]
    search_fields = ["name", "prefix", "user__email"]
    readonly_fields = ["id", "user", "prefix", "secret_hash", "created_at", "last_used_at"]

    def has_add_permission(self, request):
        return False

    def delete_model(self, request, obj):
        keys.apikey_delete(key=obj)

    def delete_queryset(self, request, queryset):
        for key in queryset:
            keys.apikey_delete(key=key)
