"""Routes of the API keys app: list and create keys; read, rename or delete one."""

from django.urls import path

from apikeys import views

urlpatterns = [
    path("api-keys/", views.ApiKeyListView.as_view(), name="api-keys"),
    path("api-keys/<uuid:key_id>/", views.ApiKeyDetailView.as_view(), name="api-key"),
]
