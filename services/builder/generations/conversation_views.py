"""Conversation routes: a project's threads, one thread, and its messages."""

from dataclasses import asdict

from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.response import Response

from generations import conversations
from generations.models import Message
from generations.ownership import OwnedConversationView, OwnedProjectView
from generations.serializers import (
    ConversationCreateSerializer,
    ConversationListQuerySerializer,
    ConversationSerializer,
    ConversationUpdateSerializer,
    MessageSerializer,
    RewindSerializer,
)
from oasis_common.ordering import OrderingFilter
from oasis_common.pagination import Pagination
from oasis_common.schema import error_responses


class ProjectConversationsView(OwnedProjectView):
    pagination_class = Pagination
    filter_backends = [OrderingFilter]
    ordering_fields = ("last_active_at", "created_at", "title")
    ordering = "-last_active_at"

    @extend_schema(
        parameters=[ConversationListQuerySerializer],
        responses={200: ConversationSerializer(many=True), **error_responses(400, 401, 404, 503)},
        summary="The project's conversations, most recently active first (?archived=true: the archived)",
    )
    def get(self, request, project_id):
        query = ConversationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = conversations.conversations_of(
            user_id=request.user.id, project_id=self.project["id"], archived=query.validated_data["archived"]
        )
        queryset = OrderingFilter().filter_queryset(request, queryset, self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(ConversationSerializer(page, many=True).data)

    @extend_schema(
        request=ConversationCreateSerializer,
        responses={201: ConversationSerializer, **error_responses(400, 401, 404, 503)},
        summary="Start a conversation about the project (the next run without one goes in it)",
    )
    def post(self, request, project_id):
        serializer = ConversationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = conversations.conversation_create(
            user_id=request.user.id,
            project_id=self.project["id"],
            title=serializer.validated_data.get("title", ""),
        )
        return Response(ConversationSerializer(conversation).data, status=status.HTTP_201_CREATED)


class ConversationView(OwnedConversationView):
    @extend_schema(
        responses={200: ConversationSerializer, **error_responses(401, 404)}, summary="One conversation"
    )
    def get(self, request, conversation_id):
        return Response(ConversationSerializer(self.conversation).data)

    @extend_schema(
        request=ConversationUpdateSerializer,
        responses={200: ConversationSerializer, **error_responses(400, 401, 404)},
        summary="Rename, archive or unarchive a conversation",
    )
    def patch(self, request, conversation_id):
        serializer = ConversationUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        conversation = conversations.conversation_update(
            user_id=request.user.id,
            conversation_id=self.conversation.id,
            title=serializer.validated_data.get("title"),
            archived=serializer.validated_data.get("archived"),
        )
        return Response(ConversationSerializer(conversation).data)

    @extend_schema(
        responses={204: None, **error_responses(401, 404, 409)},
        summary="Delete a conversation, its messages and runs (never the revisions they made)",
    )
    def delete(self, request, conversation_id):
        conversations.conversation_delete(user_id=request.user.id, conversation_id=self.conversation.id)
        return Response(status=status.HTTP_204_NO_CONTENT)


class ConversationMessagesView(OwnedConversationView):
    pagination_class = Pagination
    filter_backends = [OrderingFilter]
    ordering_fields = ("created_at",)
    ordering = "created_at"

    @extend_schema(
        responses={200: MessageSerializer(many=True), **error_responses(401, 404)},
        summary="The conversation's messages, oldest first; each answer with its run's status and cost",
    )
    def get(self, request, conversation_id):
        queryset = Message.objects.filter(conversation=self.conversation).order_by("created_at")
        queryset = OrderingFilter().filter_queryset(request, queryset, self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        messages = MessageSerializer(page, many=True, context={"user_id": request.user.id})
        return paginator.get_paginated_response(messages.data)


class MessageRewindView(OwnedConversationView):
    @extend_schema(
        request=None,
        responses={200: RewindSerializer, **error_responses(401, 404, 409, 422, 503)},
        summary="Go back to before this message's run: its files as a new revision, later messages hidden",
        description=(
            "The project's files become those the message's run started from (a new revision; history is "
            "kept), and that prompt and every later message of the conversation leave the model's context "
            "(they stay listed, with `hidden_at`). Answers the prompt, for a client to edit and send again. "
            "Asked again, it makes nothing new."
        ),
    )
    def post(self, request, conversation_id, message_id):
        rewound = conversations.conversation_rewind(
            user_id=request.user.id, conversation_id=self.conversation.id, message_id=message_id
        )
        return Response(RewindSerializer(asdict(rewound)).data)
