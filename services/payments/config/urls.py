"""Routes of the payments service: public API under /api/v1/payments/, internal under /internal/v1/."""

from django.contrib import admin
from django.urls import include, path

from credits.urls import internal_urlpatterns
from oasis_common.provider_states import provider_state_urls

urlpatterns = [
    path("api/v1/payments/", include("credits.urls")),
    path("api/v1/payments/", include("purchases.urls")),
    path("internal/v1/", include(internal_urlpatterns)),
    path("admin/", admin.site.urls),
    path("", include("oasis_common.urls")),
    # Contract tests only: empty unless OASIS_PROVIDER_STATES is on, which production refuses.
    *provider_state_urls("config.provider_states"),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
