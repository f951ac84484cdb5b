"""API key endpoints: list, create (the secret shown once) and delete the caller's keys."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import APIView

from apikeys import keys
from apikeys.serializers import ApiKeyCreatedSerializer, ApiKeyCreateSerializer, ApiKeySerializer
from oasis_common.schema import error_responses


class ApiKeyListView(APIView):
    @extend_schema(
        responses={200: ApiKeySerializer(many=True), **error_responses(401)},
        summary="Your API keys",
    )
    def get(self, request):
        return Response(ApiKeySerializer(keys.apikey_list(user_id=request.user.id), many=True).data)

    @extend_schema(
        request=ApiKeyCreateSerializer,
        responses={201: ApiKeyCreatedSerializer, **error_responses(400, 401, 409)},
        summary="Create an API key; its secret is in this answer only",
    )
    def post(self, request):
        serializer = ApiKeyCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        created = keys.apikey_create(user_id=request.user.id, **serializer.validated_data)
        body = {**ApiKeySerializer(created.key).data, "key": created.secret}
        return Response(body, status=status.HTTP_201_CREATED)


class ApiKeyDetailView(APIView):
    @extend_schema(
        responses={204: OpenApiResponse(description="Deleted."), **error_responses(401, 404)},
        summary="Delete an API key; it stops working within seconds",
    )
    def delete(self, request, key_id):
        keys.apikey_delete(user_id=request.user.id, key_id=key_id)
        return Response(status=status.HTTP_204_NO_CONTENT)
