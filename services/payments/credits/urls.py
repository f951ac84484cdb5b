"""Routes of the credits app: public balance and ledger, internal accounts and holds."""

from django.urls import path

from credits import views

urlpatterns = [
    path("balance/", views.BalanceView.as_view(), name="balance"),
    path("ledger/", views.LedgerView.as_view(), name="ledger"),
]

internal_urlpatterns = [
    path("accounts/<uuid:user_id>/balance", views.AccountBalanceView.as_view(), name="account-balance"),
    path("holds", views.HoldCollectionView.as_view(), name="holds"),
    path("holds/<uuid:hold_id>", views.HoldDetailView.as_view(), name="hold"),
    path("holds/<uuid:hold_id>/capture", views.HoldCaptureView.as_view(), name="hold-capture"),
    path("holds/<uuid:hold_id>/release", views.HoldReleaseView.as_view(), name="hold-release"),
]
