"""Routes every service mounts: Prometheus metrics (never routed by the gateway)."""

from django.urls import path
from django_prometheus.exports import ExportToDjangoView

urlpatterns = [
    path("metrics", ExportToDjangoView, name="metrics"),
]
