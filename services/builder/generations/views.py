"""Generation endpoints: start, estimate, read, cancel, list, the conversation, and the live events."""

import uuid

from django.http import StreamingHttpResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import APIView

from generations import admission, lifecycle, peers, proposals, tickets
from generations.connections import off_request_thread
from generations.filters import generations_filter
from generations.models import Generation
from generations.ownership import OwnedGenerationView, OwnedProjectView
from generations.serializers import (
    EstimateRequestSerializer,
    EstimateSerializer,
    GenerationCreateSerializer,
    GenerationListQuerySerializer,
    GenerationSerializer,
    MessageSerializer,
    ProposalAcceptSerializer,
    ProposalSerializer,
    StreamTicketSerializer,
)
from generations.streams import event_stream
from oasis_common.authentication import UserJWTAuthentication
from oasis_common.errors import NotFound, error_response
from oasis_common.ordering import OrderingFilter
from oasis_common.pagination import Pagination
from oasis_common.schema import error_responses


class ProjectGenerationsView(OwnedProjectView):
    pagination_class = Pagination
    filter_backends = [OrderingFilter]
    ordering_fields = ("created_at", "cost")
    ordering = "-created_at"
    _give_turn_back = None

    def load_owned(self, request, **url_kwargs) -> None:
        if request.method == "POST":
            # A start takes its turn before projects is asked whose the project is: a burst of
            # starts waits here (or is refused, 429), not in front of projects.
            self._give_turn_back = admission.start_turn()
        super().load_owned(request, **url_kwargs)

    def finalize_response(self, request, response, *args, **kwargs):
        give_back, self._give_turn_back = self._give_turn_back, None
        if give_back is not None:
            give_back()
        return super().finalize_response(request, response, *args, **kwargs)

    @extend_schema(
        request=GenerationCreateSerializer,
        responses={202: GenerationSerializer, **error_responses(400, 401, 402, 404, 409, 429, 503)},
        summary="Start a generation: build (edit files) or chat (answer only)",
        description=(
            "202: the run is queued; follow it at `events_url`. 429 `builder_busy` means the builder is "
            "starting all it can and nothing was started: send the same request again after `Retry-After` "
            "seconds, plus a random part of as long again, so clients refused together do not come back "
            "together (the studio does so for up to five minutes)."
        ),
    )
    def post(self, request, project_id):
        serializer = GenerationCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        generation = lifecycle.generation_create(
            user_id=request.user.id,
            project=self.project,
            prompt=data["prompt"],
            model_slug=data.get("model"),
            mode=data["mode"],
            max_credits=data.get("max_credits"),
            conversation_id=data.get("conversation"),
            options=data.get("options"),
            apply=data["apply"],
        )
        body = GenerationSerializer(generation).data
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": body["events_url"]})

    @extend_schema(
        parameters=[GenerationListQuerySerializer],
        responses={200: GenerationSerializer(many=True), **error_responses(400, 401, 404, 503)},
        summary="The project's generations, newest first; `?active=true` lists the runs going now",
    )
    def get(self, request, project_id):
        query = GenerationListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        queryset = generations_filter(
            lifecycle.generations_for_project(user_id=request.user.id, project=self.project),
            statuses=query.validated_data.get("status", set()),
            active=query.validated_data.get("active"),
        )
        queryset = OrderingFilter().filter_queryset(request, queryset, self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(GenerationSerializer(page, many=True).data)


class ProjectMessagesView(OwnedProjectView):
    pagination_class = Pagination
    filter_backends = [OrderingFilter]
    ordering_fields = ("created_at",)
    ordering = "created_at"

    @extend_schema(
        responses={200: MessageSerializer(many=True), **error_responses(401, 404, 503)},
        summary="Every message about the project, all conversations, oldest first; each answer with its run",
    )
    def get(self, request, project_id):
        queryset = lifecycle.messages_for_project(user_id=request.user.id, project=self.project)
        queryset = OrderingFilter().filter_queryset(request, queryset, self)
        paginator = self.pagination_class()
        page = paginator.paginate_queryset(queryset, request, view=self)
        messages = MessageSerializer(page, many=True, context={"user_id": request.user.id})
        return paginator.get_paginated_response(messages.data)


class GenerationView(OwnedGenerationView):
    @extend_schema(
        responses={200: GenerationSerializer, **error_responses(401, 404)}, summary="One generation"
    )
    def get(self, request, generation_id):
        return Response(GenerationSerializer(self.generation).data)


class GenerationCancelView(OwnedGenerationView):
    @extend_schema(
        request=None,
        responses={200: GenerationSerializer, **error_responses(401, 404)},
        summary="Cancel: a running generation stops at its next step and pays only for what it used",
    )
    def post(self, request, generation_id):
        generation = lifecycle.generation_cancel(user_id=request.user.id, generation_id=generation_id)
        return Response(GenerationSerializer(generation).data)


class EstimateView(APIView):
    @extend_schema(
        request=EstimateRequestSerializer,
        responses={200: EstimateSerializer, **error_responses(400, 401, 404, 409, 503)},
        summary="Estimate a generation's ceiling before running it",
    )
    def post(self, request):
        serializer = EstimateRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The project comes in the body, so the body is read first; its owner is checked before the model.
        project = peers.project_get(project_id=data["project_id"], owner_id=request.user.id)
        estimate = lifecycle.estimate_for(
            user_id=request.user.id,
            project=project,
            prompt=data["prompt"],
            model_slug=data.get("model"),
            max_credits=data.get("max_credits"),
            conversation_id=data.get("conversation"),
            options=data.get("options"),
        )
        return Response(
            {"model": estimate.model.slug, "input_tokens": estimate.input_tokens, "ceiling": estimate.ceiling}
        )


class GenerationEventsTicketView(OwnedGenerationView):
    @extend_schema(
        request=None,
        responses={201: StreamTicketSerializer, **error_responses(401, 404)},
        summary="A stream ticket: opens this generation's events once, within 60 s, without a header",
        description=(
            "For browsers, whose EventSource cannot send the Authorization header: open `events_url` "
            "(add `&last_event_id=` to resume). A ticket is spent by the first stream it opens; ask for "
            "a new one to reconnect."
        ),
    )
    def post(self, request, generation_id):
        issued = tickets.ticket_create(user_id=request.user.id, generation=self.generation)
        body = StreamTicketSerializer(issued).data
        # A credential: no cache keeps it.
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})


def _last_event_id(request) -> int:
    raw = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id") or "0"
    try:
        return max(0, int(raw))
    except ValueError:
        return 0


async def _stream_caller(request, generation_id: uuid.UUID) -> str:
    """Who opens the stream: the bearer of an access token, or else of a stream ticket for this generation."""
    ticket = request.GET.get("ticket")
    if ticket and "Authorization" not in request.headers:
        return await off_request_thread(tickets.ticket_redeem)(ticket=ticket, generation_id=generation_id)
    result = await off_request_thread(UserJWTAuthentication().authenticate)(request)
    if result is None:
        raise exceptions.NotAuthenticated()
    principal, _ = result
    return principal.id


@extend_schema(
    methods=["GET"],
    parameters=[
        OpenApiParameter("Last-Event-ID", str, OpenApiParameter.HEADER, required=False),
        OpenApiParameter("last_event_id", int, OpenApiParameter.QUERY, required=False),
        OpenApiParameter("ticket", str, OpenApiParameter.QUERY, required=False),
    ],
    responses={200: OpenApiResponse(description="text/event-stream"), **error_responses(401, 404)},
    summary="The generation's events as Server-Sent Events; resumes after Last-Event-ID",
)
async def generation_events(request, generation_id: uuid.UUID):
    if request.method != "GET":
        return error_response(exceptions.MethodNotAllowed(request.method))
    try:
        user_id = await _stream_caller(request, generation_id)
    except exceptions.APIException as exc:
        if exc.status_code == 401:
            # As DRF's views do: a 401 names the scheme that would be accepted.
            exc.auth_header = UserJWTAuthentication().authenticate_header(request)
        return error_response(exc)
    # On the shared executor, not this request's own thread: an open stream then holds no connection.
    exists = await off_request_thread(Generation.objects.filter(pk=generation_id, user_id=user_id).exists)()
    if not exists:
        return error_response(NotFound("No such generation."))
    response = StreamingHttpResponse(
        event_stream(generation_id=str(generation_id), after=_last_event_id(request)),
        content_type="text/event-stream",
    )
    response["Cache-Control"] = "no-cache, no-transform"
    response["X-Accel-Buffering"] = "no"
    return response


class GenerationProposalView(OwnedGenerationView):
    @extend_schema(
        responses={200: ProposalSerializer, **error_responses(401, 404)},
        summary="A reviewed run's proposal: each changed file with its diff against the run's base revision",
    )
    def get(self, request, generation_id):
        proposal = proposals.proposal_get(user_id=request.user.id, generation_id=self.generation.id)
        return Response(ProposalSerializer(proposal).data)


class ProposalAcceptView(OwnedGenerationView):
    @extend_schema(
        request=ProposalAcceptSerializer,
        responses={
            201: ProposalSerializer,
            200: OpenApiResponse(ProposalSerializer, description="Already accepted: the revision it made."),
            **error_responses(400, 401, 404, 409, 410, 503),
        },
        summary="Apply the proposal (all files, or `paths`) as one revision",
        description=(
            "A 409 `stale_base_revision` names the files that changed since the run started: accept the "
            "others (they are applied onto the newer revision), or run again. Accepting twice answers "
            "the same revision."
        ),
    )
    def post(self, request, generation_id):
        serializer = ProposalAcceptSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal, applied = proposals.proposal_accept(
            user_id=request.user.id,
            generation_id=self.generation.id,
            paths=serializer.validated_data.get("paths"),
        )
        return Response(
            ProposalSerializer(proposal).data,
            status=status.HTTP_201_CREATED if applied else status.HTTP_200_OK,
        )


class ProposalDismissView(OwnedGenerationView):
    @extend_schema(
        request=None,
        responses={200: ProposalSerializer, **error_responses(401, 404, 409)},
        summary="Drop a pending proposal (the run stays charged: its work was done)",
    )
    def post(self, request, generation_id):
        proposal = proposals.proposal_dismiss(user_id=request.user.id, generation_id=self.generation.id)
        return Response(ProposalSerializer(proposal).data)
