"""Django admin: accounts, ledger and holds are read-only; staff post adjustments through the ledger."""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse

from credits.adjustments import ledger_adjust
from credits.forms import AdjustmentForm
from credits.models import CreditAccount, Hold, LedgerEntry

ADJUST_PERMISSION = "credits.post_adjustment"


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(CreditAccount)
class CreditAccountAdmin(ReadOnlyAdmin):
    list_display = ["user_id", "balance", "held", "available", "created_at"]
    search_fields = ["=user_id"]
    readonly_fields = ["user_id", "balance", "held", "available", "created_at", "updated_at"]
    fields = readonly_fields
    actions = ["post_adjustment"]

    def has_post_adjustment_permission(self, request):
        return request.user.has_perm(ADJUST_PERMISSION)

    def get_urls(self):
        adjust = path(
            "<int:account_id>/adjust/",
            self.admin_site.admin_view(self.adjust_view),
            name="credits_creditaccount_adjust",
        )
        return [adjust, *super().get_urls()]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "can_adjust": self.has_post_adjustment_permission(request)}
        return super().change_view(request, object_id, form_url, extra_context)

    @admin.action(description="Post an adjustment to the selected account", permissions=["post_adjustment"])
    def post_adjustment(self, request, queryset):
        accounts = list(queryset[:2])
        if len(accounts) != 1:
            self.message_user(request, "Select exactly one account to adjust.", messages.WARNING)
            return None
        return redirect("admin:credits_creditaccount_adjust", account_id=accounts[0].pk)

    def adjust_view(self, request, account_id):
        if not self.has_post_adjustment_permission(request):
            raise PermissionDenied
        account = get_object_or_404(CreditAccount, pk=account_id)
        form = AdjustmentForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            entry = ledger_adjust(
                user_id=account.user_id,
                amount=form.cleaned_data["amount"],
                reason=form.cleaned_data["reason"],
                actor=f"staff:{request.user.get_username()} (id {request.user.pk})",
                idempotency_key=str(form.cleaned_data["idempotency_key"]),
            )
            self.message_user(
                request, f"Posted {entry.amount:+d} credits; the balance is now {entry.balance_after}."
            )
            return redirect(reverse("admin:credits_creditaccount_change", args=[account.pk]))
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "title": f"Adjust the credits of {account.user_id}",
            "account": account,
            "form": form,
        }
        return TemplateResponse(request, "admin/credits/creditaccount/adjustment_form.html", context)


@admin.register(LedgerEntry)
class LedgerEntryAdmin(ReadOnlyAdmin):
    list_display = ["created_at", "account", "kind", "amount", "held_change", "balance_after", "actor"]
    list_filter = ["kind", "created_at"]
    list_select_related = ["account"]
    search_fields = ["=account__user_id", "=idempotency_key", "=stripe_object_id", "=generation_id"]
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in LedgerEntry._meta.fields]
    fields = readonly_fields


@admin.register(Hold)
class HoldAdmin(ReadOnlyAdmin):
    list_display = ["id", "account", "service", "amount", "status", "captured_amount", "expires_at"]
    list_filter = ["status", "service"]
    list_select_related = ["account"]
    search_fields = ["=id", "=account__user_id", "=generation_id"]
    readonly_fields = [field.name for field in Hold._meta.fields]
    fields = readonly_fields
