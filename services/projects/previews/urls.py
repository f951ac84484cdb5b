"""Routes of previews: the link endpoint under a project, and the public pages under /preview/."""

from django.urls import path

from previews import views

urlpatterns = [
    path("preview/", views.PreviewCreateView.as_view(), name="preview-create"),
]

public_urlpatterns = [
    path("<str:token>/", views.preview_serve, name="preview"),
    path("<str:token>/<path:path>", views.preview_serve, name="preview-file"),
]
