"""Credit endpoints: the caller's balance and ledger, and the internal hold API for other services."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, status
from rest_framework.response import Response
from rest_framework.views import APIView

from credits import holds
from credits.accounts import account_open
from credits.ledger import ledger_entries
from credits.models import LedgerEntry
from credits.serializers import (
    AccountBalanceSerializer,
    BalanceSerializer,
    HoldCaptureSerializer,
    HoldCreateSerializer,
    HoldSerializer,
    LedgerEntrySerializer,
    LedgerQuerySerializer,
)
from oasis_common.authentication import ServiceJWTAuthentication
from oasis_common.idempotency.decorators import idempotent
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.permissions import IsService
from oasis_common.schema import error_responses

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key",
    OpenApiTypes.STR,
    OpenApiParameter.HEADER,
    required=True,
    description="A repeat with the same key and body returns the first answer.",
)


class BalanceView(APIView):
    @extend_schema(responses={200: BalanceSerializer, **error_responses(401)}, summary="Your credit balance")
    def get(self, request):
        return Response(BalanceSerializer(account_open(user_id=request.user.id)).data)


class LedgerView(generics.ListAPIView):
    serializer_class = LedgerEntrySerializer
    ordering_fields = ("created_at", "amount")
    ordering = "-created_at"

    @extend_schema(
        parameters=[LedgerQuerySerializer],
        responses={200: LedgerEntrySerializer(many=True), **error_responses(400, 401, 404)},
        summary="Your ledger, newest first",
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    def get_queryset(self):
        if getattr(self, "swagger_fake_view", False):
            return LedgerEntry.objects.none()
        query = LedgerQuerySerializer(data=self.request.query_params)
        query.is_valid(raise_exception=True)
        account_open(user_id=self.request.user.id)
        return ledger_entries(
            user_id=self.request.user.id,
            kinds=sorted(query.validated_data.get("kind", ())),
            since=query.validated_data.get("since"),
            until=query.validated_data.get("until"),
        )


class InternalView(APIView):
    authentication_classes = [ServiceJWTAuthentication]
    permission_classes = [IsService]


class HoldObjectView(OwnedObjectMixin, InternalView):
    # One hold, named in the URL and owned by the service that placed it: another service's
    # hold is a 404 before the Idempotency-Key or the body is read.
    def load_owned(self, request, *, hold_id) -> None:
        self.hold = holds.hold_get(hold_id=hold_id, service=request.user.service_name)


class AccountBalanceView(InternalView):
    @extend_schema(
        responses={200: AccountBalanceSerializer, **error_responses(401, 403, 404)},
        summary="Internal: a user's credit balance",
        tags=["internal"],
    )
    def get(self, request, user_id):
        account = account_open(user_id=user_id)
        return Response(AccountBalanceSerializer(account).data)


class HoldCollectionView(InternalView):
    @extend_schema(
        request=HoldCreateSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={201: HoldSerializer, **error_responses(400, 401, 402, 403, 422)},
        summary="Internal: reserve credits before work starts",
        tags=["internal"],
    )
    @idempotent
    def post(self, request):
        serializer = HoldCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = holds.hold_create(**serializer.validated_data, service=request.user.service_name)
        return Response(HoldSerializer(hold).data, status=status.HTTP_201_CREATED)


class HoldDetailView(HoldObjectView):
    @extend_schema(
        responses={200: HoldSerializer, **error_responses(401, 403, 404)},
        summary="Internal: one hold placed by the calling service",
        tags=["internal"],
    )
    def get(self, request, hold_id):
        return Response(HoldSerializer(self.hold).data)


class HoldCaptureView(HoldObjectView):
    @extend_schema(
        request=HoldCaptureSerializer,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: HoldSerializer, **error_responses(400, 401, 403, 404, 409, 422)},
        summary="Internal: charge what the work used (at most the hold) and release the rest",
        tags=["internal"],
    )
    @idempotent
    def post(self, request, hold_id):
        serializer = HoldCaptureSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        hold = holds.hold_capture(
            hold_id=hold_id, amount=serializer.validated_data["amount"], service=request.user.service_name
        )
        return Response(HoldSerializer(hold).data)


class HoldReleaseView(HoldObjectView):
    @extend_schema(
        request=None,
        parameters=[IDEMPOTENCY_KEY],
        responses={200: HoldSerializer, **error_responses(400, 401, 403, 404, 409, 422)},
        summary="Internal: release every held credit",
        tags=["internal"],
    )
    @idempotent
    def post(self, request, hold_id):
        hold = holds.hold_release(hold_id=hold_id, service=request.user.service_name)
        return Response(HoldSerializer(hold).data)
