"""Purchase endpoints: the packs for sale, Stripe Checkout, and Stripe's webhook."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from oasis_common.ordering import OrderingFilter
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.schema import ErrorSerializer, error_responses
from purchases import checkout, webhooks
from purchases.packs import pack_list
from purchases.serializers import (
    CheckoutCreatedSerializer,
    CheckoutCreateSerializer,
    CheckoutSessionSerializer,
    PackSerializer,
    WebhookReceivedSerializer,
)
from purchases.stripe_api import payments_available

OPTIONAL_IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=False,
    description="Send the same key when retrying to get the same checkout session back.",
)
CHECKOUT_ERRORS = {
    **error_responses(400, 401),
    422: OpenApiResponse(
        ErrorSerializer,
        description="`redirect_not_allowed` (a return URL outside the allowed origins), "
        "`idempotency_key_reused` (the key came with another request) or `payment_declined`.",
    ),
    502: OpenApiResponse(
        ErrorSerializer,
        description="`payment_provider_error`: the payment provider refused the request for good "
        "(a problem on our side, logged for operators). Retrying does not help.",
    ),
    503: OpenApiResponse(
        ErrorSerializer,
        description="`payment_provider_unavailable`: the provider is unreachable, busy or failing; "
        "try again after Retry-After seconds. `payments_unavailable`: buying is not set up here.",
    ),
}
RETRY_AFTER = OpenApiParameter(
    "Retry-After",
    OpenApiTypes.INT,
    OpenApiParameter.HEADER,
    response=[503],
    description="Seconds to wait before trying again; sent with `payment_provider_unavailable`.",
)
STRIPE_SIGNATURE = OpenApiParameter(
    "Stripe-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True
)


class PackListView(APIView):
    filter_backends = [OrderingFilter]
    ordering_fields = ("price", "credits")
    # The packs' own order: the one they are configured in.
    ordering = None

    @extend_schema(
        responses={200: PackSerializer(many=True), **error_responses(401)},
        summary="Credit packs for sale, and whether they can be bought now",
    )
    def get(self, request):
        context = {"purchasable": payments_available()}
        packs = OrderingFilter().filter_queryset(request, pack_list(), self)
        return Response(PackSerializer(packs, many=True, context=context).data)


class CheckoutView(APIView):
    @extend_schema(
        request=CheckoutCreateSerializer,
        parameters=[OPTIONAL_IDEMPOTENCY_KEY, RETRY_AFTER],
        responses={201: CheckoutCreatedSerializer, **CHECKOUT_ERRORS},
        summary="Start buying a credit pack: a Stripe Checkout Session to send the buyer to",
    )
    def post(self, request):
        serializer = CheckoutCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        session = checkout.checkout_create(
            user_id=request.user.id,
            **serializer.validated_data,
            request_key=request.headers.get("Idempotency-Key", "").strip(),
        )
        body = CheckoutCreatedSerializer({"session_id": session.session_id, "url": session.url}).data
        return Response(body, status=status.HTTP_201_CREATED)


class CheckoutDetailView(OwnedObjectMixin, APIView):
    def load_owned(self, request, *, session_id) -> None:
        self.session = checkout.checkout_get(user_id=request.user.id, session_id=session_id)

    @extend_schema(
        responses={200: CheckoutSessionSerializer, **error_responses(401, 404)},
        summary="One of your checkout sessions; its status follows Stripe's webhook",
    )
    def get(self, request, session_id):
        return Response(CheckoutSessionSerializer(self.session).data)


class StripeWebhookView(APIView):
    authentication_classes = []
    permission_classes = [AllowAny]
    # The signature covers the raw bytes; nothing may parse the body first.
    parser_classes = []

    @extend_schema(
        request={"application/json": OpenApiTypes.OBJECT},
        parameters=[STRIPE_SIGNATURE],
        responses={200: WebhookReceivedSerializer, **error_responses(400, 503)},
        auth=[],
        summary="Stripe's webhook (signed by Stripe); credits are granted here and only here",
    )
    def post(self, request):
        processed = webhooks.stripe_event_receive(
            payload=request.body, signature=request.headers.get("Stripe-Signature", "")
        )
        return Response({"received": True, "duplicate": not processed})
