"""Routes of sites, their deployments and their custom domains."""

from django.urls import path

from hosting import views

urlpatterns = [
    path("", views.SiteListView.as_view(), name="sites"),
    path("<uuid:site_id>/", views.SiteDetailView.as_view(), name="site"),
    path("<uuid:site_id>/deployments/", views.DeploymentListView.as_view(), name="deployments"),
    path(
        "<uuid:site_id>/deployments/<uuid:deployment_id>/",
        views.DeploymentDetailView.as_view(),
        name="deployment",
    ),
    path("<uuid:site_id>/rollback/", views.SiteRollbackView.as_view(), name="site-rollback"),
    path("<uuid:site_id>/unpublish/", views.SiteUnpublishView.as_view(), name="site-unpublish"),
    path("<uuid:site_id>/republish/", views.SiteRepublishView.as_view(), name="site-republish"),
    path("<uuid:site_id>/domains/", views.DomainListView.as_view(), name="domains"),
    path("<uuid:site_id>/domains/<uuid:domain_id>/", views.DomainDetailView.as_view(), name="domain"),
    path(
        "<uuid:site_id>/domains/<uuid:domain_id>/verify/",
        views.DomainVerifyView.as_view(),
        name="domain-verify",
    ),
]
