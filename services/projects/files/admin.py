"""Django admin for revisions: read-only; history is never edited."""

from django.contrib import admin

from files.models import Revision


@admin.register(Revision)
class RevisionAdmin(admin.ModelAdmin):
    list_display = ["project", "number", "message", "author_user_id", "generation_id", "created_at"]
    list_select_related = ["project"]
    search_fields = ["=project__id", "generation_id", "message"]
    readonly_fields = [
        "project",
        "number",
        "message",
        "author_user_id",
        "generation_id",
        "restored_from",
        "file_count",
        "size",
        "created_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
