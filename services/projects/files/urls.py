"""Routes of a project's files, change sets and revisions; the builder's snapshot and change set."""

from django.urls import path, re_path

from files import views

urlpatterns = [
    path("files/", views.FileListView.as_view(), name="files"),
    path("files/<path:file_path>", views.FileView.as_view(), name="file"),
    path("changes/", views.ChangeSetView.as_view(), name="changes"),
    path("revisions/", views.RevisionListView.as_view(), name="revisions"),
    re_path(r"^revisions/diff/?$", views.RevisionDiffView.as_view(), name="revision-diff"),
    path("revisions/<int:number>/", views.RevisionDetailView.as_view(), name="revision"),
    path("revisions/<int:number>/restore/", views.RevisionRestoreView.as_view(), name="revision-restore"),
]

internal_urlpatterns = [
    path(
        "projects/<uuid:project_id>/snapshot", views.InternalSnapshotView.as_view(), name="internal-snapshot"
    ),
    path(
        "projects/<uuid:project_id>/changes", views.InternalChangeSetView.as_view(), name="internal-changes"
    ),
    path("projects/<uuid:project_id>/restore", views.InternalRestoreView.as_view(), name="internal-restore"),
]
