"""The generations' public routes (under /api/v1/builder/)."""

from django.urls import path

from generations import conversation_views, views

urlpatterns = [
    path(
        "projects/<uuid:project_id>/generations/",
        views.ProjectGenerationsView.as_view(),
        name="project-generations",
    ),
    path(
        "projects/<uuid:project_id>/messages/", views.ProjectMessagesView.as_view(), name="project-messages"
    ),
    path(
        "projects/<uuid:project_id>/conversations/",
        conversation_views.ProjectConversationsView.as_view(),
        name="project-conversations",
    ),
    path(
        "conversations/<uuid:conversation_id>/",
        conversation_views.ConversationView.as_view(),
        name="conversation",
    ),
    path(
        "conversations/<uuid:conversation_id>/messages/",
        conversation_views.ConversationMessagesView.as_view(),
        name="conversation-messages",
    ),
    path(
        "conversations/<uuid:conversation_id>/messages/<uuid:message_id>/rewind/",
        conversation_views.MessageRewindView.as_view(),
        name="message-rewind",
    ),
    path("generations/<uuid:generation_id>/", views.GenerationView.as_view(), name="generation"),
    path(
        "generations/<uuid:generation_id>/cancel/",
        views.GenerationCancelView.as_view(),
        name="generation-cancel",
    ),
    path(
        "generations/<uuid:generation_id>/proposal/",
        views.GenerationProposalView.as_view(),
        name="generation-proposal",
    ),
    path(
        "generations/<uuid:generation_id>/proposal/accept/",
        views.ProposalAcceptView.as_view(),
        name="proposal-accept",
    ),
    path(
        "generations/<uuid:generation_id>/proposal/dismiss/",
        views.ProposalDismissView.as_view(),
        name="proposal-dismiss",
    ),
    path("generations/<uuid:generation_id>/events/", views.generation_events, name="generation-events"),
    path(
        "generations/<uuid:generation_id>/events/ticket/",
        views.GenerationEventsTicketView.as_view(),
        name="generation-events-ticket",
    ),
    path("estimate/", views.EstimateView.as_view(), name="estimate"),
]
