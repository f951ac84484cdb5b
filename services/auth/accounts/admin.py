"""Django admin for users; changes that affect sign-in publish the user's token cutoff."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import AdminPasswordChangeForm, UserChangeForm, UserCreationForm

from accounts import users
from accounts.models import User, normalize_email
from tokens import revocation


class UserCreateForm(UserCreationForm):
    class Meta:
        model = User
        fields = ("email", "name")

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class UserEditForm(UserChangeForm):
    class Meta:
        model = User
        fields = "__all__"

    def clean_email(self):
        return normalize_email(self.cleaned_data["email"])


class UserPasswordForm(AdminPasswordChangeForm):
    """Setting (or removing) a password here ends every session, as a change through the API does."""

    def save(self, commit=True):
        user = super().save(commit=commit)
        if commit:
            users.tokens_revoke_all(user=user)
        return user


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserEditForm
    add_form = UserCreateForm
    change_password_form = UserPasswordForm
    ordering = ["-date_joined"]
    list_display = ["email", "name", "is_active", "is_staff", "date_joined"]
    list_filter = ["is_active", "is_staff", "is_superuser"]
    search_fields = ["email", "name"]
    readonly_fields = ["id", "date_joined", "last_login", "tokens_valid_after"]
    fieldsets = [
        (None, {"fields": ["id", "email", "name", "password"]}),
        ("Status", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["date_joined", "last_login", "tokens_valid_after"]}),
    ]
    add_fieldsets = [
        (None, {"classes": ["wide"], "fields": ["email", "name", "password1", "password2"]}),
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not obj.is_active and "is_active" in form.changed_data:
            # Deactivation ends every session for good: reactivating the account must not revive them.
            users.tokens_revoke_all(user=obj)
        else:
            revocation.cutoff_publish(user=obj)

    def delete_model(self, request, obj):
        user_id = obj.pk
        super().delete_model(request, obj)
        revocation.cutoff_forget(user_id=str(user_id))

    def delete_queryset(self, request, queryset):
        user_ids = [str(pk) for pk in queryset.values_list("pk", flat=True)]
        super().delete_queryset(request, queryset)
        for user_id in user_ids:
            revocation.cutoff_forget(user_id=user_id)
