"""Django admin for purchases: everything here is what Stripe said, so it is read-only."""

from django.contrib import admin

from credits.admin import ReadOnlyAdmin
from purchases.models import CheckoutSession, Dispute, Payment, StripeEvent


@admin.register(CheckoutSession)
class CheckoutSessionAdmin(ReadOnlyAdmin):
    list_display = ["session_id", "user_id", "pack_id", "credits", "amount_total", "currency", "status"]
    list_filter = ["status", "pack_id", "created_at"]
    search_fields = ["=session_id", "=user_id", "=payment_intent_id"]
    readonly_fields = [field.name for field in CheckoutSession._meta.fields]
    fields = readonly_fields


@admin.register(Payment)
class PaymentAdmin(ReadOnlyAdmin):
    list_display = ["payment_intent_id", "charge_id", "amount_refunded", "updated_at"]
    search_fields = ["=payment_intent_id", "=charge_id"]
    readonly_fields = [field.name for field in Payment._meta.fields]
    fields = readonly_fields


@admin.register(Dispute)
class DisputeAdmin(ReadOnlyAdmin):
    list_display = [
        "dispute_id",
        "payment_intent_id",
        "amount",
        "outcome",
        "credits_removed",
        "credits_restored",
    ]
    list_filter = ["outcome"]
    search_fields = ["=dispute_id", "=payment_intent_id", "=charge_id"]
    readonly_fields = [field.name for field in Dispute._meta.fields]
    fields = readonly_fields


@admin.register(StripeEvent)
class StripeEventAdmin(ReadOnlyAdmin):
    list_display = ["event_id", "type", "object_id", "livemode", "received_at"]
    list_filter = ["type", "livemode"]
    search_fields = ["=event_id", "=object_id"]
    readonly_fields = [field.name for field in StripeEvent._meta.fields]
    fields = readonly_fields
