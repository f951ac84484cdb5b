"""Routes of the purchases app: packs, checkout and Stripe's webhook."""

from django.urls import path

from purchases import views

urlpatterns = [
    path("packs/", views.PackListView.as_view(), name="packs"),
    path("checkout/", views.CheckoutView.as_view(), name="checkout"),
    path("checkout/<str:session_id>/", views.CheckoutDetailView.as_view(), name="checkout-session"),
    path("webhooks/stripe/", views.StripeWebhookView.as_view(), name="stripe-webhook"),
]
