"""Routes of projects: the collection, one project, templates, import and export; internal metadata."""

from django.urls import path

from projects import publication_views, views

urlpatterns = [
    path("", views.ProjectListView.as_view(), name="projects"),
    path("templates/", views.TemplateListView.as_view(), name="templates"),
    path("import/", views.ProjectImportView.as_view(), name="project-import"),
    path("<uuid:project_id>/", views.ProjectDetailView.as_view(), name="project"),
    path("<uuid:project_id>/export/", views.ProjectExportView.as_view(), name="project-export"),
]

internal_urlpatterns = [
    path("projects/<uuid:project_id>", views.InternalProjectView.as_view(), name="internal-project"),
    path(
        "projects/<uuid:project_id>/publication",
        publication_views.InternalPublicationView.as_view(),
        name="internal-publication",
    ),
]
