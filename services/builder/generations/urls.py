"""The generations' public routes (under /api/v1/builder/)."""

from django.urls import path

from generations import views

urlpatterns = [
    path(
        "projects/<uuid:project_id>/generations/",
        views.ProjectGenerationsView.as_view(),
        name="project-generations",
    ),
    path(
        "projects/<uuid:project_id>/messages/", views.ProjectMessagesView.as_view(), name="project-messages"
    ),
    path("generations/<uuid:generation_id>/", views.GenerationView.as_view(), name="generation"),
    path(
        "generations/<uuid:generation_id>/cancel/",
        views.GenerationCancelView.as_view(),
        name="generation-cancel",
    ),
    path("generations/<uuid:generation_id>/events/", views.generation_events, name="generation-events"),
    path(
        "generations/<uuid:generation_id>/events/ticket/",
        views.GenerationEventsTicketView.as_view(),
        name="generation-events-ticket",
    ),
    path("estimate/", views.EstimateView.as_view(), name="estimate"),
]
