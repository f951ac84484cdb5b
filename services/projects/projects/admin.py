"""Django admin for projects: read-mostly; deleting goes through the same function as the API."""

from django.contrib import admin

from files.models import Revision
from projects import lifecycle
from projects.models import Project


class RevisionInline(admin.TabularInline):
    model = Revision
    fields = ["number", "message", "author_user_id", "generation_id", "file_count", "size", "created_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = False
    ordering = ["-number"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(Project)
class ProjectAdmin(admin.ModelAdmin):
    list_display = ["name", "owner_id", "current_revision", "file_count", "size", "updated_at"]
    search_fields = ["name", "=owner_id"]
    list_filter = ["template"]
    readonly_fields = [
        "id",
        "owner_id",
        "template",
        "current_revision",
        "file_count",
        "size",
        "created_at",
        "updated_at",
    ]
    fields = ["id", "owner_id", "name", "description", *readonly_fields[2:]]
    inlines = [RevisionInline]

    def has_add_permission(self, request):
        return False

    def get_deleted_objects(self, objs, request):
        # The history goes with the project through project_delete; listing every revision and
        # blob (loading their bytes) would help no one, and history has no delete permission.
        return [str(project) for project in objs], {"projects": len(objs)}, set(), []

    def delete_model(self, request, obj):
        lifecycle.project_delete(owner_id=obj.owner_id, project_id=obj.pk)

    def delete_queryset(self, request, queryset):
        for project in queryset:
            lifecycle.project_delete(owner_id=project.owner_id, project_id=project.pk)
