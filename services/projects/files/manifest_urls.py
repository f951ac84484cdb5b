"""Routes of the internal endpoints the sites service publishes from."""

from django.urls import path

from files import manifest_views

internal_urlpatterns = [
    path(
        "projects/<uuid:project_id>/revisions/<str:revision>/manifest",
        manifest_views.InternalManifestView.as_view(),
        name="internal-manifest",
    ),
    path(
        "projects/<uuid:project_id>/blobs",
        manifest_views.InternalBlobBatchView.as_view(),
        name="internal-blobs",
    ),
]
