"""Generations, their messages and events in the Django admin, for operators looking into a run."""

from django.contrib import admin

from generations.models import Event, Generation, Message


@admin.register(Generation)
class GenerationAdmin(admin.ModelAdmin):
    list_display = ["id", "user_id", "project_id", "model", "mode", "status", "ceiling", "cost", "created_at"]
    list_filter = ["status", "mode", "model"]
    search_fields = ["id", "user_id", "project_id"]
    readonly_fields = [field.name for field in Generation._meta.fields]

    def has_add_permission(self, request):
        return False


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["generation", "seq", "type", "created_at"]
    list_filter = ["type"]
    readonly_fields = ["generation", "seq", "type", "data", "created_at"]

    def has_add_permission(self, request):
        return False


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["project_id", "role", "created_at"]
    readonly_fields = ["project_id", "user_id", "generation", "role", "content", "created_at"]

    def has_add_permission(self, request):
        return False
