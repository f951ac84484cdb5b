"""Routes of the projects service: the public API, the public preview pages, and the internal API."""

from django.contrib import admin
from django.urls import include, path

from files.manifest_urls import internal_urlpatterns as manifests_internal
from files.urls import internal_urlpatterns as files_internal
from oasis_common.provider_states import provider_state_urls
from previews.urls import public_urlpatterns as preview_pages
from projects.urls import internal_urlpatterns as projects_internal

urlpatterns = [
    path("api/v1/projects/", include("projects.urls")),
    path("api/v1/projects/<uuid:project_id>/", include("files.urls")),
    path("api/v1/projects/<uuid:project_id>/", include("previews.urls")),
    path("preview/", include(preview_pages)),
    path("internal/v1/", include(projects_internal + files_internal + manifests_internal)),
    path("admin/", admin.site.urls),
    path("", include("oasis_common.urls")),
    # Contract tests only: empty unless OASIS_PROVIDER_STATES is on, which production refuses.
    *provider_state_urls("config.provider_states"),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
