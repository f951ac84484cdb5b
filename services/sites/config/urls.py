"""Routes of the sites service: the public API under /api/v1/sites/, and the files the gateway serves."""

from django.contrib import admin
from django.urls import include, path, re_path

from hosting import serving

urlpatterns = [
    path("api/v1/sites/", include("hosting.urls")),
    # The gateway's internal locations only (a bucket store): hosting/serving.py.
    re_path(r"^serve/site/(?P<slug>[a-z0-9-]{3,63})/(?P<path>.*)$", serving.site_file_view),
    re_path(r"^serve/host/(?P<hostname>[a-z0-9][a-z0-9.-]{0,252})/(?P<path>.*)$", serving.host_file_view),
    path("admin/", admin.site.urls),
    path("", include("oasis_common.urls")),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
