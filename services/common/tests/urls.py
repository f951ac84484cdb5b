"""Routes of the test project, laid out like a service's: public, internal and platform."""

from django.urls import include, path

from tests.testapp.urls import internal_urlpatterns

urlpatterns = [
    path("api/v1/testapp/", include("tests.testapp.urls")),
    path("internal/v1/testapp/", include(internal_urlpatterns)),
    path("", include("oasis_common.urls")),
]

handler400 = "oasis_common.errors.bad_request"
handler403 = "oasis_common.errors.permission_denied"
handler404 = "oasis_common.errors.page_not_found"
handler500 = "oasis_common.errors.server_error"
