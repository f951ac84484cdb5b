"""API key endpoints: list, create (the secret shown once), read, rename and delete the caller's keys.

Only a signed-in user manages keys: a request made with an API key is refused here, as
at the gateway.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsSignedIn
from apikeys import keys
from apikeys.serializers import (
    ApiKeyCreatedSerializer,
    ApiKeyCreateSerializer,
    ApiKeySerializer,
    ApiKeyUpdateSerializer,
)
from oasis_common.ordering import OrderingFilter
from oasis_common.ownership import OwnedObjectMixin
from oasis_common.schema import error_responses


class ApiKeyListView(APIView):
    permission_classes = [IsSignedIn]
    filter_backends = [OrderingFilter]
    ordering_fields = ("created_at", "name")
    ordering = "-created_at"

    @extend_schema(
        responses={200: ApiKeySerializer(many=True), **error_responses(401, 403)},
        summary="Your API keys",
    )
    def get(self, request):
        api_keys = OrderingFilter().filter_queryset(request, keys.apikey_list(user_id=request.user.id), self)
        return Response(ApiKeySerializer(api_keys, many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, **error_responses(400, 401, 403, 409)},
        summary="Create an API key with a scope; its secret is in this answer only",
    )
    def post(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = keys.apikey_create(user_id=request.user.id, **serializer.validated_data)
        body = {**ApiKeySerializer(created.key).data, "key": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(OwnedObjectMixin, APIView):
    permission_classes = [IsSignedIn]

    def load_owned(self, request, key_id) -> None:
        self.key = keys.apikey_get(user_id=request.user.id, key_id=key_id)

    @extend_schema(responses={200: ApiKeySerializer, **error_responses(401, 403, 404)}, summary="One API key")
    def get(self, request, key_id):
        return Response(ApiKeySerializer(self.key).data)

    @extend_schema(
        request=ApiKeyUpdateSerializer,
        responses={200: ApiKeySerializer, **error_responses(400, 401, 403, 404)},
        summary="Rename an API key",
    )
    def patch(self, request, key_id):
        serializer = ApiKeyUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        key = keys.apikey_rename(key=self.key, **serializer.validated_data)
        return Response(ApiKeySerializer(key).data)

    @extend_schema(
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 403, 404)},
        summary="Delete an API key; it stops working within seconds",
    )
    def delete(self, request, key_id):
        keys.apikey_delete(key=self.key)
        return Response(status=status.HTTP_204_NO_CONTENT)
