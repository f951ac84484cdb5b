"""The catalog's public routes."""

from django.urls import path

from catalog import views

urlpatterns = [
    path("models/", views.ModelListView.as_view(), name="models"),
]
