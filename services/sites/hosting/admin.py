"""Staff views of sites, deployments and domains; a takedown is a reason written on the site."""

from django import forms
from django.contrib import admin

from hosting.models import Deployment, Domain, Site
from hosting.takedowns import site_disable, site_enable


class SiteForm(forms.ModelForm):
    class Meta:
        model = Site
        fields = ["disabled_reason"]
        labels = {"disabled_reason": "Takedown reason"}
        help_texts = {
            "disabled_reason": "A reason takes the site down (its owner sees it); none restores it."
        }


@admin.register(Site)
class SiteAdmin(admin.ModelAdmin):
    form = SiteForm
    list_display = ["slug", "owner_id", "project_id", "published", "disabled_at", "created_at"]
    list_filter = ["published", ("disabled_at", admin.EmptyFieldListFilter)]
    search_fields = ["slug", "=owner_id", "=project_id"]
    readonly_fields = ["id", "owner_id", "project_id", "slug", "live_deployment", "published", "disabled_at"]
    fields = [*readonly_fields, "disabled_reason"]

    def has_add_permission(self, request) -> bool:
        return False

    def save_model(self, request, obj, form, change) -> None:
        # The takedown changes the store too, so it goes through the domain functions, not obj.save().
        reason = form.cleaned_data["disabled_reason"].strip()
        if reason:
            site_disable(site_id=obj.pk, reason=reason)
        else:
            site_enable(site_id=obj.pk)


@admin.register(Deployment)
class DeploymentAdmin(admin.ModelAdmin):
    list_display = ["id", "site", "revision", "file_count", "size", "created_at"]
    readonly_fields = ["id", "site", "revision", "file_count", "size", "published_by", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False


@admin.register(Domain)
class DomainAdmin(admin.ModelAdmin):
    list_display = ["hostname", "site", "verified_at", "created_at"]
    search_fields = ["hostname", "site__slug"]
    readonly_fields = ["id", "site", "hostname", "verification_token", "verified_at", "created_at"]

    def has_add_permission(self, request) -> bool:
        return False
