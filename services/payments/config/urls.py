"""Routes of the payments service: public API under /api/v1/payments/, internal under /internal/v1/."""

from django.contrib import admin
from django.urls import include, path

from credits.urls import internal_urlpatterns

urlpatterns = [
    path("api/v1/payments/", include("credits.urls")),
    path("api/v1/payments/", include("purchases.urls")),
    path("internal/v1/", include(internal_urlpatterns)),
    path("admin/", admin.site.urls),
    path("", include("oasis_common.urls")),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
