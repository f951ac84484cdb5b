"""Routes of the sites service: the public API under /api/v1/sites/."""

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("api/v1/sites/", include("hosting.urls")),
    path("admin/", admin.site.urls),
    path("", include("oasis_common.urls")),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
